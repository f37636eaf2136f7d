/**
 * The scale part of `npm run bench`: a docker-provider cluster of 3 managers + 2 workers scaled up by 2 workers and
 * back down, through swarmup (in-process, the `up` playbook with new counts) beside the bare lower bound: the same
 * container creates and removes, and only the engine calls Swarm needs (join both workers in parallel, rotate the
 * tokens, wait until Ready; then drain, check their tasks, leave and remove the nodes one by one, remove both containers at once). Also
 * the no-change run on the settled 3+2 cluster, in-process and through the bin (Node's start-up included).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import upPlaybook from '../playbooks/up.ts';
import { openContext } from '../src/cli/session.ts';
import { resolveCluster } from '../src/cluster/spec-resolve.ts';
import { JsonReporter } from '../src/playbook/events.ts';
import { DockerProvider } from '../src/providers/docker/docker-provider.ts';
import type { Machine } from '../src/providers/provider.ts';
import {
  joinSwarm,
  leaveSwarm,
  listNodes,
  readJoinTokens,
  removeNode,
  rotateJoinTokens,
  runningTasksOn,
  setAvailability,
  waitForEngine,
} from '../src/swarm/engine.ts';
import { StateStore } from '../src/state/store.ts';
import { KnownHostsFile } from '../src/transport/known-hosts.ts';
import { SshConnection } from '../src/transport/ssh-connection.ts';

const NAME = 'bench-scale';
const noop = () => undefined;

async function upTo(
  managers: number,
  workers: number,
): Promise<{ ms: number; ok: boolean; changes: number }> {
  const t0 = performance.now();
  const ctx = await openContext(
    { name: NAME, provider: 'docker', managers: String(managers), workers: String(workers) },
    new JsonReporter(noop),
  );
  try {
    const v = await upPlaybook.run(ctx);
    return { ms: performance.now() - t0, ok: v?.ok ?? false, changes: ctx.changes };
  } finally {
    await ctx.pool.closeAll();
  }
}

/** A no-change `up` of the 3+2 through the bin, as a user runs it: the whole process, start-up included. */
function cliUp(): number {
  const bin = resolve(import.meta.dirname, '../bin/swarmup.mjs');
  const args = ['up', '--name', NAME, '--provider', 'docker', '--managers', '3', '--workers', '2', '--json'];
  const t0 = performance.now();
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const summary = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; changes?: number })
    .find((e) => e.event === 'summary');
  if (r.status !== 0 || summary?.changes !== 0)
    throw new Error(`bench-scale: no-change up via the bin: exit ${r.status}, ${r.stderr}`);
  return ms;
}

/** The bare bound of adding 2 workers to the running 3+2 and taking them away again. */
async function bare(knownHosts: string): Promise<{ up: number; down: number }> {
  const provider = new DockerProvider(
    resolveCluster(undefined, { name: NAME, managers: '3', workers: '4' }),
    new StateStore(NAME),
  );
  const kh = new KnownHostsFile(knownHosts);
  const [leader] = await provider.reach([`${NAME}-manager-1`]);
  const newNames = [`${NAME}-worker-3`, `${NAME}-worker-4`];

  // Timed from the same start as swarmup: connecting to the manager is part of the job.
  const t0 = performance.now();
  const connecting = SshConnection.connect(leader!, { knownHosts: kh, retryForMs: 30_000 });
  await Promise.all(newNames.map((name) => provider.create({ name, role: 'worker' }, noop)));
  const hosts: Machine[] = await provider.reach(newNames);
  const conns = await Promise.all(
    hosts.map((h) => SshConnection.connect(h, { knownHosts: kh, retryForMs: 30_000 })),
  );
  await Promise.all(conns.map((c) => waitForEngine(c.docker, 60_000)));
  const m1 = await connecting;
  const tokens = await readJoinTokens(m1.docker);
  await Promise.all(
    conns.map((c, i) =>
      joinSwarm(c.docker, tokens.worker, hosts[i]!.advertiseAddress, `${leader!.advertiseAddress}:2377`),
    ),
  );
  await rotateJoinTokens(m1.docker);
  const ids = await Promise.all(
    conns.map(async (c) => ((await c.docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID),
  );
  for (;;) {
    const nodes = await listNodes(m1.docker);
    if (ids.every((id) => nodes.find((n) => n.id === id)?.state === 'ready')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const up = performance.now() - t0;

  const t1 = performance.now();
  for (const [i, id] of ids.entries()) {
    await setAvailability(m1.docker, id, 'drain');
    await runningTasksOn(m1.docker, id);
    await leaveSwarm(conns[i]!.docker);
    await removeNode(m1.docker, id);
    conns[i]!.close();
  }
  await Promise.all(newNames.map((n) => provider.remove(n, noop)));
  const down = performance.now() - t1;
  m1.close();
  return { up, down };
}

export async function scaleBench(repeat: number, home: string): Promise<void> {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const range = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
  const first = await upTo(3, 2);
  if (!first.ok) throw new Error('bench-scale: 3+2 did not verify');
  await new Promise((r) => setTimeout(r, 3000));
  const rows = {
    bareUp: [] as number[],
    bareDown: [] as number[],
    up: [] as number[],
    down: [] as number[],
    same: [] as number[],
    sameCli: [] as number[],
  };
  for (let i = 0; i < repeat; i++) {
    const b = await bare(`${home}/scale_known_hosts`);
    rows.bareUp.push(b.up);
    rows.bareDown.push(b.down);
    const up = await upTo(3, 4);
    if (!up.ok) throw new Error('bench-scale: 3+4 did not verify');
    rows.up.push(up.ms);
    const down = await upTo(3, 2);
    if (!down.ok) throw new Error('bench-scale: back to 3+2 did not verify');
    rows.down.push(down.ms);
    await new Promise((r) => setTimeout(r, 3000));
    const same = await upTo(3, 2);
    if (same.changes !== 0) throw new Error(`bench-scale: no-change run made ${same.changes} changes`);
    rows.same.push(same.ms);
    rows.sameCli.push(cliUp());
  }
  console.log('\nscale a docker-provider 3+2 by 2 workers and back (median, range):');
  console.log('| step | bare bound | swarmup | ratio |');
  console.log(
    `| +2 workers | ${fmt(median(rows.bareUp))} (${range(rows.bareUp)}) | ${fmt(median(rows.up))} (${range(rows.up)}) | ${(median(rows.up) / median(rows.bareUp)).toFixed(2)}x |`,
  );
  console.log(
    `| -2 workers | ${fmt(median(rows.bareDown))} (${range(rows.bareDown)}) | ${fmt(median(rows.down))} (${range(rows.down)}) | ${(median(rows.down) / median(rows.bareDown)).toFixed(2)}x |`,
  );
  console.log(`| no-change up, 5 nodes, settled | | ${fmt(median(rows.same))} (${range(rows.same)}) | |`);
  console.log(`| the same through the bin | | ${fmt(median(rows.sameCli))} (${range(rows.sameCli)}) | |`);
}

export async function removeScaleCluster(): Promise<void> {
  const provider = new DockerProvider(resolveCluster(undefined, { name: NAME }), new StateStore(NAME));
  await provider.removeAll(noop);
}
