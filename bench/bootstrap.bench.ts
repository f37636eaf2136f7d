/**
 * `npm run bench`: swarmup's bootstrap beside the bare lower bound and Ansible, on node containers that already run
 * engines, at 3+2, 3+17, 3+47 and 3+97 nodes (BENCH_SIZES=5,20,50,100).
 *
 *   bare      the same engine calls issued directly over one SSH connection per host: init, managers joined one
 *             by one (each waited for until reachable), workers joined all at once, tokens rotated, then wait until
 *             every node is Ready. No facts, no plan, no state. Joins the engine stopped waiting for are counted.
 *   swarmup   `swarmup up --json` through the installed bin over an ssh inventory of the same machines (connect,
 *             facts, plan, apply, verify, state), with its peak memory (GNU time's maximum resident set).
 *   re-run    the same command again on the converged cluster (no changes): at once, and SETTLE_MS (10 s) later.
 *   Ansible   bench/ansible.ts: the same job as a playbook of raw tasks (BENCH_ANSIBLE=0 skips it).
 *
 * Each figure is the median (range) of REPEAT runs (default 3).
 *
 * Then the engine step on bare machines (Debian, sshd, a sudo user, no Docker): `up --until engine` installing
 * docker.io from the Debian mirror on one host, then on three at once (BENCH_ENGINE=0 skips it: it downloads;
 * BENCH_SWARM=0 runs only it). Before both, a docker-provider cluster scaled by two workers and back (bench/scale.ts;
 * BENCH_SCALE=0 skips it). First of all, the command line's start-up (bench/startup.ts; BENCH_STARTUP=0 skips it).
 */
import { provisionAll } from '../src/providers/provision-all.ts';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { ANSIBLE_FORKS, ansibleAvailable, ansibleUp } from './ansible.ts';
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

async function machines(total: number): Promise<Machine[]> {
  const spec = resolveCluster(undefined, { name: MACHINES, managers: '3', workers: String(total - 3) });
  const provider = new DockerProvider(spec, new StateStore(MACHINES));
  const { machines } = await provisionAll(provider);
  // Reached the way an inventory reaches machines: each at its own address, port 22 (not through the ports the
  // docker provider publishes on 127.0.0.1, which are one address to the SSH handshake gate).
  return machines.map((m) => ({ ...m, address: m.advertiseAddress, port: 22 }));
}

/**
 * Every host's connection. 100 node containers just made or just out of a swarm keep the machine's cores busy, and
 * an SSH handshake can then take longer than the 15 s it is given by default: here it is given 60 s.
 */
async function connectAll(hosts: Machine[], kh: KnownHostsFile): Promise<SshConnection[]> {
  return Promise.all(
    hosts.map((h) =>
      SshConnection.connect(h, { knownHosts: kh, retryForMs: 30_000, readyTimeoutMs: 60_000 }),
    ),
  );
}

/** The machine's cores idle for at least half of a 3 s sample (bounded: 5 min), read from /proc/stat. */
async function quiet(): Promise<void> {
  const sample = () => {
    const [, ...t] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = t.map(Number);
    return { idle: n[3]! + (n[4] ?? 0), total: n.reduce((a, b) => a + b, 0) };
  };
  const until = Date.now() + 300_000;
  while (Date.now() < until) {
    const a = sample();
    await new Promise((r) => setTimeout(r, 3_000));
    const b = sample();
    if ((b.idle - a.idle) / Math.max(1, b.total - a.total) >= 0.5) return;
  }
  throw new Error('the machine stayed busy for 5 min: nothing timed');
}

async function reset(hosts: Machine[]): Promise<void> {
  const conns = await connectAll(hosts, new KnownHostsFile(join(home, 'reset_known_hosts')));
  await Promise.all(conns.map((c) => leaveSwarm(c.docker).catch(() => undefined)));
  conns.forEach((c) => c.close());
}

/**
 * The lower bound: only the calls Swarm needs, in the order Swarm needs them, the workers all at once. A join the
 * engine stopped waiting for ("Timeout was reached before node joined") goes on in the background: counted, and
 * the final wait for every node Ready includes it.
 */
