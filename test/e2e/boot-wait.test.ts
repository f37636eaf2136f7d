import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { DockerProvider } from '../../src/providers/docker/docker-provider.ts';
import { nodePackages, type NodeFlavour } from '../../src/providers/docker/node-boot.ts';
import { testNodeImage, testSuite } from '../support/suite.ts';
import type { Machine } from '../../src/providers/provider.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { inNode, summaryOf, swarmup, tempHome, type CliResult } from '../support/cli.ts';

/**
 * The engine step does not race a boot-time install. Each machine stands in for a fresh cloud VM whose user data
 * installs Docker: docker.io's files are there (`dockerd` exists) but its post-install has not run yet, so there is
 * no `docker` group and no engine. A stand-in `cloud-init` (the real one does not run in a container) reports
 * "status: running" while a marker file exists, and `status --wait` blocks until it is gone; a background job
 * finishes the install a few seconds later, as docker.io's post-install would (the group, then the engine), and
 * removes the marker. Without the wait, swarmup reads `dockerd=yes` and no engine, and its
 * `usermod -aG docker deploy` fails for want of the group.
 *
 * The machines are the suite's node image (no new image) with a boot script of their own: a non-root `deploy`
 * with passwordless sudo, sshd, and no engine started.
 */
const MACHINES = `e2e-boot-${process.pid}`;
const home = tempHome();
const env = { SWARMUP_HOME: home };
process.env.SWARMUP_HOME = home;
const MARKER = '/run/stand-in-cloud-init.running';
const STAND_IN = '/usr/local/lib/stand-in';

/** Stand-in for cloud-init: only `status` and `status --wait`, driven by the marker file. */
const standInCloudInit = [
  '#!/bin/sh',
  '# stand-in cloud-init: "running" while the marker exists',
  '[ "${1:-}" = status ] || { echo "stand-in cloud-init: only status" >&2; exit 1; }',
  `if [ "\${2:-}" = --wait ]; then while [ -e ${MARKER} ]; do printf .; sleep 0.5; done; echo; fi`,
  `if [ -e ${MARKER} ]; then echo "status: running"; else echo "status: done"; fi`,
].join('\n');

/** Stand-in for docker.io's post-install: after $1 s, the docker group, then the engine started. */
const finishInstall = [
  '#!/bin/sh',
  'sleep "$1"',
  'groupadd --system docker',
  'rm -f /var/run/docker.pid',
  'setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &',
  'i=0; until docker info >/dev/null 2>&1 || [ $i -ge 120 ]; do i=$((i+1)); sleep 0.25; done',
].join('\n');

const bootingNode: NodeFlavour = {
  image: testNodeImage(),
  suite: testSuite(),
  engine: false,
  packages: nodePackages(testSuite()),
  bootScript: [
    'set -eu',
    // docker.io is in the image; its post-install "has not run yet".
    'groupdel docker 2>/dev/null || true',
    'id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy',
    'echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy',
    'mkdir -p /home/deploy/.ssh /run/sshd /etc/docker ' + STAND_IN,
    'printf "%s\\n" "$SWARMUP_AUTHORIZED_KEY" > /home/deploy/.ssh/authorized_keys',
    'chown -R deploy:deploy /home/deploy/.ssh && chmod 700 /home/deploy/.ssh && chmod 600 /home/deploy/.ssh/authorized_keys',
    'printf \'{"cgroup-parent": "/swarmup-%s"}\\n\' "$SWARMUP_NODE" > /etc/docker/daemon.json',
    `cat > /usr/local/bin/cloud-init <<'EOF'\n${standInCloudInit}\nEOF`,
    `cat > ${STAND_IN}/finish-install <<'EOF'\n${finishInstall}\nEOF`,
    // The same post-install, run by a process named dpkg (as a real one is, while dpkg configures the package).
    `cp ${STAND_IN}/finish-install ${STAND_IN}/dpkg`,
    `chmod 755 /usr/local/bin/cloud-init ${STAND_IN}/finish-install ${STAND_IN}/dpkg`,
    'ssh-keygen -A >/dev/null',
    '/usr/sbin/sshd -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no',
    'exec sleep infinity',
  ].join('\n'),
};

let machines: Machine[] = [];
const provider = () =>
  new DockerProvider(
    resolveCluster(undefined, { name: MACHINES, managers: '3', workers: '0' }),
    new StateStore(MACHINES),
    bootingNode,
    'deploy',
  );

function config(m: Machine, name: string): string {
  const path = join(home, `${name}.yaml`);
  writeFileSync(
    path,
    stringify({
      name,
      provider: 'ssh',
      engine: { source: 'distro' },
      ssh: { user: 'deploy', privateKey: join(home, MACHINES, 'id_ed25519') },
      hosts: [{ name, address: m.address, port: m.port, advertiseAddress: m.advertiseAddress }],
    }),
  );
  return path;
}

