import { quote } from '../transport/quote.ts';
import { startScript } from './service.ts';
import type { EngineFacts } from './host-facts.ts';
import { releaseOf, unsupportedReason, type OsInfo } from './os.ts';
import { sourceFor, type EngineSource, type EngineWanted } from './source-choice.ts';

export type { EngineSource } from './source-choice.ts';

export interface EngineStep {
  title: string;
  script: string;
  /** Runs as root (directly, or through `sudo -n` for another user). */
  root: boolean;
}

/** What the engine step does on one host: nothing, or a few scripts. Pure data, from facts. */
export interface EngineHostPlan {
  host: string;
  /** Human summary: "present (20.10.24)", "install docker.io from the debian repositories", ... */
  summary: string;
  steps: EngineStep[];
  /** The user was added to the docker group: the SSH connection must be opened again to carry the new group. */
  reconnect: boolean;
  /** Why nothing can be done here; the run stops before any host is changed. */
  problem?: string;
}

/** Retry a command on transient failures (mirrors, networks) with a growing pause. */
const RETRY =
  'retry() { n=0; until "$@"; do n=$((n+1)); [ $n -ge 4 ] && return 1; echo "retrying in $((n*5)) s: $*" >&2; sleep $((n*5)); done; }';
const APT = 'apt-get -q -y -o DPkg::Lock::Timeout=600';

function aptVersionPick(pkg: string, version: string, variable = 'v'): string {
  // The full version string of the newest candidate that starts with the pin (docker-ce's carry an epoch "5:").
  return `${variable}=$(apt-cache madison ${pkg} | awk -v p=${quote(version)} '{gsub(/ /,"",$3)} index($3,p)==1 || index($3,"5:" p)==1 {print $3; exit}'); [ -n "$${variable}" ] || { echo ${quote(`no ${pkg} version ${version}* in the repositories`)} >&2; exit 1; }`;
}

/**
 * Debian's docker.io 26 and later ships the docker CLI apart (docker-cli, only recommended): it is installed with
 * the engine where the distribution has it, so the host has the CLI its users expect.
 */
const SPLIT_CLI = 'cli=; apt-cache show docker-cli >/dev/null 2>&1 && cli=docker-cli';

function aptInstall(os: OsInfo, source: 'docker-ce' | 'distro', version?: string): string {
  const lines = ['set -eu', 'export DEBIAN_FRONTEND=noninteractive', RETRY];
  if (source === 'docker-ce') {
    const repo = `https://download.docker.com/linux/${os.id}`;
    lines.push(
      'retry ' + APT + ' update',
      'retry ' + APT + ' install ca-certificates curl',
      'install -m 0755 -d /etc/apt/keyrings',
      `retry curl -fsSL ${repo}/gpg -o /etc/apt/keyrings/docker.asc`,
      'chmod a+r /etc/apt/keyrings/docker.asc',
      `echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] ${repo} ${os.codename} stable" > /etc/apt/sources.list.d/docker.list`,
      'retry ' + APT + ' update',
    );
    const pkgs = [
      'docker-ce',
      'docker-ce-cli',
      'containerd.io',
      'docker-buildx-plugin',
      'docker-compose-plugin',
    ];
    if (version) {
      lines.push(aptVersionPick('docker-ce', version));
      lines.push(
        `retry ${APT} --allow-downgrades install docker-ce="$v" docker-ce-cli="$v" containerd.io docker-buildx-plugin docker-compose-plugin`,
      );
    } else {
      lines.push(`retry ${APT} install ${pkgs.join(' ')}`);
    }
  } else {
    lines.push('retry ' + APT + ' update', SPLIT_CLI);
    if (version) {
      lines.push(aptVersionPick('docker.io', version));
      lines.push(
        `if [ -n "$cli" ]; then ${aptVersionPick('docker-cli', version, 'cv')}; cli="docker-cli=$cv"; fi`,
      );
      lines.push(`retry ${APT} --allow-downgrades install docker.io="$v" $cli`);
    } else {
      lines.push(`retry ${APT} install docker.io $cli`);
    }
  }
  return lines.join('\n');
}

function dnfInstall(os: OsInfo, source: 'docker-ce' | 'distro', version?: string): string {
  // Which source works on which system is decided by `sourceFor` before this is called.
  const lines = ['set -eu', RETRY];
  if (source === 'distro') {
    lines.push(`retry dnf -y install ${version ? quote(`docker-${version}*`) : 'docker'}`);
    return lines.join('\n');
  }
  lines.push('retry dnf -y install dnf-plugins-core', dnfAddDockerRepo(os.id));
  const pkg = (name: string) => (version ? quote(`${name}-${version}*`) : name);
  lines.push(
    `retry dnf -y install ${pkg('docker-ce')} ${pkg('docker-ce-cli')} containerd.io docker-buildx-plugin docker-compose-plugin`,
  );
  return lines.join('\n');
}

