import { provisionAll } from '../../src/providers/provision-all.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { DockerProvider } from '../../src/providers/docker/docker-provider.ts';
import type { Machine } from '../../src/providers/provider.ts';
import { StateStore } from '../../src/state/store.ts';
import { bareNode } from '../support/bare-nodes.ts';
import { allText, inNode, summaryOf, swarmState, swarmup, tempHome, type CliResult } from '../support/cli.ts';
import { unusedAddressOf } from '../support/networks.ts';

/**
 * Engines on fresh machines: three bare Debian machines (sshd, sudo, a non-root user, no Docker) listed in a config
 * file with `engine: { source: distro }`. swarmup installs docker.io over SSH as that user (from the Debian mirror),
 * starts it without systemd, checks the hosts before any swarm change, then bootstraps.
 */
const MACHINES = `e2e-bare-${process.pid}`;
const home = tempHome();
const env = { SWARMUP_HOME: home };
process.env.SWARMUP_HOME = home;
const outputs: CliResult[] = [];
const run = async (...args: string[]) => {
  const r = await swarmup(args, env);
  outputs.push(r);
  return r;
};

let machines: Machine[] = [];
const provider = () =>
  new DockerProvider(
    resolveCluster(undefined, { name: MACHINES, managers: '3', workers: '0' }),
    new StateStore(MACHINES),
    bareNode,
    'deploy',
  );

function config(
  file: string,
  advertise: (m: Machine, i: number) => string = (m) => m.advertiseAddress,
): string {
  const path = join(home, file);
  writeFileSync(
    path,
    stringify({
      name: 'fresh',
      provider: 'ssh',
      engine: { source: 'distro' },
      ssh: { user: 'deploy', privateKey: join(home, MACHINES, 'id_ed25519') },
      hosts: machines.map((m, i) => ({
        name: `bare-${i + 1}`,
        address: m.address,
        port: m.port,
        advertiseAddress: advertise(m, i),
      })),
    }),
  );
  return path;
}

describe('engine install on bare machines, as a non-root user', () => {
  beforeAll(async () => {
    await provider().removeAll(() => undefined);
    machines = (await provisionAll(provider())).machines;
    expect(machines).toHaveLength(3);
  });
  afterAll(async () => {
    await provider().removeAll(() => undefined);
  });

  it('the machines start with no Docker at all', async () => {
    for (const m of machines)
      expect(await inNode(m.name, ['sh', '-c', 'command -v dockerd || echo none'])).toBe('none');
  });

  it('up --until engine installs docker.io on the three hosts in parallel and starts it; deploy can use it', async () => {
    const r = await run('up', '--config', config('fresh.yaml'), '--until', 'engine', '--json');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    // One engine action per host (install, start, docker group), applied in one parallel phase.
    const applied = r.events.filter((e) => e.event === 'action' && e.status === 'ok');
    expect(applied.map((e) => `${e.kind as string}:${e.host as string}`).sort()).toEqual([
      'engine:bare-1',
      'engine:bare-2',
      'engine:bare-3',
    ]);
    expect(summaryOf(r).changes).toBe(3);
    const step = r.events.find(
      (e) => e.event === 'step' && e.step === 'install and start engines' && e.status === 'start',
    );
    expect(step?.hosts).toHaveLength(3);
    for (const m of machines) {
      expect(
        await inNode(m.name, ['su', '-', 'deploy', '-c', "docker info --format '{{.ServerVersion}}'"]),
      ).toMatch(/^20\.10\./);
      expect((await swarmState(m.name)).state).toBe('inactive');
    }
  });

  it('pre-flight: a wrong advertise address and a blocked 2377 are refused before any swarm change', async () => {
    await inNode(machines[0]!.name, [
      'iptables',
      '-I',
      'INPUT',
      '-p',
      'tcp',
      '--dport',
      '2377',
      '-j',
      'DROP',
    ]);
    try {
      // An address of the machines' own network that no host has (tests send packets nowhere else).
      const elsewhere = await unusedAddressOf(`swarmup-${MACHINES}`);
      expect(machines.map((m) => m.advertiseAddress)).not.toContain(elsewhere);
      const bad = config('bad.yaml', (m, i) => (i === 1 ? elsewhere : m.advertiseAddress));
      const r = await run('up', '--config', bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `bare-2: pre-flight (address): advertise address ${elsewhere} is not an address of this host`,
      );
      expect(r.stderr).toMatch(/bare-1: pre-flight \(ports\): 2377\/tcp is not reachable from bare-\d/);
      // The hint names the port, the direction and both hosts.
      expect(r.stderr).toMatch(
        /swarmup: hint: open 2377\/tcp from bare-\d to bare-1 \([\d.]+\) in the firewall or security group/,
      );
      for (const m of machines) expect((await swarmState(m.name)).state).toBe('inactive');
    } finally {
      await inNode(machines[0]!.name, [
        'iptables',
        '-D',
        'INPUT',
        '-p',
        'tcp',
        '--dport',
        '2377',
        '-j',
        'DROP',
      ]);
    }
  });

  it('up then bootstraps and verifies; a re-run changes nothing', async () => {
    const good = config('fresh.yaml');
    const r = await run('up', '--config', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.nodes.filter((n) => n.role === 'manager')).toHaveLength(3);
    const again = await run('up', '--config', good, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
  });

  it('engine install on its own is a no-op on installed hosts; plan has nothing to do', async () => {
    const good = config('fresh.yaml');
    const r = await run('engine', 'install', '--config', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBe(0);
    const p = await run('plan', '--config', good, '--json');
    expect(p.code, p.stderr).toBe(0);
    const plan = p.events.find((e) => e.event === 'plan') as { phases: unknown[] };
    expect(plan.phases).toEqual([]);
  });

  it('a user whose sudo asks for a password gets a clear error naming the host, and nothing changes', async () => {
    const m = machines[2]!;
    await inNode(m.name, ['sh', '-c', 'echo "deploy ALL=(ALL) ALL" > /etc/sudoers.d/deploy']);
    try {
      const path = join(home, 'sudo.yaml');
      writeFileSync(
        path,
        stringify({
          name: 'sudo-check',
          provider: 'ssh',
          // A version that is not installed, so the engine step needs root.
          engine: { source: 'distro', version: '99.9' },
          ssh: { user: 'deploy', privateKey: join(home, MACHINES, 'id_ed25519') },
          hosts: [{ name: 'bare-3', address: m.address, port: m.port, advertiseAddress: m.advertiseAddress }],
        }),
      );
      const r = await run('engine', 'install', '--config', path);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /bare-3: engine: user deploy needs root for "install docker\.io 99\.9.*" but has no passwordless sudo/,
      );
      expect(
        await inNode(m.name, ['su', '-', 'deploy', '-c', "docker info --format '{{.ServerVersion}}'"]),
      ).toMatch(/^20\.10\./);
    } finally {
      await inNode(m.name, ['sh', '-c', 'echo "deploy ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/deploy']);
    }
  });

  it('no join token in any output or state file', async () => {
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await allText(home));
    expect(text).not.toMatch(/SWMTKN-/);
  });
});