async function timed(args: string[], extra: Record<string, string> = {}) {
  const t = Date.now();
  const r: CliResult = await swarmup(args, { ...env, ...extra });
  return { r, ms: Date.now() - t };
}

const waitLogs = (r: CliResult) =>
  r.events.filter((e) => e.event === 'log').map((e) => `${e.host as string}: ${e.message as string}`);

/** What `deploy` sees of the engine and its groups. */
async function deployView(container: string) {
  return {
    groups: await inNode(container, ['id', '-nG', 'deploy']),
    engine: await inNode(container, [
      'su',
      '-',
      'deploy',
      '-c',
      "docker info --format '{{.ServerVersion}}' 2>&1 || true",
    ]),
  };
}

describe('the engine step waits for a host still installing at boot', () => {
  beforeAll(async () => {
    await provider().removeAll(() => undefined);
    machines = (await provisionAll(provider())).machines;
    expect(machines).toHaveLength(3);
  });
  afterAll(async () => {
    await provider().removeAll(() => undefined);
  });

  it('cloud-init running: waits for it, then adds deploy to the new docker group; the engine answers', async () => {
    const m = machines[0]!;
    expect(
      await inNode(m.name, ['sh', '-c', 'command -v dockerd; getent group docker || echo no-group']),
    ).toBe('/usr/sbin/dockerd\nno-group');
    const DELAY = 8;
    await inNode(m.name, ['touch', MARKER]);
    await inNode(m.name, [
      'sh',
      '-c',
      `setsid sh -c '${STAND_IN}/finish-install ${DELAY} && rm -f ${MARKER}' >/dev/null 2>&1 </dev/null &`,
    ]);
    expect(await inNode(m.name, ['su', '-', 'deploy', '-c', 'cloud-init status'])).toBe('status: running');

    const { r, ms } = await timed(['engine', 'install', '--config', config(m, 'booting'), '--json']);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(ms).toBeGreaterThanOrEqual((DELAY - 1) * 1000);
    const step = r.events.find(
      (e) =>
        e.event === 'step' && e.step === 'wait for cloud-init and package managers' && e.status === 'start',
    );
    expect(step?.hosts).toEqual(['booting']);
    expect(waitLogs(r)).toContainEqual(
      expect.stringMatching(/^booting: wait for cloud-init: cloud-init \(status: running\) is still at work/),
    );
    expect(waitLogs(r)).toContainEqual(expect.stringMatching(/^booting: settled after \d+ s/));
    // Planned from the settled host: the install started the engine; only deploy's group was left to do.
    expect(summaryOf(r).changes).toBe(1);
    const view = await deployView(m.name);
    expect(view.groups.split(' ')).toContain('docker');
    expect(view.engine).toMatch(/^20\.10\./);
  });

  it('dpkg still configuring docker.io: waits for the package manager, naming it', async () => {
    // Once it ends, the stand-in dpkg stays a zombie (the container's PID 1 reaps nothing): it must not count.
    const m = machines[1]!;
    const DELAY = 6;
    await inNode(m.name, [
      'sh',
      '-c',
      `setsid ${STAND_IN}/dpkg ${DELAY} >/dev/null 2>&1 </dev/null &\n` +
        'for i in $(seq 1 50); do pgrep -x dpkg >/dev/null && exit 0; sleep 0.1; done; exit 1',
    ]);
    const { r, ms } = await timed(['engine', 'install', '--config', config(m, 'upgrading'), '--json']);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(ms).toBeGreaterThanOrEqual((DELAY - 1) * 1000);
    expect(waitLogs(r)).toContainEqual(
      expect.stringMatching(/^upgrading: wait for the package manager: dpkg is still at work/),
    );
    const view = await deployView(m.name);
    expect(view.groups.split(' ')).toContain('docker');
    expect(view.engine).toMatch(/^20\.10\./);
  });

  it('a host that never settles: a clear error at the deadline naming host, wait and cause; nothing changed', async () => {
    const m = machines[2]!;
    await inNode(m.name, ['touch', MARKER]);
    try {
      const { r, ms } = await timed(['engine', 'install', '--config', config(m, 'stuck')], {
        SWARMUP_BOOT_WAIT_S: '3',
      });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /stuck: wait for cloud-init: cloud-init \(status: running\) still running after \d+ s \(the deadline/,
      );
      expect(ms).toBeGreaterThanOrEqual(3000);
      expect(await inNode(m.name, ['sh', '-c', 'getent group docker || echo no-group'])).toBe('no-group');
    } finally {
      await inNode(m.name, ['rm', '-f', MARKER]);
    }
  });
});
