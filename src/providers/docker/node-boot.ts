import { SAVED_COMMAND_LINE } from '../../engine/service.ts';
import { DEFAULT_SUITE, type EngineSuite } from './spec.ts';

/**
 * The command a node container runs as PID 1: install the cluster's public key, start sshd (key auth only) and the
 * node's own Docker engine (unix socket only, in a cgroup of its own), then stay up. Kept here rather than in the
 * image so the image is only packages and changing the boot never needs a rebuild.
 */
export function nodeBootScript(): string {
  return [
    'set -eu',
    // An image of the user's own may lack what a node needs: said in the container's log, and it stops at once.
    'PATH="$PATH:/usr/sbin:/sbin"',
    'for c in sshd ssh-keygen dockerd; do command -v "$c" >/dev/null 2>&1 || { echo "swarmup node: this image has no $c (a node image needs sshd and dockerd)" >&2; exit 2; }; done',
    'mkdir -p /root/.ssh /run/sshd',
    'chmod 700 /root/.ssh',
    'printf "%s\\n" "$SWARMUP_AUTHORIZED_KEY" > /root/.ssh/authorized_keys',
    'chmod 600 /root/.ssh/authorized_keys',
    'ssh-keygen -A >/dev/null',
    '/usr/sbin/sshd -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password',
    // A restarted container keeps /var/run: the pid files of the engine that ran before would stop this one.
    'rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid',
    // The engine's command line is kept where `up` and `start` find it (src/engine/service.ts): an engine that
    // stopped inside a running node is started again exactly as the node starts it.
    `mkdir -p ${SAVED_COMMAND_LINE.replace(/\/[^/]+$/, '')}`,
    `printf '%s\\n' dockerd --cgroup-parent "/swarmup-$SWARMUP_NODE" >${SAVED_COMMAND_LINE}`,
    'dockerd --cgroup-parent "/swarmup-$SWARMUP_NODE" >/var/log/dockerd.log 2>&1 &',
    // `docker stop` (and the host's engine stopping) sends SIGTERM to PID 1: the node's engine is stopped as a
    // machine shutting down would stop it (its raft written and closed), not killed when the grace period ends.
    // The engine is found by its pid file: it may have been restarted since (backup does).
    'stop() {',
    '  p=$(cat /var/run/docker.pid 2>/dev/null || true)',
    '  [ -n "$p" ] && kill -TERM "$p" 2>/dev/null',
    '  i=0; while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done',
    '  exit 0',
    '}',
    'trap stop TERM INT',
    'while :; do sleep 3600 & wait $!; done',
  ].join('\n');
}

/** Packages of the node image: an engine (with its CLI where Debian ships it apart), sshd, and Swarm's networking. */
export function nodePackages(suite: EngineSuite = DEFAULT_SUITE): string[] {
  return [
    'docker.io',
    // Debian's docker.io 26+ (trixie, sid) ships the CLI apart and only recommends it; sid's minimal system no
    // longer has useradd (passwd), which operators and tests expect on a machine.
    ...(suite === 'bookworm' ? [] : ['docker-cli', 'passwd']),
    'openssh-server',
    'iproute2',
    'iptables',
    'procps',
    'mount',
    'ca-certificates',
    'curl',
    'sudo',
  ];
}

/** The image name names its suite and changes whenever the recipe does: an old image is never taken for a new one. */
export function nodeImageName(suite: EngineSuite): string {
  return `swarmup/node:${suite}-${suite === 'bookworm' ? 1 : 2}`;
}

/** The default node image (Debian's current stable). */
export const NODE_IMAGE = nodeImageName(DEFAULT_SUITE);

/** What a node container is made from and runs at boot. */
export interface NodeFlavour {
  image: string;
  /** The Debian suite it is built from; none for an image of the user's own (never built here). */
  suite?: EngineSuite;
  packages: string[];
  bootScript: string;
  /** Its engine starts at boot (the node images; bare machines for the engine tests have none). */
  engine: boolean;
}

/** A node image built from one of Debian's suites: an engine already in it, started at boot. */
export function engineNode(suite: EngineSuite = DEFAULT_SUITE): NodeFlavour {
  return {
    image: nodeImageName(suite),
    suite,
    packages: nodePackages(suite),
    bootScript: nodeBootScript(),
    engine: true,
  };
}

/** An image of the user's own (`--node-image`): run with the same boot script, never built. */
export function customNode(image: string): NodeFlavour {
  return { image, packages: [], bootScript: nodeBootScript(), engine: true };
}

/** Security options when `--privileged` is refused (no CAP_SYS_RESOURCE in the bounding set). */
export const fallbackSecurity = {
  CapAdd: ['ALL'],
  CapDrop: ['SYS_RESOURCE'],
  SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
  // The API form of the CLI's `--security-opt systempaths=unconfined`.
  MaskedPaths: [] as string[],
  ReadonlyPaths: [] as string[],
};

export function nodeDockerfile(packages: string[], suite: EngineSuite = DEFAULT_SUITE): string {
  return [
    `FROM debian:${suite}-slim`,
    'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ' +
      packages.join(' ') +
      ' && rm -rf /var/lib/apt/lists/*',
    'LABEL swarmup.image=node',
    'CMD ["/bin/bash"]',
  ].join('\n');
}
