import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureEvents, inNode, summaryOf, swarmState, swarmup, tempHome } from '../support/cli.ts';
import { actions, stateOf } from '../support/durable.ts';
import { startNodeEngine, stopNodeEngine, waitSwarmState } from '../support/node-engine.ts';

/**
 * Durable clusters (2 of 2): node containers stopped by hand or by `swarmup stop`, two of three managers stopped, a
 * manager whose engine restarted still finding the others; then an ssh inventory of node containers whose engines
 * are stopped, a manager whose address moved, an engine behind sudo. One file, so the two clusters' restarts never
 * run side by side on the same engine (with them in two files, two of three managers restarted once got no leader).
 */
describe('docker provider: machines stopped by hand, by swarmup stop, two of three managers', () => {
  const home = tempHome();
  const env = { SWARMUP_HOME: home };
  const NAME = `e2e-stop-${process.pid}`;
  const all = ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'].map((n) => `${NAME}-${n}`);
  let clusterId: string | undefined;

  beforeAll(async () => {
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    clusterId = (await stateOf(home, NAME)).clusterId;
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('docker stop of every node container: status says stopped; up starts them, same swarm, in under 30 s', async () => {
    await execa('docker', ['stop', ...all]);
    const status = await swarmup(['status', '--name', NAME], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`${NAME}-manager-1 +stopped`));
    expect(status.stdout).toContain(`${NAME}: stopped (5 machines)`);
    expect(status.stdout).toContain('to repair it: swarmup start');
    expect(status.stderr + status.stdout).not.toMatch(/swarmup down|gone with their data/);

    const t0 = Date.now();
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    const took = (Date.now() - t0) / 1000;
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(took).toBeLessThan(30);
    expect(
      actions(up, 'start-machine')
        .map((a) => a.host)
        .sort(),
    ).toEqual(all);
    expect(up.events).toContainEqual(expect.objectContaining({ event: 'plan', deferred: all.slice() }));
    expect(actions(up).filter((a) => a.kind !== 'start-machine')).toEqual([]);
    for (const c of all.slice(0, 3)) expect((await swarmState(c)).clusterId).toBe(clusterId);
  });

  it('swarmup stop, then start: ls and status show it stopped; start ends verified in the same swarm', async () => {
    const ids = await Promise.all(all.map(async (c) => (await swarmState(c)).nodeId));
    const stop = await swarmup(['stop', '--name', NAME, '--json'], env);
    expect(stop.code, stop.stderr).toBe(0);
    const states = await execa('docker', ['inspect', '-f', '{{.State.Running}}', ...all]);
    expect(String(states.stdout).split('\n')).toEqual(all.map(() => 'false'));
    const ls = await swarmup(['ls', '--json'], env);
    expect(ls.events.find((e) => e.cluster === NAME)).toMatchObject({ stoppedAt: expect.any(String) });
    const status = await swarmup(['status', '--name', NAME, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'stopped', repair: 'swarmup start' });

    const start = await swarmup(['start', '--name', NAME, '--json'], env);
    expect(start.code, start.stderr).toBe(0);
    expect(summaryOf(start).ok).toBe(true);
    // Managers first, then the workers.
    const started = actions(start, 'start-machine').map((a) => a.host);
    expect(started.slice(0, 3).sort()).toEqual(all.slice(0, 3));
    expect(started.slice(3).sort()).toEqual(all.slice(3));
    const after = await Promise.all(all.map(async (c) => swarmState(c)));
    expect(after.map((s) => s.nodeId)).toEqual(ids);
    // Workers do not report the cluster ID: their NodeIDs (above) say they are the same nodes.
    expect(after.slice(0, 3).map((s) => s.clusterId)).toEqual([clusterId, clusterId, clusterId]);
    const lsAfter = await swarmup(['ls', '--json'], env);
    expect(lsAfter.events.find((e) => e.cluster === NAME)?.stoppedAt).toBeUndefined();
  });

  it('two of three managers stopped: plan starts them and waits; up brings quorum back with no recover', async () => {
    const stopped = [all[0]!, all[1]!];
    const ids = await Promise.all(all.map(async (c) => (await swarmState(c)).nodeId));
    await execa('docker', ['stop', ...stopped]);
    const plan = await swarmup(['plan', '--name', NAME, '--json'], env);
    expect(plan.code, plan.stderr).toBe(0);
    const p = plan.events.find((e) => e.event === 'plan') as { phases: Array<{ actions: unknown[] }> };
    expect(p.phases.flatMap((ph) => ph.actions)).toEqual(
      stopped.map((h) => expect.objectContaining({ kind: 'start-machine', host: h })),
    );
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(
      actions(up).map((a) => a.kind),
      JSON.stringify(actions(up)),
    ).toEqual(['start-machine', 'start-machine']);
    const after = await Promise.all(all.map(async (c) => swarmState(c)));
    expect(after.map((s) => s.nodeId)).toEqual(ids);
    expect(after.slice(0, 3).map((s) => s.clusterId)).toEqual([clusterId, clusterId, clusterId]);
  });

  it('a manager whose engine restarted is still finding the others ("pending"): up waits for it and changes nothing', async () => {
    const ids = await Promise.all(all.map(async (c) => (await swarmState(c)).nodeId));
    const leader = (
      await inNode(all[0]!, [
        'docker',
        'node',
        'ls',
        '--filter',
        'role=manager',
        '--format',
        '{{.Hostname}} {{.ManagerStatus}}',
      ])
    )
      .split('\n')
      .find((l) => l.endsWith(' Leader'))!
      .split(' ')[0]!;
    const follower = all.slice(0, 3).find((c) => c !== leader)!;
    // Its port 2377 dropped both ways while its engine starts: its swarm node cannot find the others, and dockerd
    // serves its API after its own 20 s wait with the node "pending" (as a loaded machine shows it). The rules go
    // a few seconds into up: the node comes back by itself, as it does after a reboot.
    const drop = (op: '-I' | '-D') =>
      inNode(follower, [
        'sh',
        '-c',
        `iptables ${op} INPUT -p tcp --dport 2377 -j DROP && iptables ${op} OUTPUT -p tcp --dport 2377 -j DROP`,
      ]);
    await stopNodeEngine(follower);
    await drop('-I');
    await startNodeEngine(follower);
    await waitSwarmState(follower, 'pending', 60_000);
    const lifted = sleep(5_000).then(() => drop('-D'));
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    await lifted;
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(actions(up), JSON.stringify(actions(up))).toEqual([]);
    expect(await Promise.all(all.map(async (c) => (await swarmState(c)).nodeId))).toEqual(ids);
  });
});

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
    // With --json a failure is told in events: name them (and what was applied) when the exit code is not 0.
    expect(up.code, up.stderr + failureEvents(up)).toBe(0);
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
    // With --json a failure is told in events: name them (and what was applied) when the exit code is not 0.
    expect(up.code, up.stderr + failureEvents(up)).toBe(0);
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
