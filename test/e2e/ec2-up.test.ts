import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import downPlaybook from '../../playbooks/down.ts';
import startPlaybook from '../../playbooks/start.ts';
import statusPlaybook from '../../playbooks/status.ts';
import stopPlaybook from '../../playbooks/stop.ts';
import upPlaybook from '../../playbooks/up.ts';
import { openContext } from '../../src/cli/session.ts';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { JsonReporter } from '../../src/playbook/events.ts';
import { DockerProvider } from '../../src/providers/docker/docker-provider.ts';
import type { Machine } from '../../src/providers/provider.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { inNode } from '../support/cli.ts';
import { ownEc2Emulator } from '../support/ec2-emulator.ts';

/**
 * The whole `up --provider ec2`: AWS calls go to moto's emulator (the stand-in for AWS), and SSH goes to local node
 * containers through a test-only mapping from instance to container (the emulator's instances have addresses
 * nobody can reach, and this test must not try). Ends in a verified swarm and a clean `down`.
 */
// An emulator of this file's own: its set-up resets it, which must not happen under another file's feet.
const aws = await ownEc2Emulator();
const { ec2, home } = aws;
Object.assign(process.env, aws.env());
/** The node containers SSH goes to: a run id, so another run's set-up (or down) never touches this run's nodes. */
const NODES = `e2e-ec2-nodes-${process.pid}`;
let nodes: Machine[] = [];
const nodeProvider = () =>
  new DockerProvider(
    resolveCluster(undefined, { name: NODES, managers: '3', workers: '2' }),
    new StateStore(NODES),
  );
async function tagged(): Promise<{ instances: number; groups: number; keys: number }> {
  const f = [{ Name: 'tag:swarmup:cluster', Values: ['lab'] }];
  const i = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [...f, { Name: 'instance-state-name', Values: ['pending', 'running'] }],
    }),
  );
  const g = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: f }));
  const k = await ec2.send(new DescribeKeyPairsCommand({ Filters: f }));
  return {
    instances: (i.Reservations ?? []).flatMap((r) => r.Instances ?? []).length,
    groups: (g.SecurityGroups ?? []).length,
    keys: (k.KeyPairs ?? []).length,
  };
}

