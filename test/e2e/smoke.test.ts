import { resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, inNode, summaryOf, swarmup, type CliResult } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { startNodeEngine, stopNodeEngine, waitSwarmState } from '../support/node-engine.ts';
import { killSmokeOnceItsServiceRuns, smokeServices } from '../support/smoke-kill.ts';
import { testSuite } from '../support/suite.ts';

/**
 * `verify --smoke` on real engines in node containers (3 managers + 2 workers, one cluster for every case): the
 * data plane works, a node whose VXLAN traffic is dropped is named with its pairs, Ctrl-C still cleans up, and
 * nothing of the smoke test is left on any node's engine.
 */
const { name: NAME, env } = clusterFixture('e2e-smoke');
const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');
const NODES = ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'].map((n) => `${NAME}-${n}`);
const CUT = `${NAME}-worker-2`;
const VXLAN_RULES = ['INPUT', 'OUTPUT'].map((chain) => [chain, '-p', 'udp', '--dport', '4789', '-j', 'DROP']);

const smokeEvent = (r: CliResult) => {
  const e = r.events.find((x) => x.event === 'smoke');
  if (!e) throw new Error(`no smoke event (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  return e as {
    ok: boolean;
    overlay: { checked: number; failed: number };
    published: { checked: number; failed: number };
    failures: Array<{ from: string; to: string; via: string; error: string }>;
    problems: string[];
  };
};

/** What the smoke test could have left, read by the test itself on every node's engine. */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  for (const node of NODES) {
    const sh = (cmd: string) => inNode(node, ['sh', '-c', cmd]);
    const services = node.includes('manager')
      ? await sh('docker service ls -q --filter label=swarmup.smoke')
      : '';
    const networks = await sh(
      'docker network ls --format "{{.Name}}" | grep swarmup-smoke; docker network ls -q --filter label=swarmup.smoke',
    );
    const images = await sh(
      'docker images -q --filter label=swarmup.smoke; docker images -q --filter reference="swarmup/smoke"',
    );
    const containers = await sh('docker ps -aq --filter label=swarmup.smoke');
    for (const [what, out] of Object.entries({ services, networks, images, containers }))
      if (out.trim()) found.push(`${node}: ${what}: ${out.trim().split('\n').join(' ')}`);
  }
  return found;
}

/** Turn on the containerd image store in a node's engine (daemon.json) and start it again as it ran. */
async function useContainerdStore(node: string): Promise<void> {
  await stopNodeEngine(node);
  await inNode(node, [
    'sh',
    '-c',
    'mkdir -p /etc/docker && echo \'{"features":{"containerd-snapshotter":true}}\' >/etc/docker/daemon.json',
  ]);
  await startNodeEngine(node);
  await waitSwarmState(node, 'inactive'); // machines only (up --until provision): no swarm yet
  const driver = await inNode(node, ['docker', 'info', '--format', '{{json .DriverStatus}}']);
  expect(driver).toContain('io.containerd.snapshotter.v1');
}

describe('verify --smoke: the data plane, proven across nodes', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
    if (testSuite() === 'sid') {
      // The newest engine with the containerd image store, the default of fresh Docker 29 installs, on every node:
      // the probe image is named there by another ID than on the classic store.
      const made = await swarmup(['up', '--until', 'provision', '--name', NAME], env);
      expect(made.code, made.stderr).toBe(0);
      await Promise.all(NODES.map(useContainerdStore));
    }
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).nodes).toHaveLength(5);
  });
  afterAll(async () => {
    for (const rule of VXLAN_RULES)
      await execa('docker', ['exec', CUT, 'iptables', '-D', ...rule], { reject: false });
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('on a healthy 3+2 cluster: every task reaches every other over the overlay, every published port answers, nothing is left', async () => {
    const r = await swarmup(['verify', '--smoke', '--name', NAME, '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const s = smokeEvent(r);
    expect(s.ok).toBe(true);
    expect(s.overlay).toEqual({ checked: 20, failed: 0 }); // 5 tasks, each to the 4 others
    expect(s.published).toEqual({ checked: 5, failed: 0 });
    expect(summaryOf(r).ok).toBe(true);
    expect(await leftovers()).toEqual([]);
  });

  it('up --smoke runs the smoke test after its own verification (human output)', async () => {
    const r = await swarmup(['up', '--smoke', '--name', NAME], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /smoke: overlay 20\/20 connections answered; published port \d+\/tcp answered on 5\/5 nodes/,
    );
    expect(r.stdout).toMatch(/verified; 0 changes/);
    expect(await leftovers()).toEqual([]);
  });

  it('with 4789/udp dropped in one node (every node still Ready): exit 1, naming that node, its pairs and the port', async () => {
    for (const rule of VXLAN_RULES) await inNode(CUT, ['iptables', '-A', ...rule]);
    try {
      // docker node ls sees nothing wrong: gossip and raft do not use 4789.
      const status = await swarmup(['verify', '--name', NAME, '--json'], env);
      expect(status.code, status.stderr).toBe(0);

      const r = await swarmup(['verify', '--smoke', '--name', NAME, '--json'], env);
      expect(r.code, r.stdout).toBe(1);
      const s = smokeEvent(r);
      expect(s.ok).toBe(false);
      // Every connection to or from the cut node failed, every other one answered.
      expect(s.overlay, JSON.stringify(s.failures)).toEqual({ checked: 20, failed: 8 });
      for (const f of s.failures) {
        expect(f.via).toBe('overlay');
        expect([f.from, f.to]).toContain(CUT);
      }
      const others = NODES.filter((n) => n !== CUT);
      expect(new Set(s.failures.map((f) => (f.from === CUT ? f.to : f.from)))).toEqual(new Set(others));
      expect(s.published).toEqual({ checked: 5, failed: 0 });
      expect(s.problems).toHaveLength(1);
      expect(s.problems[0]).toContain(`overlay: ${CUT} cannot talk to ${others.join(', ')}`);
      for (const o of others) expect(s.problems[0]).toContain(`${CUT}↔${o}`);
      expect(s.problems[0]).toMatch(/4789\/udp \(VXLAN\) or 7946\/tcp\+udp \(gossip\) is likely blocked at/);
      expect((summaryOf(r) as { problems?: string[] }).problems?.join('\n')).toContain(
        `smoke: overlay: ${CUT} cannot talk`,
      );
      expect(await leftovers()).toEqual([]);
    } finally {
      for (const rule of VXLAN_RULES) await inNode(CUT, ['iptables', '-D', ...rule]);
    }
  });

  it('a smoke test killed hard (SIGKILL) leaves its service publishing a port on every node: up removes it, as a planned step', async () => {
    const manager = `${NAME}-manager-1`;
    const service = await killSmokeOnceItsServiceRuns(['verify', '--smoke', '--name', NAME], env, manager);
    // What the kill left: the global service, its host-mode port published on every node.
    const spec = JSON.parse(
      await inNode(manager, ['docker', 'service', 'inspect', '--format', '{{json .Spec}}', service]),
    ) as { Mode: { Global?: unknown }; EndpointSpec?: { Ports?: Array<{ PublishMode?: string }> } };
    expect(spec.Mode.Global).toBeDefined();
    expect(spec.EndpointSpec?.Ports?.[0]?.PublishMode).toBe('host');

    const r = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.events.find((e) => e.event === 'plan') as {
      phases: Array<{ title: string; actions: Array<{ kind: string; description: string }> }>;
    };
    const step = plan.phases.find((p) => p.title === 'remove smoke test leftovers');
    expect(step?.actions[0]?.kind).toBe('remove-smoke');
    expect(step?.actions[0]?.description).toContain(`service ${service}`);
    expect(r.events.some((e) => e.event === 'action' && e.kind === 'remove-smoke' && e.status === 'ok')).toBe(
      true,
    );
    expect(summaryOf(r).ok).toBe(true);
    expect(await smokeServices(manager)).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('Ctrl-C while the smoke service runs: it is removed anyway, exit 130', async () => {
    const child = execa('node', [BIN, 'verify', '--smoke', '--name', NAME, '--json'], {
      env: childEnv(env),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 300_000,
    });
    let stdout = '';
    let sent = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && stdout.includes('"message":"smoke: service swarmup-smoke-')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(sent, stdout).toBe(true);
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(stdout).toMatch(
      /"message":"smoke: removed service swarmup-smoke-[0-9a-f]+, .*network swarmup-smoke-/,
    );
    expect(await leftovers()).toEqual([]);
  });
});
