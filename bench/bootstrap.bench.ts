/**
 * `npm run bench`: swarmup's bootstrap beside the bare lower bound, on node containers that already run engines.
 *
 *   bare      the same engine calls issued directly over one SSH connection per host: init, managers joined one
 *             by one (each waited for until reachable), workers joined in parallel, tokens rotated, then wait until
 *             every node is Ready. No facts, no plan, no state.
 *   swarmup   the `up` playbook in-process over an ssh inventory of the same machines (connect, facts, plan,
 *             apply, verify, state).
 *   re-run    `up` again on the converged cluster (no changes) SETTLE_MS (10 s) after it formed, in-process and
 *             as the CLI (node start included).
 *
 * Sizes: 3 managers + 2 workers, and 3 + 17. Each figure is the median of REPEAT runs (default 3).
 *
 * Then the engine step on bare machines (Debian, sshd, a sudo user, no Docker): `up --until engine` installing
 * docker.io from the Debian mirror on one host, then on three at once (BENCH_ENGINE=0 skips it: it downloads;
 * BENCH_SWARM=0 runs only it). Before both, a docker-provider cluster scaled by two workers and back (bench/scale.ts;
 * BENCH_SCALE=0 skips it). First of all, the command line's start-up (bench/startup.ts; BENCH_STARTUP=0 skips it).
 */
import { provisionAll } from '../src/providers/provision-all.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { stringify } from 'yaml';
import upPlaybook from '../playbooks/up.ts';
import { openContext } from '../src/cli/session.ts';
import { JsonReporter } from '../src/playbook/events.ts';
import { DockerProvider } from '../src/providers/docker/docker-provider.ts';
import type { Machine } from '../src/providers/provider.ts';
import { resolveCluster } from '../src/cluster/spec-resolve.ts';
import { StateStore } from '../src/state/store.ts';
import { KnownHostsFile } from '../src/transport/known-hosts.ts';
import { SshConnection } from '../src/transport/ssh-connection.ts';
import {
  initSwarm,
  joinSwarm,
  leaveSwarm,
  listNodes,
  readJoinTokens,
  rotateJoinTokens,
  waitForNode,
} from '../src/swarm/engine.ts';

const REPEAT = Number(process.env.REPEAT ?? 3);
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 10000);
const home = mkdtempSync(join(tmpdir(), 'swarmup-bench-'));
process.env.SWARMUP_HOME = home;
// The docker contexts `up` makes go to a docker config of the bench's own: the user's contexts are never touched.
process.env.DOCKER_CONFIG = mkdtempSync(join(tmpdir(), 'swarmup-bench-dockercfg-'));
const MACHINES = 'bench-machines';
// The README's figures were measured on Debian 12's Docker 20.10 (the oldest engine): the node containers are made
// from that image unless SWARMUP_ENGINE_SUITE says otherwise (the default node image is now Debian 13's).
process.env.SWARMUP_ENGINE_SUITE ??= 'bookworm';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function machines(total: number): Promise<Machine[]> {
  const spec = resolveCluster(undefined, { name: MACHINES, managers: '3', workers: String(total - 3) });
  const provider = new DockerProvider(spec, new StateStore(MACHINES));
  const { machines } = await provisionAll(provider);
  return machines;
}

async function connectAll(hosts: Machine[], kh: KnownHostsFile): Promise<SshConnection[]> {
  return Promise.all(hosts.map((h) => SshConnection.connect(h, { knownHosts: kh, retryForMs: 30_000 })));
}

async function reset(hosts: Machine[]): Promise<void> {
  const conns = await connectAll(hosts, new KnownHostsFile(join(home, 'reset_known_hosts')));
  await Promise.all(conns.map((c) => leaveSwarm(c.docker).catch(() => undefined)));
  conns.forEach((c) => c.close());
}

/** The lower bound: only the calls Swarm needs, in the order Swarm needs them. */
async function bare(hosts: Machine[]): Promise<number> {
  const t0 = performance.now();
  const conns = await connectAll(hosts, new KnownHostsFile(join(home, 'bare_known_hosts')));
  const [m1, ...rest] = conns;
  const managers = rest.slice(0, 2);
  const workers = rest.slice(2);
  const addr = (c: SshConnection) => hosts.find((h) => h.name === c.name)!.advertiseAddress;
  await initSwarm(m1!.docker, addr(m1!));
  const tokens = await readJoinTokens(m1!.docker);
  for (const m of managers) {
    await joinSwarm(m.docker, tokens.manager, addr(m), `${addr(m1!)}:2377`);
    const id = ((await m.docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    await waitForNode(
      m1!.docker,
      id,
      (n) => n.state === 'ready' && n.reachability === 'reachable',
      'reachable',
      60_000,
    );
  }
  await Promise.all(workers.map((w) => joinSwarm(w.docker, tokens.worker, addr(w), `${addr(m1!)}:2377`)));
  await rotateJoinTokens(m1!.docker);
  for (;;) {
    const nodes = await listNodes(m1!.docker);
    if (nodes.length === hosts.length && nodes.every((n) => n.state === 'ready')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const t = performance.now() - t0;
  conns.forEach((c) => c.close());
  return t;
}

function inventory(name: string, hosts: Machine[]): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      provider: 'ssh',
      managers: 3,
      ssh: { user: 'root', privateKey: join(home, MACHINES, 'id_ed25519') },
      hosts: hosts.map((h, i) => ({
        name: h.name,
        address: h.address,
        port: h.port,
        advertiseAddress: h.advertiseAddress,
        role: i < 3 ? 'manager' : 'worker',
      })),
    }),
  );
  return file;
}

