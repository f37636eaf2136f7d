import type { HostSpec } from '../config/cluster.ts';
import { InputError } from '../errors.ts';
import { quote } from '../transport/quote.ts';

/**
 * The system `ssh` sees a cluster as swarmup does: an ssh_config file in the cluster's state folder, one `Host`
 * entry per node (named as the node), with swarmup's own known_hosts (pinned keys, StrictHostKeyChecking yes), the
 * cluster's private key and the bastion as ProxyJump. `ssh -F <that file> NODE` then needs nothing from
 * ~/.ssh/config, and the user's files are never edited. Pure: text in, text out.
 */

export interface SshFiles {
  /** swarmup's known_hosts of the cluster. */
  knownHosts: string;
}

/** ssh_config takes a value with spaces only in double quotes (and no double quote inside). */
function value(v: string | number): string {
  const s = String(v);
  if (/["\n\r]/.test(s)) throw new InputError(`ssh_config: value ${JSON.stringify(s)} cannot be written`);
  return /[\s#]/.test(s) ? `"${s}"` : s;
}

/** A Host name ssh_config accepts for the bastion: no space, no pattern characters. */
export function bastionAlias(address: string, port: number): string {
  return `bastion-${address.replace(/[^A-Za-z0-9.-]/g, '-')}-${port}`;
}

export function sshConfigText(hosts: HostSpec[], files: SshFiles): string {
  const lines = [
    '# Written by swarmup for this cluster (use: ssh -F <this file> NODE). Rewritten on each run.',
  ];
  const common = (h: { privateKey?: string }) => [
    `  UserKnownHostsFile ${value(files.knownHosts)}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  CheckHostIP no',
    // Only the cluster's key (or, with none, the agent's and the user's defaults).
    ...(h.privateKey ? [`  IdentityFile ${value(h.privateKey)}`, '  IdentitiesOnly yes'] : []),
    '  ConnectTimeout 15',
    '  ServerAliveInterval 15',
    '  ServerAliveCountMax 3',
  ];
  const jumps = new Map<string, NonNullable<HostSpec['jump']>>();
  for (const h of hosts) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h.name))
      throw new InputError(`node name "${h.name}" cannot be an ssh_config Host`);
    const jump = h.jump ? bastionAlias(h.jump.address, h.jump.port) : undefined;
    if (h.jump && jump) jumps.set(jump, h.jump);
    lines.push(
      '',
      `Host ${h.name}`,
      `  HostName ${value(h.address)}`,
      `  Port ${h.port}`,
      `  User ${value(h.user)}`,
      // Keys are pinned by node name where swarmup does (node containers: their published port changes).
      ...(h.hostKeyAlias ? [`  HostKeyAlias ${value(h.hostKeyAlias)}`] : []),
      ...(jump ? [`  ProxyJump ${jump}`] : []),
      ...common(h),
    );
  }
  for (const [alias, j] of jumps) {
    lines.push(
      '',
      `Host ${alias}`,
      `  HostName ${value(j.address)}`,
      `  Port ${j.port}`,
      `  User ${value(j.user)}`,
      ...common(j),
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * `swarmup ssh NODE [-- CMD...]`: the system ssh's arguments (after `ssh`). The command's words reach the node as
 * they were given (each one quoted for the remote shell); shell syntax goes through `-- sh -c '...'`. ssh gives a
 * shell a terminal when it has one; `tty` forces one for a command (`-t`).
 */
export function sshArgv(config: string, node: string, command: string[], tty: boolean): string[] {
  return [
    '-F',
    config,
    ...(tty ? ['-t'] : []),
    node,
    ...(command.length ? ['--', command.map((w) => quote(w)).join(' ')] : []),
  ];
}

/**
 * The docker CLI's way in: a local unix socket forwarded by the system ssh to the manager's Docker socket, held by
 * a process of its own (no shell, no command on the node).
 */
export function forwardArgv(config: string, node: string, socket: string, remoteSocket: string): string[] {
  return [
    '-F',
    config,
    '-N',
    '-T',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'StreamLocalBindUnlink=yes',
    '-o',
    'BatchMode=yes',
    '-L',
    `${socket}:${remoteSocket}`,
    node,
  ];
}

/** A unix socket path longer than the kernel's sockaddr_un (108 bytes on Linux, 104 on macOS) cannot be bound. */
export const MAX_SOCKET_PATH = 103;
