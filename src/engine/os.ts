/** What /etc/os-release says, reduced to what an engine install needs. */
export interface OsInfo {
  id: string; // debian, ubuntu, amzn, rhel, rocky, almalinux, centos, fedora
  versionId: string;
  codename: string;
  prettyName: string;
  /** Package family: how packages are installed. */
  family: 'apt' | 'dnf' | 'unknown';
}

export function parseOsRelease(text: string): OsInfo {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
  }
  const id = (kv.get('ID') ?? '').toLowerCase();
  const like = (kv.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/);
  const family =
    ['debian', 'ubuntu'].includes(id) || like.includes('debian')
      ? 'apt'
      : ['amzn', 'rhel', 'rocky', 'almalinux', 'centos', 'fedora'].includes(id) ||
          like.some((l) => ['rhel', 'fedora', 'centos'].includes(l))
        ? 'dnf'
        : 'unknown';
  return {
    id,
    versionId: kv.get('VERSION_ID') ?? '',
    codename: kv.get('VERSION_CODENAME') ?? kv.get('UBUNTU_CODENAME') ?? '',
    prettyName: kv.get('PRETTY_NAME') ?? id,
    family,
  };
}

/**
 * Debian testing and unstable (sid) carry no VERSION_ID in os-release (their PRETTY_NAME reads "forky/sid"): they
 * are one release, named so.
 */
export const DEBIAN_ROLLING = 'testing/unstable';

/** The release a system is known as here: VERSION_ID, or Debian's rolling one. */
export function releaseOf(os: OsInfo): string {
  return os.id === 'debian' && os.versionId === '' ? DEBIAN_ROLLING : os.versionId;
}

/** The systems swarmup installs engines on, newest last: tested (apt) and planned by design (dnf). */
export const supportedSystems: Array<{ id: string; versions: string[]; tested: boolean }> = [
  { id: 'debian', versions: ['12', '13', DEBIAN_ROLLING], tested: true },
  { id: 'ubuntu', versions: ['22.04', '24.04', '26.04'], tested: true },
  { id: 'amzn', versions: ['2023'], tested: false },
  { id: 'rhel', versions: ['8', '9'], tested: false },
  { id: 'rocky', versions: ['8', '9'], tested: false },
  { id: 'almalinux', versions: ['8', '9'], tested: false },
  { id: 'centos', versions: ['9'], tested: false },
  { id: 'fedora', versions: ['40', '41', '42'], tested: false },
];

/** undefined when supported; else why not, with what was found. */
export function unsupportedReason(os: OsInfo): string | undefined {
  const sys = supportedSystems.find((s) => s.id === os.id);
  const list = supportedSystems.map((s) => `${s.id} ${s.versions.join('/')}`).join(', ');
  if (!sys)
    return `unsupported operating system "${os.prettyName || os.id || 'unknown'}" (supported: ${list})`;
  const release = releaseOf(os);
  const major = release.split('.')[0]!;
  if (!sys.versions.includes(release) && !sys.versions.includes(major)) {
    return (
      `unsupported version ${os.prettyName} (supported ${os.id}: ${sys.versions.join(', ')}; ` +
      `the newest is ${sys.versions.at(-1)})`
    );
  }
  return undefined;
}
