import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { DockerProvider } from '../../src/providers/docker/docker-provider.ts';
import { ensureNodeImage } from '../../src/providers/docker/node-image.ts';
import { nodeImageName } from '../../src/providers/docker/node-boot.ts';
import type { EngineSuite } from '../../src/providers/docker/spec.ts';
import type { Machine } from '../../src/providers/provider.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { bareNodeOf } from '../support/bare-nodes.ts';
import { inNode, summaryOf, swarmState, swarmup, tempHome } from '../support/cli.ts';
import { stopNodeEngine } from '../support/node-engine.ts';

/**
 * The engines and distributions users run now: bare Debian 13 (trixie) and sid machines get their engine from
 * Debian's packages and make one swarm; with the docker CLI taken away (Debian's docker.io 26+ ships it apart, and
 * minimal installs skip it) backup and an engine restart still work; the docker provider's node images by suite,
 * the default one (trixie) included, and an image of the user's own.
 */
const home = tempHome();
const env = { SWARMUP_HOME: home };
process.env.SWARMUP_HOME = home;

const bare = (name: string, suite: EngineSuite, count: number) =>
  new DockerProvider(
    // The machine names only: 1 "manager" and count - 1 "workers" (roles are the inventory's).
    resolveCluster(undefined, { name, managers: '1', workers: String(count - 1) }),
    new StateStore(name),
    bareNodeOf(suite),
    'deploy',
  );

