/**
 * Is a host still booting or installing? cloud-init's user data (an engine installed at boot) and package managers
 * (unattended upgrades, an apt run of the user's own) leave a host half-installed for a while: dockerd may exist
 * before the package's post-install has made the `docker` group or started the service. The shell fragments here
 * only read; the parsers are pure.
 */

/** Process names of package managers, as /proc/PID/comm spells them (cut to 15 characters). */
export const PACKAGE_MANAGERS = [
  'dpkg',
  'apt',
  'apt-get',
  'unattended-upgr',
  'unattended-upgrade',
  'dnf',
  'yum',
  'rpm',
];

/**
 * Sets `pm` to the names of running package-manager processes, space-separated. Plain sh over /proc (procps may be
 * absent); the shell running it, and zombies, are skipped.
 */
export const packageManagerScan = [
  'pm=',
  'for c in /proc/[0-9]*/comm; do',
  '  [ "$c" = "/proc/$$/comm" ] && continue',
  '  n=; read -r n 2>/dev/null <"$c" || continue',
  `  case "$n" in ${PACKAGE_MANAGERS.join('|')}) ;; *) continue ;; esac`,
  // A zombie (exited, not yet reaped: no init reaps in some containers) is not at work.
  '  s=; while read -r k s _; do [ "$k" = State: ] && break; done 2>/dev/null <"${c%comm}status"',
  '  [ "$s" = Z ] || pm="$pm $n"',
  'done',
].join('\n');

/** Lines for the facts script: `cloudinitstatus=<status>` (when cloud-init exists) and `pkgbusy=<names>`. */
export const bootFactsScript = [
  `if command -v cloud-init >/dev/null 2>&1; then echo "cloudinitstatus=$(timeout 20 cloud-init status 2>/dev/null | sed -n 's/^status: *//p' | head -n 1)"; fi`,
  `{ ${packageManagerScan}\n} 2>/dev/null`,
  'echo "pkgbusy=$pm"',
].join('\n');

/** What the facts script tells of boot. */
export interface BootState {
  /** cloud-init's status word ("running", "done", ...); '' when cloud-init is absent or said nothing. */
  cloudInitStatus: string;
  /** Package-manager processes running, each name once. */
  packageManagers: string[];
}

export function parseBootState(kv: Map<string, string>): BootState {
  return {
    cloudInitStatus: (kv.get('cloudinitstatus') ?? '').trim().toLowerCase(),
    packageManagers: [...new Set((kv.get('pkgbusy') ?? '').split(/\s+/).filter(Boolean))],
  };
}

/**
 * cloud-init is still at work: running (or "degraded running"), or not yet started in this boot ("not run", older
 * releases "not started"). Done, error, degraded done and disabled are settled.
 */
export function cloudInitBusy(status: string): boolean {
  const s = status.trim().toLowerCase();
  return s.includes('running') || s === 'not run' || s === 'not started';
}

/** Why a host must be waited for, as the step that waits and what is still at work; undefined once settled. */
export type BootWait =
  { step: 'wait for cloud-init'; what: string } | { step: 'wait for the package manager'; what: string };

export function bootWait(b: BootState): BootWait | undefined {
  if (cloudInitBusy(b.cloudInitStatus))
    return { step: 'wait for cloud-init', what: `cloud-init (status: ${b.cloudInitStatus})` };
  if (b.packageManagers.length > 0)
    return { step: 'wait for the package manager', what: b.packageManagers.join(', ') };
  return undefined;
}

/** The deadline of the whole wait, in seconds: SWARMUP_BOOT_WAIT_S when it is a positive number, else 15 min. */
export function bootWaitSeconds(env: string | undefined): number {
  const n = Number(env);
  return env !== undefined && env.trim() !== '' && Number.isFinite(n) && n > 0 ? n : 900;
}

/** One bounded command: block until cloud-init finishes, at most `seconds`. Its result is read afterwards. */
export function cloudInitWaitScript(seconds: number): string {
  return `timeout ${Math.max(1, Math.ceil(seconds))} cloud-init status --wait >/dev/null 2>&1 || true`;
}

/**
 * One bounded command: check for package managers about once a second until none is seen twice in a row (apt's
 * runs follow each other with short gaps), at most `seconds`.
 */
export function packageManagerWaitScript(seconds: number): string {
  return [
    `end=$(( $(date +%s) + ${Math.max(1, Math.ceil(seconds))} )); idle=0`,
    'while :; do',
    `  { ${packageManagerScan}\n  } 2>/dev/null`,
    '  if [ -z "$pm" ]; then idle=$((idle+1)); else idle=0; fi',
    '  [ $idle -ge 2 ] && break',
    '  [ "$(date +%s)" -ge "$end" ] && break',
    '  sleep 1',
    'done',
  ].join('\n');
}