async function bare(hosts: Machine[]): Promise<{ ms: number; timedOut: number }> {
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
  let timedOut = 0;
  await Promise.all(
    workers.map((w) =>
      joinSwarm(w.docker, tokens.worker, addr(w), `${addr(m1!)}:2377`).catch((err: Error) => {
        if (!/Timeout was reached before node joined/.test(err.message)) throw err;
        timedOut++;
      }),
    ),
  );
  await rotateJoinTokens(m1!.docker);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const nodes = await listNodes(m1!.docker);
    if (nodes.length === hosts.length && nodes.every((n) => n.state === 'ready')) break;
    if (Date.now() > deadline) throw new Error(`bare: not every node Ready after 300 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = performance.now() - t0;
  conns.forEach((c) => c.close());
  return { ms, timedOut };
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

/**
 * `swarmup up` through the installed bin, as a user runs it; its wall time and peak memory (the process's maximum
 * resident set, reported by GNU time, which Debian's `time` package installs), and what its summary said.
 */
async function cliUp(config: string): Promise<{ ms: number; rssMiB?: number; changes: number }> {
  const bin = resolve(import.meta.dirname, '../bin/swarmup.mjs');
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = await execa(
    timed ? '/usr/bin/time' : 'node',
    [...(timed ? ['-f', 'maxrss=%M', 'node'] : []), bin, 'up', '--config', config, '--json'],
    { reject: false },
  );
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`swarmup up failed (${r.exitCode}): ${r.stderr}`);
  const rss = /maxrss=(\d+)/.exec(String(r.stderr));
  const summary = String(r.stdout)
    .split('\n')
    .map((l) => (l.startsWith('{') ? (JSON.parse(l) as { event?: string; changes?: number }) : {}))
    .find((e) => e.event === 'summary');
  return { ms, changes: summary?.changes ?? -1, ...(rss ? { rssMiB: Number(rss[1]) / 1024 } : {}) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Median (range) of a figure's runs. */
const spread = (xs: number[], f = fmt) =>
  xs.length === 0
    ? 'n/a'
    : xs.length === 1
      ? f(xs[0]!)
      : `${f(median(xs))} (${f(Math.min(...xs)).replace(' s', '')}–${f(Math.max(...xs))})`;

/**
 * The kernel's neighbour (ARP) table is one for every network namespace, 1024 entries at most by default
 * (gc_thresh3), and each node container keeps an entry for every peer of its swarm: a swarm of 100 node containers
 * needs about 10,000. Past the limit the kernel logs "neighbor table overflow!" and drops packets, SSH to the nodes
 * included (seen here: handshakes timing out, sshd unreachable from the host). Said before anything is made.
 */
function refuseSmallArpTable(nodes: number): void {
  const path = '/proc/sys/net/ipv4/neigh/default/gc_thresh3';
  const limit = existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : Infinity;
  const needed = nodes * nodes + 4 * nodes;
  if (limit < needed)
    throw new Error(
      `${nodes} node containers need a neighbour table of about ${needed} entries; this kernel allows ${limit}. ` +
        `As root: sysctl -w net.ipv4.neigh.default.gc_thresh1=4096 net.ipv4.neigh.default.gc_thresh2=16384 net.ipv4.neigh.default.gc_thresh3=32768`,
    );
}

async function main(): Promise<void> {
  await new Docker().ping();
  const sizes = (process.env.BENCH_SIZES ?? '5,20,50,100').split(',').map(Number);
  const most = Math.max(...sizes);
  refuseSmallArpTable(most);
  const ansible = process.env.BENCH_ANSIBLE === '0' ? undefined : await ansibleAvailable();
  console.log(`preparing ${most} node containers (engines running, no swarm)...`);
  const all = await machines(most);
  await quiet();
  await reset(all);
  const rows: string[][] = [];
  for (const size of sizes) {
    const hosts = all.slice(0, size);
    const label = `3+${size - 3}`;
    const name = `bench-${size}`;
    const config = inventory(name, hosts);
    const b: number[] = [];
    const bareTimeouts: number[] = [];
    const s: number[] = [];
    const rss: number[] = [];
    const after: number[] = [];
    const settled: number[] = [];
    const a: number[] = [];
    const ansibleFailed: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      // Each bring-up starts on a quiet machine: the last one's nodes have left the swarm and settled.
      await quiet();
      const bareRun = await bare(hosts);
      b.push(bareRun.ms);
      bareTimeouts.push(bareRun.timedOut);
      await reset(hosts);
      await quiet();
      const up = await cliUp(config);
      s.push(up.ms);
      if (up.rssMiB) rss.push(up.rssMiB);
      // Right after the swarm formed, every engine is still busy issuing certificates and gossiping: a script
      // running `up` twice meets that. And once the cluster settled (SETTLE_MS).
      const first = await cliUp(config);
      if (first.changes !== 0) throw new Error(`${label}: the re-run applied ${first.changes} changes`);
      after.push(first.ms);
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      const again = await cliUp(config);
      if (again.changes !== 0)
        throw new Error(`${label}: the settled re-run applied ${again.changes} changes`);
      settled.push(again.ms);
      await reset(hosts);
      new StateStore(name).remove();
      if (ansible) {
        await quiet();
        const run = await ansibleUp(home, hosts, join(home, MACHINES, 'id_ed25519'));
        a.push(run.ms);
        ansibleFailed.push(run.failed);
        await reset(hosts);
      }
    }
    const row = [
      label,
      spread(b),
      String(Math.max(...bareTimeouts)),
      spread(s),
      `${(median(s) / median(b)).toFixed(2)}x`,
      spread(after),
      spread(settled),
      ansible ? spread(a) : 'n/a',
      ansible ? `${(median(s) / median(a)).toFixed(2)}x` : 'n/a',
      spread(rss, (x) => `${x.toFixed(0)} MiB`),
    ];
    rows.push(row);
    console.log(
      `${label}: bare ${b.map(fmt).join(', ')} (join timeouts ${bareTimeouts.join(', ')}) | up ${s.map(fmt).join(', ')} | right after ${after.map(fmt).join(', ')} | settled ${settled.map(fmt).join(', ')} | ansible ${a.map(fmt).join(', ')} (hosts failed ${ansibleFailed.join(', ')}) | peak RSS ${rss.map((x) => x.toFixed(0)).join(', ')} MiB`,
    );
  }
  const header = [
    'size',
    'bare bound',
    'bare join timeouts',
    'swarmup up',
    'up / bare',
    'no-change, right after',
    'no-change, settled',
    `Ansible (raw, ${ANSIBLE_FORKS} forks)`,
    'up / Ansible',
    'peak memory',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  console.log(
    '\n' +
      [header, widths.map((w) => '-'.repeat(w)), ...rows]
        .map((row) => '| ' + row.map((x, i) => x.padEnd(widths[i]!)).join(' | ') + ' |')
        .join('\n'),
  );
  console.log(
    `\nmedian (range) of ${REPEAT} runs each, through the bin (bin/swarmup.mjs), over an ssh inventory; settled re-runs ${SETTLE_MS} ms after bootstrap, 'right after' at once; ${ansible ?? 'no ansible-playbook'}; ${(await import('node:os')).cpus().length} cores`,
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