describe('bare Debian 13 and sid machines: engines from Debian, one swarm; then without the docker CLI', () => {
  const TRIXIE = `e2e-trixie-${process.pid}`;
  const SID = `e2e-sid-${process.pid}`;
  const hosts: Array<{ machine: Machine; key: string }> = [];
  let config = '';

  beforeAll(async () => {
    const docker = new Docker();
    for (const suite of ['trixie', 'sid'] as const)
      await ensureNodeImage(docker, () => undefined, bareNodeOf(suite));
    for (const [name, suite, count] of [
      [TRIXIE, 'trixie', 3],
      [SID, 'sid', 2],
    ] as const) {
      await bare(name, suite, count).removeAll(() => undefined);
      for (const m of (await provisionAll(bare(name, suite, count))).machines)
        hosts.push({ machine: m, key: join(home, name, 'id_ed25519') });
    }
    // One network for all five, as machines of one site: the sid machines join the trixie machines' network too.
    for (const h of hosts.slice(3)) {
      await execa('docker', ['network', 'connect', `swarmup-${TRIXIE}`, h.machine.name]);
      const ip = await execa('docker', [
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "swarmup-${TRIXIE}").IPAddress}}`,
        h.machine.name,
      ]);
      h.machine = { ...h.machine, advertiseAddress: String(ip.stdout).trim() };
    }
    config = join(home, 'debian.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'debian',
        provider: 'ssh',
        engine: { source: 'distro' },
        ssh: { user: 'deploy' },
        hosts: hosts.map(({ machine: m, key }, i) => ({
          name: `deb-${i + 1}`,
          address: m.address,
          port: m.port,
          advertiseAddress: m.advertiseAddress,
          privateKey: key,
          role: i < 3 ? 'manager' : 'worker',
        })),
      }),
    );
  });
  afterAll(async () => {
    // The sid machines first: the trixie machines' network goes with them, once nothing is connected to it.
    await bare(SID, 'sid', 2).removeAll(() => undefined);
    await bare(TRIXIE, 'trixie', 3).removeAll(() => undefined);
  });

  it('up installs docker.io (and docker-cli, shipped apart) on trixie and sid and verifies a 3+2', async () => {
    const r = await swarmup(['up', '--config', config, '--json'], env);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.nodes.map((n) => String(n.engineVersion).split('.')[0])).toEqual(['26', '26', '26', '28', '28']);
    for (const { machine: m } of hosts)
      expect(await inNode(m.name, ['dpkg-query', '-W', '-f', '${Status}', 'docker-cli'])).toBe(
        'install ok installed',
      );
    // Mixed versions work, and status says they differ.
    const status = await swarmup(['status', '--config', config, '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).warnings).toContainEqual(expect.objectContaining({ check: 'version' }));
  });

  it('without the docker CLI: backup, and up after an engine stopped, through a connection opened while it was down', async () => {
    const before = await swarmState(hosts[0]!.machine.name);
    for (const { machine: m } of hosts) await inNode(m.name, ['dpkg', '-r', 'docker-cli']);
    expect(await inNode(hosts[0]!.machine.name, ['sh', '-c', 'command -v docker || echo none'])).toBe('none');

    const backup = await swarmup(['backup', '--config', config, '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.events.find((e) => e.event === 'backup')).toMatchObject({ bytes: expect.any(Number) });

    const manager = hosts[1]!.machine.name;
    await stopNodeEngine(manager);
    const up = await swarmup(['up', '--config', config, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(up.events.filter((e) => e.event === 'action' && e.status === 'ok')).toEqual([
      expect.objectContaining({ kind: 'engine', host: 'deb-2', steps: ['start the engine (dockerd)'] }),
    ]);
    // The same swarm (the nodes have no CLI to ask now: swarmup's record of it, and its five nodes all there).
    expect(summaryOf(up).nodes).toHaveLength(5);
    const recorded = JSON.parse(
      await execa('cat', [join(home, 'debian', 'state.json')]).then((r) => r.stdout),
    );
    expect(recorded.clusterId).toBe(before.clusterId);
  });
});

describe('docker provider: node images by suite, and one of your own', () => {
  const run = (args: string[], extra: Record<string, string> = {}) =>
    swarmup([...args, '--managers', '1', '--workers', '0', '--json'], { ...env, ...extra });
  const engineOf = (r: Awaited<ReturnType<typeof run>>) => String(summaryOf(r).nodes[0]?.engineVersion);
  const names: string[] = [];
  const named = (n: string) => (names.push(n), n);
  afterAll(async () => {
    for (const n of names) await swarmup(['down', '--yes', '--name', n], env);
  });

  it('no suite asked: the node image is built from trixie (Debian 13, Docker 26.1); --engine-suite sid gives 28.5', async () => {
    // The default as a user meets it: no SWARMUP_ENGINE_SUITE from the test project.
    const def = await run(['up', '--name', named(`e2e-img-def-${process.pid}`)], {
      SWARMUP_ENGINE_SUITE: '',
    });
    expect(def.code, def.stderr).toBe(0);
    expect(engineOf(def)).toMatch(/^26\.1\./);
    const sid = await run(['up', '--name', named(`e2e-img-sid-${process.pid}`), '--engine-suite', 'sid']);
    expect(sid.code, sid.stderr).toBe(0);
    expect(engineOf(sid)).toMatch(/^28\.5\./);
  });

  it('--node-image runs an image the user built (any with sshd and dockerd); one without dockerd fails at once, naming it', async () => {
    const dir = join(home, 'mine');
    await execa('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${nodeImageName('bookworm')}\nLABEL org.example.mine=yes\n`);
    await execa('docker', ['build', '-q', '-t', `e2e-mine:${process.pid}`, dir]);
    try {
      const mine = await run([
        'up',
        '--name',
        named(`e2e-img-mine-${process.pid}`),
        '--node-image',
        `e2e-mine:${process.pid}`,
      ]);
      expect(mine.code, mine.stderr).toBe(0);
      expect(engineOf(mine)).toMatch(/^20\.10\./);

      const t0 = Date.now();
      const bad = await run([
        'up',
        '--name',
        named(`e2e-img-bad-${process.pid}`),
        '--node-image',
        'swarmup/bare:bookworm-1',
      ]);
      expect(bad.code).not.toBe(0);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(bad.stderr).toContain('boot node container: it stops as soon as it boots');
      expect(bad.stderr).toContain('this image has no dockerd (a node image needs sshd and dockerd)');
    } finally {
      await execa('docker', ['image', 'rm', '-f', `e2e-mine:${process.pid}`], { reject: false });
    }
  });
});