/** Adds Docker's dnf repository for this system (os-release ID): fedora, rhel, else centos (Rocky, Alma, ...). */
export function dnfAddDockerRepo(osId: string): string {
  const repoOs = osId === 'fedora' ? 'fedora' : osId === 'rhel' ? 'rhel' : 'centos';
  const url = `https://download.docker.com/linux/${repoOs}/docker-ce.repo`;
  // dnf 4 and dnf 5 spell this differently.
  return `dnf config-manager --add-repo ${url} || dnf config-manager addrepo --from-repofile=${url}`;
}

function scriptInstall(version: string): string {
  return [
    'set -eu',
    RETRY,
    'retry curl -fsSL https://get.docker.com -o /tmp/swarmup-get-docker.sh',
    `VERSION=${quote(version)} sh /tmp/swarmup-get-docker.sh`,
    'rm -f /tmp/swarmup-get-docker.sh',
  ].join('\n');
}

const describeSource = (f: EngineFacts, source: EngineSource, version?: string): string => {
  const v = version ? ` ${version}` : '';
  switch (source) {
    case 'docker-ce':
      return `docker-ce${v} from Docker's ${f.os.family} repository`;
    case 'distro':
      return `${f.os.family === 'apt' ? 'docker.io' : 'docker'}${v} from the ${f.os.id} ${releaseOf(f.os)} repositories`;
    case 'script':
      return `Docker${v} with get.docker.com`;
    case 'none':
      return 'nothing (engine.source none)';
  }
};

/** Decide what the engine step does on a host. Present and matching: untouched. */
export function planEngine(f: EngineFacts, engine: EngineWanted): EngineHostPlan {
  const plan: EngineHostPlan = { host: f.host, summary: '', steps: [], reconnect: false };
  const refuse = (problem: string): EngineHostPlan => ({ ...plan, summary: 'cannot proceed', problem });

  const installed = f.dockerd || f.serverVersion !== '';
  const version = f.serverVersion || f.dockerdVersion;
  const matches = !engine.version || version.startsWith(engine.version);
  // Up when it answers, or when its process runs (a host with neither the docker CLI nor curl cannot ask it).
  const running = f.serverVersion !== '' || f.dockerdRunning;

  let install: string | undefined;
  let note: string | undefined;
  // The source that works on this system (Amazon Linux: its own package when docker-ce was only the default).
  let source: EngineSource = engine.source;
  if (!installed || !matches) {
    if (engine.source === 'none') {
      return refuse(
        installed
          ? `engine ${version} installed, ${engine.version} wanted, and engine.source is none`
          : 'no Docker engine, and engine.source is none',
      );
    }
    if (installed && engine.source === 'script') {
      return refuse(
        `engine ${version} installed, ${engine.version} wanted: the convenience script is never re-run on an installed host; upgrade it by hand or use engine.source docker-ce`,
      );
    }
    const unsupported = unsupportedReason(f.os);
    if (unsupported) return refuse(unsupported);
    if (engine.source === 'script' && !engine.version)
      return refuse(
        'engine.source script needs engine.version (the script installs whatever is newest otherwise)',
      );
    const choice = sourceFor(f.os, engine);
    if ('problem' in choice) return refuse(choice.problem);
    source = choice.source;
    if (choice.note) note = choice.note;
    if (source === 'script') install = scriptInstall(engine.version!);
    else if (source === 'none') return refuse('no Docker engine, and engine.source is none');
    else if (f.os.family === 'apt') install = aptInstall(f.os, source, engine.version);
    else install = dnfInstall(f.os, source, engine.version);
  }

  const steps: EngineStep[] = [];
  if (install) {
    if (f.cloudInit)
      steps.push({
        title: 'wait for cloud-init',
        script: 'cloud-init status --wait >/dev/null 2>&1 || true',
        root: false,
      });
    steps.push({
      title: `install ${describeSource(f, source, engine.version)}`,
      script: install,
      root: true,
    });
  }
  if (install || !running)
    steps.push({
      title: f.systemd ? 'start the engine (systemd)' : 'start the engine (dockerd)',
      script: startScript(f.systemd),
      root: true,
    });
  if (f.uid !== 0 && !f.inDockerGroup) {
    steps.push({
      title: `add ${f.user} to the docker group`,
      script: `usermod -aG docker ${quote(f.user)}`,
      root: true,
    });
    plan.reconnect = true;
  }
  if (steps.some((s) => s.root) && f.uid !== 0 && f.sudo !== 'nopasswd') {
    return refuse(
      `user ${f.user} needs root for "${steps.find((s) => s.root)!.title}" but has no passwordless sudo (sudo -n asked for a password)`,
    );
  }
  plan.steps = steps;
  plan.summary = install
    ? `install ${describeSource(f, source, engine.version)}${note ? ` (${note})` : ''}`
    : steps.length > 0
      ? steps.map((s) => s.title).join(', ')
      : `present (${version})`;
  return plan;
}

/** The command that runs a step as root for this user. */
export function asRoot(f: Pick<EngineFacts, 'uid'>, script: string): string {
  return f.uid === 0 ? `sh -c ${quote(script)}` : `sudo -n sh -c ${quote(script)}`;
}
