import type { NodeFlavour } from '../../src/providers/docker/node-boot.ts';
import type { EngineSuite } from '../../src/providers/docker/spec.ts';

/**
 * "Bare" machines for the engine tests: Debian (bookworm by default) with sshd, sudo and a non-root user `deploy`
 * with passwordless sudo, and no Docker. Like a fresh VM, except that it is a container of this machine's own
 * engine, so the engine that swarmup installs is told (in /etc/docker/daemon.json, as a machine owner would) to
 * keep its containers in a cgroup of its own.
 */
export function bareNodeOf(suite: EngineSuite): NodeFlavour {
  return {
    image: `swarmup/bare:${suite}-${suite === 'bookworm' ? 1 : 2}`,
    suite,
    engine: false,
    // sid's minimal system has no useradd of its own any more (package passwd).
    packages: [
      'openssh-server',
      'sudo',
      'iproute2',
      'iptables',
      'procps',
      'ca-certificates',
      ...(suite === 'bookworm' ? [] : ['passwd']),
    ],
    bootScript: [
      'set -eu',
      'id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy',
      'echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy',
      'mkdir -p /home/deploy/.ssh /run/sshd /etc/docker',
      'printf "%s\\n" "$SWARMUP_AUTHORIZED_KEY" > /home/deploy/.ssh/authorized_keys',
      'chown -R deploy:deploy /home/deploy/.ssh && chmod 700 /home/deploy/.ssh && chmod 600 /home/deploy/.ssh/authorized_keys',
      'printf \'{"cgroup-parent": "/swarmup-%s"}\\n\' "$SWARMUP_NODE" > /etc/docker/daemon.json',
      'ssh-keygen -A >/dev/null',
      '/usr/sbin/sshd -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no',
      'exec sleep infinity',
    ].join('\n'),
  };
}

/** Bare Debian 12 machines. */
export const bareNode: NodeFlavour = bareNodeOf('bookworm');