describe('up --provider ec2, end to end (emulated AWS, SSH to node containers)', () => {
  let config: string;
  const ec2Options = {
    pollMs: 100,
    // Test only: instance lab-manager-1 is reached at node container <NODES>-manager-1, and so on.
    sshTargetFor: (i: { name: string }) => {
      const n = nodes.find((m) => m.name === i.name.replace(/^lab-/, `${NODES}-`))!;
      return { address: n.address, port: n.port, advertiseAddress: n.advertiseAddress };
    },
  };

  beforeAll(async () => {
    await aws.reset();
    await nodeProvider().removeAll(() => undefined);
    nodes = (await provisionAll(nodeProvider())).machines;
    const ami = await aws.image();
    config = join(home, 'lab.yaml');
    writeFileSync(
      config,
      stringify({
        name: 'lab',
        provider: 'ec2',
        managers: 3,
        workers: 2,
        ec2: { ami, user: 'root', sshCidr: '203.0.113.7/32', sshKey: join(home, NODES, 'id_ed25519.pub') },
      }),
    );
  });
  afterAll(async () => {
    await nodeProvider().removeAll(() => undefined);
  });

  it('creates the instances, bootstraps and verifies the swarm', async () => {
    const events: string[] = [];
    const ctx = await openContext({ config }, new JsonReporter((l) => events.push(l)), { ec2: ec2Options });
    try {
      const v = await upPlaybook.run(ctx);
      expect(v?.ok, v?.problems.join('\n')).toBe(true);
      expect(v!.nodes.map((n) => [n.name, n.role, n.state])).toEqual([
        ['lab-manager-1', 'manager', 'ready'],
        ['lab-manager-2', 'manager', 'ready'],
        ['lab-manager-3', 'manager', 'ready'],
        ['lab-worker-1', 'worker', 'ready'],
        ['lab-worker-2', 'worker', 'ready'],
      ]);
    } finally {
      await ctx.pool.closeAll();
    }
    expect(await tagged()).toEqual({ instances: 5, groups: 1, keys: 1 });
    const ls = await inNode(`${NODES}-manager-1`, ['docker', 'node', 'ls', '-q']);
    expect(ls.split('\n')).toHaveLength(5);
    expect(events.join('\n')).not.toMatch(/SWMTKN-/);
  });

  it('a re-run launches nothing and changes nothing', async () => {
    const ctx = await openContext({ config }, new JsonReporter(() => undefined), { ec2: ec2Options });
    try {
      const v = await upPlaybook.run(ctx);
      expect(v?.ok).toBe(true);
      expect(ctx.changes).toBe(0);
    } finally {
      await ctx.pool.closeAll();
    }
  });

  /** The cluster's instances by name, with their ids and states, and what else is tagged. */
  async function instances(): Promise<Record<string, string>> {
    const r = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:swarmup:cluster', Values: ['lab'] }] }),
    );
    return Object.fromEntries(
      (r.Reservations ?? [])
        .flatMap((x) => x.Instances ?? [])
        .filter((i) => i.State?.Name !== 'terminated')
        .map((i) => [i.Tags!.find((t) => t.Key === 'Name')!.Value!, `${i.InstanceId} ${i.State?.Name}`]),
    );
  }
  const withState = (m: Record<string, string>, state: string) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, `${v.split(' ')[0]} ${state}`]));
  async function run<T>(body: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>): Promise<T> {
    const ctx = await openContext({ config, yes: true }, new JsonReporter(() => undefined), {
      ec2: ec2Options,
    });
    try {
      return await body(ctx);
    } finally {
      await ctx.pool.closeAll();
    }
  }

  it('every instance stopped (out of band): status says stopped; up starts the same instances, waits for SSH, verified', async () => {
    const before = await instances();
    const ids = Object.values(before).map((v) => v.split(' ')[0]!);
    await ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
    expect(await instances()).toEqual(withState(before, 'stopped'));

    const status = await run((ctx) => statusPlaybook.run(ctx));
    expect(status).toMatchObject({ ok: false, state: 'stopped', repair: 'swarmup start' });
    expect(status.hosts?.map((h) => h.machine)).toEqual(Array(5).fill('stopped'));

    const { v, changes } = await run(async (ctx) => ({ v: await upPlaybook.run(ctx), changes: ctx.changes }));
    expect(v?.ok, v?.problems.join('\n')).toBe(true);
    expect(changes).toBe(5); // the five starts, nothing else
    expect(await instances()).toEqual(withState(before, 'running'));
    expect(await tagged()).toEqual({ instances: 5, groups: 1, keys: 1 });
  });

  it('swarmup stop and start change the instances states and nothing else', async () => {
    const before = await instances();
    const containers = async () =>
      String(
        (
          await execa('docker', [
            'ps',
            '-q',
            '--filter',
            `label=swarmup.cluster=${NODES}`,
            '--filter',
            'status=running',
          ])
        ).stdout,
      )
        .split('\n')
        .filter(Boolean).length;
    const stopped = await run((ctx) => stopPlaybook.run(ctx));
    expect(stopped.stopped.sort()).toEqual(Object.keys(before).sort());
    expect(await instances()).toEqual(withState(before, 'stopped'));
    expect(await containers()).toBe(5); // SSH goes to these: stop touched only AWS
    expect(new StateStore('lab').read()?.stoppedAt).toEqual(expect.any(String));

    const v = await run((ctx) => startPlaybook.run(ctx));
    expect(v.ok, v.problems.join('\n')).toBe(true);
    expect(await instances()).toEqual(withState(before, 'running'));
    expect(await tagged()).toEqual({ instances: 5, groups: 1, keys: 1 });
    expect(new StateStore('lab').read()?.stoppedAt).toBeUndefined();
  });

  it('down removes every tagged resource and the local state', async () => {
    const ctx = await openContext({ config, yes: true }, new JsonReporter(() => undefined), {
      ec2: ec2Options,
    });
    try {
      await downPlaybook.run(ctx);
    } finally {
      await ctx.pool.closeAll();
    }
    expect(await tagged()).toEqual({ instances: 0, groups: 0, keys: 0 });
    expect(new StateStore('lab').exists()).toBe(false);
  });
});
