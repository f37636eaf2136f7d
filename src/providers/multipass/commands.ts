import type { MultipassSpec } from '../../config/cluster.ts';

/**
 * The `multipass` command lines swarmup runs, built here (pure) so tests can read them, and what their failures
 * mean. Every call is made with a deadline (cli.ts); `launch` also gets Multipass's own `--timeout`, below it.
 */

/** How long one `launch` may take: boot plus cloud-init (an engine installed from Docker's repository). */
export const LAUNCH_TIMEOUT_S = 600;
/** Slack between Multipass's own launch timeout and ours (it cleans up and says so first). */
export const LAUNCH_SLACK_MS = 60_000;
/** Every other call: list, info, exec, delete. */
export const CALL_TIMEOUT_MS = 120_000;
/** Launches at once: each boots a VM and installs an engine; more only makes them all slower. */
export const LAUNCH_PARALLEL = 4;

/** `multipass launch` of one VM; the cloud-init user data goes on stdin (`--cloud-init -`). */
export function launchArgs(name: string, mp: MultipassSpec, timeoutS = LAUNCH_TIMEOUT_S): string[] {
  return [
    'launch',
    mp.image,
    '--name',
    name,
    '--cpus',
    String(mp.cpus),
    '--memory',
    mp.memory,
    '--disk',
    mp.disk,
    '--cloud-init',
    '-',
    '--timeout',
    String(timeoutS),
  ];
}

export const listArgs = (): string[] => ['list', '--format', 'json'];

export const infoArgs = (names: string[]): string[] => ['info', '--format', 'json', ...names];

export const startArgs = (name: string): string[] => ['start', name];

export const stopArgs = (name: string): string[] => ['stop', name];

/**
 * Delete and purge exactly these VMs. `delete --purge NAME...` and not `delete` then a bare `purge`: a bare purge
 * would also purge every VM the user deleted (and could still recover) that is none of swarmup's.
 */
export const deleteArgs = (names: string[]): string[] => ['delete', '--purge', ...names];

/** The owner marker, read without SSH (works as soon as the VM runs). */
export const readMarkerArgs = (name: string, path: string): string[] => ['exec', name, '--', 'cat', path];

/** How to install Multipass, per OS (process.platform). */
export function installHint(platform: string): string {
  if (platform === 'darwin')
    return 'install it with `brew install --cask multipass` or the package from https://multipass.run/install';
  if (platform === 'win32')
    return 'install it with `winget install Canonical.Multipass` or the installer from https://multipass.run/install';
  return 'install it with `sudo snap install multipass` (https://multipass.run/install)';
}

/** A failed launch in words a user can act on; the output's last lines otherwise. */
export function launchFailure(
  output: string,
  timedOut: boolean,
  mp: MultipassSpec,
  timeoutS = LAUNCH_TIMEOUT_S,
): string {
  const last = output.trim().split('\n').slice(-3).join(' ').trim();
  if (timedOut || /timed out/i.test(output))
    return `timed out after ${timeoutS} s (booting, or cloud-init still installing the engine)${last ? `: ${last}` : ''}`;
  if (
    /cannot allocate memory|not enough memory|insufficient memory|out of memory|failed to allocate/i.test(
      output,
    )
  )
    return `not enough memory for a VM of ${mp.memory} (lower --memory, multipass.memory, or the node count): ${last}`;
  if (/not enough disk|no space left|insufficient disk/i.test(output))
    return `not enough disk for a VM of ${mp.disk} (lower --disk, multipass.disk): ${last}`;
  return last || 'failed with no output';
}