async function swarmupUp(config: string): Promise<{ ms: number; changes: number; ok: boolean }> {
  const t0 = performance.now();
  const ctx = await openContext({ config }, new JsonReporter(() => undefined));
  try {
    const v = await upPlaybook.run(ctx);
    return { ms: performance.now() - t0, changes: ctx.changes, ok: v?.ok ?? false };
  } finally {
    await ctx.pool.closeAll();
  }
}

async function cliUp(config: string): Promise<number> {
  const t0 = performance.now();
  const r = await execa(
    'node',
    [resolve(import.meta.dirname, '../bin/swarmup.mjs'), 'up', '--config', config, '--json'],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`swarmup up failed: ${r.stderr}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  await new Docker().ping();
  console.log(`preparing 20 node containers (engines running, no swarm)...`);
  const all = await machines(20);
  const sizes: Array<[string, Machine[]]> = [
    ['3+2', [...all.slice(0, 3), ...all.slice(3, 5)]],
    ['3+17', all],
  ];
  await reset(all);
  const rows: string[][] = [];
  for (const [label, hosts] of sizes) {
    const config = inventory(`bench-${label.replace('+', 'p')}`, hosts);
    const b: number[] = [];
    const s: number[] = [];
    const r: number[] = [];
    const c: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      b.push(await bare(hosts));
      await reset(hosts);
      const up = await swarmupUp(config);
      if (!up.ok) throw new Error(`${label}: swarmup up did not verify`);
      s.push(up.ms);
      // Right after the swarm formed, every engine is still busy issuing certificates and gossiping: the CLI's
      // no-change run then, as a script running `up` twice meets it.
      f.push(await cliUp(config));
      // And a little later, once the cluster settled (SETTLE_MS): in-process and through the bin.
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      const again = await swarmupUp(config);
      if (again.changes !== 0) throw new Error(`${label}: re-run applied ${again.changes} changes`);
      r.push(again.ms);
      c.push(await cliUp(config));
      await reset(hosts);
      new StateStore(`bench-${label.replace('+', 'p')}`).remove();
    }
    rows.push([
      label,
      fmt(median(b)),
      fmt(median(s)),
      `${(median(s) / median(b)).toFixed(2)}x`,
      fmt(median(r)),
      fmt(median(c)),
      fmt(median(f)),
    ]);
    console.log(
      `${label}: bare ${b.map(fmt).join(', ')} | swarmup ${s.map(fmt).join(', ')} | re-run ${r.map(fmt).join(', ')} | cli re-run ${c.map(fmt).join(', ')} | cli right after ${f.map(fmt).join(', ')}`,
    );
  }
  const header = [
    'size',
    'bare bound',
    'swarmup up',
    'ratio',
    'no-change re-run',
    're-run via CLI',
    'via CLI, right after',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  console.log(
    '\n' +
      [header, ...rows]
        .map((row) => '| ' + row.map((x, i) => x.padEnd(widths[i]!)).join(' | ') + ' |')
        .join('\n'),
  );
  console.log(
    `\nmedian of ${REPEAT} runs each; settled re-runs ${SETTLE_MS} ms after bootstrap, 'right after' at once; ${(await import('node:os')).cpus().length} cores`,
  );
}

async function engineBench(): Promise<void> {
  const { bareNode } = await import('../test/support/bare-nodes.ts');
  const name = 'bench-bare';
  const make = async (n: number) => {
    const spec = resolveCluster(undefined, { name, managers: '1', workers: String(n - 1) });
    const provider = new DockerProvider(spec, new StateStore(name), bareNode, 'deploy');
    await provider.removeAll(() => undefined);
    const { machines } = await provisionAll(provider);
    // Fresh containers start sshd a moment later: wait for it outside the timed part.
    const kh = new KnownHostsFile(join(home, 'bare_known_hosts_wait'));
    (await connectAll(machines, kh)).forEach((c) => c.close());
    return { provider, machines };
  };
  const timeInstall = async (n: number) => {
    const { provider, machines } = await make(n);
    const config = join(home, `bare-${n}.yaml`);
    writeFileSync(
      config,
      stringify({
        name: `bare-${n}`,
        provider: 'ssh',
        engine: { source: 'distro' },
        ssh: { user: 'deploy', privateKey: join(home, name, 'id_ed25519') },
        hosts: machines.map((m) => ({
          name: m.name,
          address: m.address,
          port: m.port,
          advertiseAddress: m.advertiseAddress,
        })),
      }),
    );
    const t0 = performance.now();
    const ctx = await openContext({ config, until: 'engine' }, new JsonReporter(() => undefined));
    try {
      await upPlaybook.run(ctx);
    } finally {
      await ctx.pool.closeAll();
    }
    const ms = performance.now() - t0;
    await provider.removeAll(() => undefined);
    return ms;
  };
  console.log('\nengine install on bare machines (docker.io from the Debian mirror):');
  const one = await timeInstall(1);
  const three = await timeInstall(3);
  console.log(`| hosts | up --until engine |\n| 1 | ${fmt(one)} |\n| 3 at once | ${fmt(three)} |`);
}

try {
  if (process.env.BENCH_STARTUP !== '0') await (await import('./startup.ts')).startupBench();
  if (process.env.BENCH_SCALE !== '0') {
    const { scaleBench, removeScaleCluster } = await import('./scale.ts');
    try {
      await scaleBench(REPEAT, home);
    } finally {
      await removeScaleCluster();
    }
  }
  if (process.env.BENCH_SWARM !== '0') await main();
  if (process.env.BENCH_ENGINE !== '0') await engineBench();
} finally {
  const provider = new DockerProvider(
    resolveCluster(undefined, { name: MACHINES }),
    new StateStore(MACHINES),
  );
  await provider.removeAll(() => undefined);
}
