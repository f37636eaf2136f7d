import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNode, summaryOf, swarmState, swarmup, tempHome } from '../support/cli.ts';
import { actions, stateOf } from '../support/durable.ts';
import { stopNodeEngine } from '../support/node-engine.ts';

/**
 * Durable clusters (3 of 3): an ssh inventory of node containers whose engines are stopped, a manager whose address
 * moved, an engine its user reaches only through sudo; every case ends in the same swarm, never a second one.
 */
describe('an ssh inventory of node containers: engines stopped, an address moved, an engine behind sudo', () => {
  const home = tempHome();
  const env = { SWARMUP_HOME: home };
  const MACHINES = `e2e-durssh-${process.pid}`;
  const names = ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'];
  const containers = names.map((n) => `${MACHINES}-${n}`);
  const addresses = new Map<string, string>();
  let config = '';
  let clusterId: string | undefined;

  /** The inventory: each node container reached at its own address, port 22; node-1 logs in as ops. */
  const writeInventory = () => {
    config = join(home, 'lab.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'lab',
        provider: 'ssh',
        ssh: { user: 'root', privateKey: join(home, MACHINES, 'id_ed25519') },
        hosts: containers.map((c, i) => ({
          name: `node-${i + 1}`,
          address: addresses.get(c)!,
          role: i < 3 ? 'manager' : 'worker',
          ...(i === 0 ? { user: 'ops' } : {}),
        })),
      }),
    );
  };
  const nodeIds = () => Promise.all(containers.map(async (c) => (await swarmState(c)).nodeId));

  beforeAll(async () => {
    const made = await swarmup(['up', '--until', 'provision', '--name', MACHINES], env);
    expect(made.code, made.stderr).toBe(0);
    for (const c of containers)
      addresses.set(
        c,
        String(
          (
            await execa('docker', [
              'inspect',
              '-f',
              `{{(index .NetworkSettings.Networks "swarmup-${MACHINES}").IPAddress}}`,
              c,
            ])
          ).stdout,
        ).trim(),
      );
    // node-1's user is not root: it reaches the engine through the docker group, and has passwordless sudo.
    await inNode(containers[0]!, [
      'sh',
      '-c',
      'useradd -m -s /bin/sh -G docker ops && mkdir -p /home/ops/.ssh && cp /root/.ssh/authorized_keys /home/ops/.ssh/ && ' +
        'chown -R ops /home/ops/.ssh && echo "ops ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/ops',
    ]);
    writeInventory();
    const up = await swarmup(['up', '--config', config, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    clusterId = (await stateOf(home, 'lab')).clusterId;
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--config', config], env);
    await swarmup(['down', '--yes', '--name', MACHINES], env);
  });

  it('two of three managers engines stopped: up starts them, same swarm, same nodes', async () => {
    const ids = await nodeIds();
    await Promise.all([stopNodeEngine(containers[1]!), stopNodeEngine(containers[2]!)]);
    const up = await swarmup(['up', '--config', config, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(
      actions(up)
        .map((a) => `${String(a.kind)} ${String(a.host)}`)
        .sort(),
    ).toEqual(['engine node-2', 'engine node-3']);
    expect(await nodeIds()).toEqual(ids);
    for (const c of containers.slice(0, 3)) expect((await swarmState(c)).clusterId).toBe(clusterId);
  });

  it('recover on that state starts them and reports quorum back: no new cluster forced', async () => {
    const ids = await nodeIds();
    await Promise.all([stopNodeEngine(containers[1]!), stopNodeEngine(containers[2]!)]);
    const r = await swarmup(['recover', '--config', config, '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'quorum is back after starting node-2, node-3: nothing to recover, no new cluster forced',
    );
    expect(r.stdout).not.toMatch(/force a new cluster/);
    expect(await nodeIds()).toEqual(ids);
    for (const c of containers.slice(0, 3)) expect((await swarmState(c)).clusterId).toBe(clusterId);
  });

  it('a manager whose address moved is named and repaired, one swarm whose every manager agrees', async () => {
    const moved = containers[1]!;
    const was = addresses.get(moved)!;
    const now = was.replace(/\.\d+$/, '.200');
    await execa('docker', ['network', 'disconnect', `swarmup-${MACHINES}`, moved]);
    await execa('docker', ['network', 'connect', '--ip', now, `swarmup-${MACHINES}`, moved]);
    addresses.set(moved, now);
    writeInventory();

    const up = await swarmup(['up', '--config', config, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(actions(up, 'leave')).toEqual([
      expect.objectContaining({ host: 'node-2', reason: `its address moved from ${was} to ${now}` }),
    ]);
    expect(actions(up, 'join')).toEqual([expect.objectContaining({ host: 'node-2', role: 'manager' })]);
    for (const c of containers.slice(0, 3)) expect((await swarmState(c)).clusterId).toBe(clusterId);
    // Never two swarms: every manager lists the same five nodes, all Ready, node-2 at its new address.
    const views = await Promise.all(
      containers
        .slice(0, 3)
        .map((c) =>
          inNode(c, ['docker', 'node', 'ls', '--format', '{{.ID}} {{.Status}}']).then((o) =>
            o.split('\n').sort().join('\n'),
          ),
        ),
    );
    expect(new Set(views).size).toBe(1);
    expect(views[0]!.split('\n').map((l) => l.split(' ')[1])).toEqual(Array(5).fill('Ready'));
    const addr = await inNode(containers[0]!, [
      'docker',
      'node',
      'inspect',
      '-f',
      '{{.ManagerStatus.Addr}}',
      (await swarmState(moved)).nodeId,
    ]);
    expect(addr).toBe(`${now}:2377`);
  });

  it('an engine its user reaches only through sudo: plan demotes and removes nothing, naming why', async () => {
    await inNode(containers[0]!, ['chmod', '600', '/var/run/docker.sock']);
    try {
      const plan = await swarmup(['plan', '--config', config, '--json'], env);
      expect(plan.code).toBe(1);
      expect(plan.events.filter((e) => e.event === 'plan')).toEqual([]);
      expect(plan.stderr).toContain('node-1: its engine');
      expect(plan.stderr).toContain('answers only through sudo: ops cannot open /var/run/docker.sock');
      expect(plan.stderr).toContain('neither joined, demoted nor removed');
      const up = await swarmup(['up', '--config', config, '--json'], env);
      expect(up.code).toBe(1);
      expect(actions(up)).toEqual([]);
    } finally {
      await inNode(containers[0]!, ['chmod', '660', '/var/run/docker.sock']);
    }
  });

  it('swarmup stop stops the engines, the leader last; start starts them, managers first, verified', async () => {
    const ids = await nodeIds();
    const stop = await swarmup(['stop', '--config', config, '--json'], env);
    expect(stop.code, stop.stderr).toBe(0);
    const steps = stop.events.filter((e) => e.event === 'step' && e.status === 'start').map((e) => e.step);
    expect(steps.filter((s) => String(s).startsWith('stop'))).toEqual([
      'stop workers',
      'stop managers',
      'stop the leader',
    ]);
    const status = await swarmup(['status', '--config', config, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'stopped', repair: 'swarmup start' });
    const start = await swarmup(['start', '--config', config, '--json'], env);
    expect(start.code, start.stderr).toBe(0);
    expect(summaryOf(start).ok).toBe(true);
    expect(await nodeIds()).toEqual(ids);
  });
});
