/**
 * Capture JSON fixtures of real Docker engines in swarm failure states, for the swarm planner's unit tests.
 *
 * Fixtures for failure states are captured from real engines put into that state, not typed by hand. For each
 * state this script brings a fresh cluster up in node containers on the local Docker engine (swarmup's docker
 * provider), breaks it the way the state says, reads GET /info and GET /nodes from inside every node container
 * that still exists, trims the answers to what the planner reads and writes test/fixtures/engines/<state>.json.
 * The cluster is removed afterwards, whatever happened.
 *
 * It is run by hand, not by the test suite (it takes a few minutes and needs a Docker engine):
 *
 *   npx tsx test/support/capture-engine-fixtures.ts [state...]     (default: every state)
 *
 * States: converged, manager-gone, quorum-lost-early, quorum-lost-settled, recovered, recovered-settled,
 * quorum-lost-early-leader, worker-left, pending-join, restarted-moved, engines-stopped, manager-moved,
 * engine-versions, adopted-down-namesake (a swarm made by hand, not by swarmup), manager-locked (a swarm made
 * with --autolock whose manager's machine restarted), manager-restarted (a follower's machine restarted while the
 * others kept their leader, caught "pending"). restarted-moved, engines-stopped and manager-moved also
 * record each host's address now (`address`: what swarmup would advertise), and
 * engines-stopped, for the hosts whose engine is stopped, what swarmup's engine facts command printed there.
 * (Managers restarted at their own addresses, while they elect a leader, answer /_ping but hold GET /info until
 * they have one, about 12 s on Docker 20.10: that state has no answer to capture; swarmup reads it as "silent".) quorum-lost-early, quorum-lost-settled, recovered and
 * recovered-settled are made one after the other on one cluster (3 managers + 1 worker) whose leader and one
 * follower are removed; quorum-lost-early-leader removes both followers instead, so the survivor is the leader.
 * Env: SWARMUP_BIN, the swarmup bin to make clusters with (default: this repository's bin/swarmup.mjs).
 * Clusters are named fx-<something>; the script refuses to start when such a cluster already exists.
 * What it observes (timings, each host's view) goes to stderr. Join tokens stay in memory: a token travels to a
 * node only on stdin, in a request body, and no fixture is written that contains SWMTKN- or SWMKEY-.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import * as prettier from 'prettier';

type Json = Record<string, unknown>;

const BIN = process.env.SWARMUP_BIN ?? resolve(import.meta.dirname, '../../bin/swarmup.mjs');
const OUT_DIR = resolve(import.meta.dirname, '../fixtures/engines');
const SECRET = /SWMTKN-|SWMKEY-/;

const STATES = [
  'converged',
  'manager-gone',
  'quorum-lost-early',
  'quorum-lost-settled',
  'recovered',
  'recovered-settled',
  'quorum-lost-early-leader',
  'worker-left',
  'pending-join',
  'restarted-moved',
  'engines-stopped',
  'manager-moved',
  'engine-versions',
  'adopted-down-namesake',
  'manager-locked',
  'manager-restarted',
  'drain-placement',
] as const;
type State = (typeof STATES)[number];

interface HostCapture {
  host: string;
  /** The host's address on the cluster network now (the states where addresses matter). */
  address?: string;
  info: Json;
  nodes: Json[] | null;
  nodesError: string | null;
  nodesStatus: number | null;
}

interface ApiAnswer {
  /** HTTP status, or null when the engine did not answer in time. */
  status: number | null;
  body: unknown;
  /** The error message of a failed call: the engine's `message`, or why there was no answer. */
  error: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const t0 = Date.now();
function log(scope: string, text: string): void {
  const line = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] [${scope}] ${text}`;
  console.error(SECRET.test(line) ? `[${scope}] (a line was withheld: it held a swarm secret)` : line);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function seconds(fromMs: number): string {
  return `${((Date.now() - fromMs) / 1000).toFixed(1)} s`;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await execa(cmd, args, { reject: false, ...(input === undefined ? {} : { input }) });
  if (r.exitCode !== 0) {
    const err = String(r.stderr).trim();
    throw new Error(
      `${cmd} ${args.join(' ')} (exit ${r.exitCode}): ${SECRET.test(err) ? '(withheld)' : err}`,
    );
  }
  return String(r.stdout).trim();
}

/** One Engine API call from inside a node container, through its unix socket (curl is in the node image). */
async function api(
  container: string,
  method: string,
  path: string,
  opts: { body?: Json; timeoutS?: number } = {},
): Promise<ApiAnswer> {
  const args = [
    'exec',
    ...(opts.body ? ['-i'] : []),
    container,
    'curl',
    '-s',
    '-m',
    String(opts.timeoutS ?? 15),
  ];
  args.push('-w', '\n%{http_code}', '--unix-socket', '/var/run/docker.sock', '-X', method);
  if (opts.body) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
  args.push(`http://docker${path}`);
  const r = await execa('docker', args, {
    reject: false,
    ...(opts.body ? { input: JSON.stringify(opts.body) } : {}),
  });
  const out = String(r.stdout);
  const cut = out.lastIndexOf('\n');
  const code = Number(out.slice(cut + 1));
  const text = out.slice(0, Math.max(cut, 0));
  if (r.exitCode !== 0 || !code) {
    const why = r.exitCode === 28 ? `no answer within ${opts.timeoutS ?? 15} s` : `curl exit ${r.exitCode}`;
    return { status: null, body: null, error: `${why} ${String(r.stderr).trim()}`.trim() };
  }
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const error = code >= 400 ? (isObject(body) ? String(body.message ?? text) : text) : null;
  return { status: code, body, error };
}

async function info(container: string, timeoutS = 15): Promise<Json | null> {
  const a = await api(container, 'GET', '/info', { timeoutS });
  return a.status === 200 && isObject(a.body) ? a.body : null;
}

function swarmOf(i: Json | null): Json {
  return obj(i?.Swarm);
}

/** A short account of one host's /info Swarm object and its /nodes answer, for the log. */
function describeHost(c: HostCapture): string {
  const s = swarmOf(c.info);
  const cluster = isObject(s.Cluster)
    ? `Cluster.ID="${String(s.Cluster.ID)}"`
    : `Cluster=${String(s.Cluster)}`;
  const took = readMs.has(c) ? ` (read took ${((readMs.get(c) ?? 0) / 1000).toFixed(1)} s)` : '';
  const nodes = c.nodes ? `/nodes 200 (${c.nodes.length} nodes)` : `/nodes ${c.nodesStatus} ${c.nodesError}`;
  return (
    `${c.host}: LocalNodeState=${String(s.LocalNodeState)} ControlAvailable=${String(s.ControlAvailable)} ` +
    `${cluster} Error=${JSON.stringify(s.Error ?? '')} Managers=${String(s.Managers)} Nodes=${String(s.Nodes)}; ${nodes}${took}`
  );
}

/** One line per node of a /nodes answer: hostname role state reachability leader. */
function describeNodes(nodes: Json[]): string[] {
  return nodes
    .map((n) => {
      const ms = isObject(n.ManagerStatus) ? n.ManagerStatus : null;
      const st = obj(n.Status);
      return (
        `${String(obj(n.Description).Hostname)} id=${String(n.ID)} role=${String(obj(n.Spec).Role)} ` +
        `state=${String(st.State)}${st.Message ? ` (${String(st.Message)})` : ''} ` +
        (ms
          ? `reachability=${String(ms.Reachability)} leader=${String(ms.Leader === true)}`
          : 'ManagerStatus=none')
      );
    })
    .sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and trimming

function trimInfo(i: Json): Json {
  const swarm = structuredClone(obj(i.Swarm));
  if (isObject(swarm.Cluster)) {
    delete swarm.Cluster.TLSInfo;
    if (isObject(swarm.Cluster.Spec)) delete swarm.Cluster.Spec.CAConfig;
  }
  return { Name: i.Name, ServerVersion: i.ServerVersion, SystemTime: i.SystemTime, Swarm: swarm };
}

function trimNode(n: Json): Json {
  const node = structuredClone(n);
  if (isObject(node.Description)) {
    const d = node.Description;
    delete d.TLSInfo;
    delete d.Platform;
    delete d.Resources;
    if (isObject(d.Engine)) delete d.Engine.Plugins;
  }
  return node;
}

/** How long each capture's reads took (ms), for the log. */
const readMs = new WeakMap<HostCapture, number>();

/** GET /info and GET /nodes of one host, asked at the same time (as swarmup does). */
async function captureHost(container: string, timeoutS = 30): Promise<HostCapture> {
  const started = Date.now();
  const [i, n] = await Promise.all([
    api(container, 'GET', '/info', { timeoutS }),
    api(container, 'GET', '/nodes', { timeoutS }),
  ]);
  if (i.status !== 200 || !isObject(i.body)) throw new Error(`${container}: GET /info failed: ${i.error}`);
  const ok = n.status === 200 && Array.isArray(n.body);
  const capture: HostCapture = {
    host: container,
    info: trimInfo(i.body),
    nodes: ok ? (n.body as unknown[]).map((x) => trimNode(obj(x))) : null,
    nodesError: ok ? null : (n.error ?? `unexpected answer ${n.status}`),
    nodesStatus: ok ? null : n.status,
  };
  readMs.set(capture, Date.now() - started);
  return capture;
}

async function containersOf(cluster: string): Promise<string[]> {
  const out = await run('docker', [
    'ps',
    '-a',
    '--filter',
    `label=swarmup.cluster=${cluster}`,
    '--format',
    '{{.Names}}',
  ]);
  return out.split('\n').filter(Boolean).sort();
}

/** Every node container of the cluster that still exists, in name order, read at the same time. */
async function captureCluster(cluster: string): Promise<HostCapture[]> {
  return Promise.all((await containersOf(cluster)).map(captureHost));
}

/** A host whose engine is stopped: what swarmup's engine facts command printed there (src/engine/host-facts.ts). */
interface StoppedEngine {
  host: string;
  address: string;
  engineFacts: string;
}

async function writeFixture(
  state: State,
  how: string,
  hosts: HostCapture[],
  stoppedEngines?: StoppedEngine[],
): Promise<void> {
  const version = String(hosts[0]?.info.ServerVersion ?? 'unknown');
  const fixture = {
    state,
    captured: `${new Date().toISOString().slice(0, 10)}, Docker ${version}, ${how}`,
    hosts,
    ...(stoppedEngines ? { stoppedEngines } : {}),
  };
  const raw = JSON.stringify(fixture, null, 2);
  if (SECRET.test(raw)) throw new Error(`the ${state} fixture contains a swarm token or key: not written`);
  const file = join(OUT_DIR, `${state}.json`);
  const config = (await prettier.resolveConfig(file)) ?? {};
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(file, await prettier.format(raw, { ...config, filepath: file }));
  log(state, `wrote ${file}`);
  for (const h of hosts) log(state, `  ${describeHost(h)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Clusters

interface Cluster {
  name: string;
  home: string;
}

async function up(name: string, managers: number, workers: number, extra: string[] = []): Promise<Cluster> {
  if ((await containersOf(name)).length > 0)
    throw new Error(`cluster ${name} already has node containers: remove them first (see cleanup below)`);
  const home = mkdtempSync(join(tmpdir(), `swarmup-${name}-`));
  const cluster = { name, home };
  log(name, `up: ${managers} managers + ${workers} workers`);
  const started = Date.now();
  const r = await execa(
    'node',
    [
      BIN,
      'up',
      '--name',
      name,
      '--managers',
      String(managers),
      '--workers',
      String(workers),
      '--json',
      '--yes',
      ...extra,
    ],
    {
      reject: false,
      stdin: 'ignore',
      // A docker config of its own: the docker context up makes goes there, never into the user's.
      env: { SWARMUP_HOME: home, DOCKER_CONFIG: join(home, 'docker-config') },
      timeout: 600_000,
    },
  );
  if (r.exitCode !== 0) {
    await destroy(cluster);
    const tail = `${String(r.stdout).slice(-2000)}\n${String(r.stderr).slice(-2000)}`;
    throw new Error(
      `swarmup up ${name} failed (exit ${r.exitCode}):\n${SECRET.test(tail) ? '(withheld)' : tail}`,
    );
  }
  log(name, `up took ${seconds(started)}`);
  return cluster;
}

/** Remove the cluster's node containers, volumes and network directly (works whatever state swarmup is in). */
async function destroy(c: Cluster): Promise<void> {
  const label = `label=swarmup.cluster=${c.name}`;
  const ids = (await run('docker', ['ps', '-aq', '--filter', label])).split('\n').filter(Boolean);
  if (ids.length) await execa('docker', ['rm', '-f', ...ids], { reject: false });
  const vols = (await run('docker', ['volume', 'ls', '-q', '--filter', label])).split('\n').filter(Boolean);
  if (vols.length) await execa('docker', ['volume', 'rm', ...vols], { reject: false });
  await execa('docker', ['network', 'rm', `swarmup-${c.name}`], { reject: false });
  rmSync(c.home, { recursive: true, force: true });
  log(c.name, 'removed');
}

async function withCluster(
  name: string,
  managers: number,
  workers: number,
  body: (c: Cluster) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  const c = await up(name, managers, workers, extra);
  try {
    await body(c);
  } finally {
    await destroy(c);
  }
}

const node = (c: Cluster, role: 'manager' | 'worker', i: number): string => `${c.name}-${role}-${i}`;

/** The node container's address on the cluster network. */
async function addressOf(c: Cluster, container: string): Promise<string> {
  const nets = JSON.parse(
    await run('docker', ['inspect', '-f', '{{json .NetworkSettings.Networks}}', container]),
  ) as Record<string, { IPAddress?: string }>;
  const ip = nets[`swarmup-${c.name}`]?.IPAddress;
  if (!ip) throw new Error(`${container} has no address on swarmup-${c.name}`);
  return ip;
}

/** Remove a node container and its /var/lib/docker volume: the machine is gone. */
async function removeNode(container: string): Promise<void> {
  await run('docker', ['rm', '-f', container]);
  await run('docker', ['volume', 'rm', `${container}-docker`]);
}

async function nodesFrom(container: string): Promise<Json[] | null> {
  const a = await api(container, 'GET', '/nodes');
  return a.status === 200 && Array.isArray(a.body) ? (a.body as unknown[]).map(obj) : null;
}

const hostname = (n: Json): string => String(obj(n.Description).Hostname);
const managerStatus = (n: Json): Json | null => (isObject(n.ManagerStatus) ? n.ManagerStatus : null);

async function leaderOf(c: Cluster): Promise<string> {
  for (let i = 1; i <= 3; i++) {
    const nodes = await nodesFrom(node(c, 'manager', i));
    const leader = nodes?.find((n) => managerStatus(n)?.Leader === true);
    if (leader) return hostname(leader);
  }
  throw new Error(`${c.name}: no manager names a leader`);
}

/** Poll until check() returns a value (not undefined), every intervalMs, at most timeoutMs. */
async function until<T>(
  what: string,
  intervalMs: number,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

/** Wait until a manager lists every node ready and every manager reachable (a settled, healthy cluster). */
async function waitHealthy(c: Cluster, count: number): Promise<void> {
  await until(`${c.name} healthy`, 1000, 60_000, async () => {
    const nodes = await nodesFrom(node(c, 'manager', 1));
    const ok =
      nodes?.length === count &&
      nodes.every((n) => {
        const ms = managerStatus(n);
        return obj(n.Status).State === 'ready' && (!ms || ms.Reachability === 'reachable');
      });
    return ok ? true : undefined;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// States

async function converged(): Promise<void> {
  await withCluster('fx-converged', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const hosts = await captureCluster(c.name);
    await writeFixture('converged', 'a healthy 3-manager + 2-worker cluster just after swarmup up.', hosts);
  });
}

async function managerGone(): Promise<void> {
  await withCluster('fx-manager-gone', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const leader = await leaderOf(c);
    const victim = [1, 2, 3].map((i) => node(c, 'manager', i)).find((m) => m !== leader)!;
    log('manager-gone', `leader is ${leader}; removing ${victim} (container and volume)`);
    await removeNode(victim);
    const removed = Date.now();
    const seen: Record<string, string> = {};
    await until(`${leader} to list ${victim} down and unreachable`, 1000, 180_000, async () => {
      const v = (await nodesFrom(leader))?.find((n) => hostname(n) === victim);
      if (!v) return undefined;
      const state = String(obj(v.Status).State);
      const reach = String(managerStatus(v)?.Reachability);
      for (const mark of [`state=${state}`, `reachability=${reach}`])
        if (!seen[mark]) {
          seen[mark] = seconds(removed);
          log('manager-gone', `${leader} lists ${victim} ${mark} at +${seen[mark]}`);
        }
      return state === 'down' && reach === 'unreachable' ? true : undefined;
    });
    const after = seconds(removed);
    const hosts = await captureCluster(c.name);
    await writeFixture(
      'manager-gone',
      `a healthy 3+2 cluster whose non-leader manager ${victim} had its container and volume removed, ` +
        `captured ${after} later once the leader listed it down and unreachable.`,
      hosts,
    );
  });
}

/**
 * States quorum-lost-early, quorum-lost-settled, recovered and recovered-settled, in that order, on one 3+1
 * cluster; writes those of them that were asked for. The leader and one follower are removed, so the survivor is
 * a follower that has lost its leader and its quorum at once.
 */
async function quorumLost(wanted: Set<State>): Promise<void> {
  const chain: State[] = ['quorum-lost-early', 'quorum-lost-settled', 'recovered', 'recovered-settled'];
  const last = Math.max(...chain.map((s, i) => (wanted.has(s) ? i : -1)));
  await withCluster('fx-quorum', 3, 1, async (c) => {
    await waitHealthy(c, 4);
    const worker = node(c, 'worker', 1);
    const leader = await leaderOf(c);
    const managers = [1, 2, 3].map((i) => node(c, 'manager', i));
    const gone = [leader, managers.find((m) => m !== leader)!];
    const survivor = managers.find((m) => !gone.includes(m))!;
    const clusterIdBefore = String(obj(swarmOf(await info(survivor)).Cluster).ID);
    log(
      'quorum',
      `leader ${leader}; removing ${gone.join(' and ')}; survivor ${survivor}; Cluster.ID ${clusterIdBefore}`,
    );
    await Promise.all(gone.map(removeNode));
    const removed = Date.now();
    log('quorum', 'both removed');

    // quorum-lost-early: every host read once, starting 1 s after the removal (the survivor may take ~20 s).
    await sleep(1000);
    const early = await captureCluster(c.name);
    const earlyAt = seconds(removed);
    for (const h of early) log('quorum', `+${earlyAt} ${describeHost(h)}`);
    if (wanted.has('quorum-lost-early'))
      await writeFixture(
        'quorum-lost-early',
        `a 3+1 cluster whose leader ${gone[0]} and manager ${gone[1]} had their containers and volumes removed, ` +
          `read 1 s later (the survivor ${survivor} answered ${earlyAt} after the removal).`,
        early,
      );
    if (last < 1) return;

    // quorum-lost-settled: read every 5 s until the survivor answers at once that the swarm has no leader.
    const settled = await until('the survivor to answer that there is no leader', 5000, 300_000, async () => {
      const hosts = await captureCluster(c.name).catch((err: unknown) => {
        log('quorum', `+${seconds(removed)} read failed: ${String(err)}`);
        return null;
      });
      if (!hosts) return undefined;
      for (const h of hosts) log('quorum', `+${seconds(removed)} ${describeHost(h)}`);
      const s = hosts.find((h) => h.host === survivor)!;
      const noLeader = /does not have a leader/.test(String(swarmOf(s.info).Error));
      return noLeader && (readMs.get(s) ?? Infinity) < 5000 ? hosts : undefined;
    });
    const settledAt = seconds(removed);
    if (wanted.has('quorum-lost-settled'))
      await writeFixture(
        'quorum-lost-settled',
        `the quorum-lost-early cluster read every 5 s until the survivor ${survivor} answered at once that the ` +
          `swarm has no leader, ${settledAt} after the two managers were removed.`,
        settled,
      );
    if (last < 2) return;

    // recovered: docker swarm init --force-new-cluster on the survivor, captured at its first answered /nodes.
    const addr = await addressOf(c, survivor);
    log('quorum', `on ${survivor}: docker swarm init --force-new-cluster --advertise-addr ${addr}`);
    const init = await execa(
      'docker',
      ['exec', survivor, 'docker', 'swarm', 'init', '--force-new-cluster', '--advertise-addr', addr],
      { reject: false },
    );
    // Its stdout holds a join command with a token: never shown.
    if (init.exitCode !== 0) throw new Error(`swarm init --force-new-cluster failed: ${String(init.stderr)}`);
    const initAt = Date.now();
    const recovered = await until('the survivor /nodes to answer', 250, 120_000, async () => {
      const hosts = await captureCluster(c.name);
      return hosts.find((h) => h.host === survivor)!.nodes ? hosts : undefined;
    });
    const recoveredAt = seconds(initAt);
    const s = recovered.find((h) => h.host === survivor)!;
    const idAfter = String(obj(swarmOf(s.info).Cluster).ID);
    log(
      'quorum',
      `/nodes answers ${recoveredAt} after init; Cluster.ID before ${clusterIdBefore}, after ${idAfter}`,
    );
    for (const l of describeNodes(s.nodes!)) log('quorum', `  ${l}`);
    if (wanted.has('recovered'))
      await writeFixture(
        'recovered',
        `the quorum-lost-settled cluster after docker swarm init --force-new-cluster on the survivor ${survivor}, ` +
          `captured ${recoveredAt} after init at its first answered GET /nodes.`,
        recovered,
      );
    if (last < 3) return;

    // recovered-settled: read every 5 s until the removed managers are down and every other node ready.
    const recoveredSettled = await until('the removed managers to be down', 5000, 180_000, async () => {
      const hosts = await captureCluster(c.name);
      const nodes = hosts.find((h) => h.host === survivor)!.nodes ?? [];
      log('quorum', `+${seconds(initAt)} after init, ${survivor} lists:`);
      for (const l of describeNodes(nodes)) log('quorum', `  ${l}`);
      const settledNodes = nodes.every((n) => {
        const want = gone.includes(hostname(n)) ? 'down' : 'ready';
        return obj(n.Status).State === want;
      });
      return nodes.length === 4 && settledNodes ? hosts : undefined;
    });
    log('quorum', `  ${describeHost(recoveredSettled.find((h) => h.host === worker)!)}`);
    if (wanted.has('recovered-settled'))
      await writeFixture(
        'recovered-settled',
        `the recovered cluster read every 5 s until its leader ${survivor} listed the removed managers down and ` +
          `the other nodes ready, ${seconds(initAt)} after docker swarm init --force-new-cluster.`,
        recoveredSettled,
      );
  });
}

/** quorum-lost-early-leader: on a 3+1 cluster both followers are removed, so the survivor is the leader. */
async function quorumLostLeader(): Promise<void> {
  await withCluster('fx-quorum-leader', 3, 1, async (c) => {
    await waitHealthy(c, 4);
    const leader = await leaderOf(c);
    const gone = [1, 2, 3].map((i) => node(c, 'manager', i)).filter((m) => m !== leader);
    log('quorum-leader', `leader ${leader}; removing ${gone.join(' and ')}`);
    await Promise.all(gone.map(removeNode));
    const removed = Date.now();
    // The first read from 2 s on where the leader lists both removed managers unreachable.
    const hosts = await until('the leader to list both unreachable', 500, 60_000, async () => {
      if (Date.now() - removed < 2000) return undefined;
      const all = await captureCluster(c.name);
      const l = all.find((h) => h.host === leader)!;
      log('quorum-leader', `+${seconds(removed)} ${describeHost(l)}`);
      const unreachable = (l.nodes ?? []).filter(
        (n) => gone.includes(hostname(n)) && managerStatus(n)?.Reachability === 'unreachable',
      );
      return unreachable.length === gone.length ? all : undefined;
    });
    const at = seconds(removed);
    for (const l of describeNodes(hosts.find((h) => h.host === leader)!.nodes ?? []))
      log('quorum-leader', `  ${l}`);
    await writeFixture(
      'quorum-lost-early-leader',
      `a 3+1 cluster whose two non-leader managers had their containers and volumes removed, captured ${at} ` +
        `later while the leader ${leader} still answered GET /nodes.`,
      hosts,
    );
    // Log only: when does the lone leader step down?
    await until('the leader to step down', 2000, 120_000, async () => {
      const h = await captureHost(leader);
      log('quorum-leader', `+${seconds(removed)} ${describeHost(h)}`);
      return /does not have a leader/.test(String(swarmOf(h.info).Error)) ? true : undefined;
    });
  });
}

async function workerLeft(): Promise<void> {
  await withCluster('fx-worker-left', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const worker = node(c, 'worker', 1);
    const leader = await leaderOf(c);
    const id = String(swarmOf(await info(worker)).NodeID);
    await run('docker', ['exec', worker, 'docker', 'swarm', 'leave', '--force']);
    const left = Date.now();
    log('worker-left', `${worker} (node ${id}) left; polling ${leader}`);
    await until(`${leader} to list ${worker} down`, 1000, 180_000, async () => {
      const n = (await nodesFrom(leader))?.find((x) => x.ID === id);
      return obj(n?.Status).State === 'down' ? true : undefined;
    });
    const after = seconds(left);
    log('worker-left', `down after ${after}`);
    await writeFixture(
      'worker-left',
      `a healthy 3+2 cluster after docker swarm leave --force in ${worker}, captured ${after} later once the ` +
        `leader listed it down.`,
      await captureCluster(c.name),
    );
  });
}

async function pendingJoin(): Promise<void> {
  await withCluster('fx-pending', 3, 3, async (c) => {
    await waitHealthy(c, 6);
    const worker = node(c, 'worker', 3);
    const manager = node(c, 'manager', 1);
    const id = String(swarmOf(await info(worker)).NodeID);
    await run('docker', ['exec', worker, 'docker', 'swarm', 'leave', '--force']);
    const left = Date.now();
    await until(`${manager} to list ${worker} down`, 1000, 180_000, async () => {
      const n = (await nodesFrom(manager))?.find((x) => x.ID === id);
      return obj(n?.Status).State === 'down' ? true : undefined;
    });
    log('pending-join', `${worker} left; listed down after ${seconds(left)}`);
    await run('docker', [
      'exec',
      worker,
      'iptables',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '--dport',
      '2377',
      '-j',
      'DROP',
    ]);
    log('pending-join', `${worker}: iptables drops outbound tcp to port 2377`);
    const token = await run('docker', ['exec', manager, 'docker', 'swarm', 'join-token', '-q', 'worker']);
    const body = {
      ListenAddr: '0.0.0.0:2377',
      AdvertiseAddr: await addressOf(c, worker),
      RemoteAddrs: [`${await addressOf(c, manager)}:2377`],
      JoinToken: token,
    };
    // The join runs in the background (the engine gives up waiting after about 20 s and goes on trying).
    const started = Date.now();
    const join = api(worker, 'POST', '/swarm/join', { body, timeoutS: 90 });
    let done = false;
    void join.then(() => (done = true));
    const states: string[] = [];
    const hosts = await until(`${worker} to be pending`, 250, 60_000, async () => {
      const s = String(swarmOf(await info(worker)).LocalNodeState);
      if (states.at(-1) !== s) {
        states.push(s);
        log(
          'pending-join',
          `+${seconds(started)} ${worker} LocalNodeState=${s} (join call ${done ? 'returned' : 'running'})`,
        );
      }
      if (s !== 'pending') return undefined;
      const all = await captureCluster(c.name);
      const w = swarmOf(all.find((h) => h.host === worker)!.info);
      return w.LocalNodeState === 'pending' ? all : undefined;
    });
    const pendingAt = seconds(started);
    await writeFixture(
      'pending-join',
      `a 3+3 cluster whose ${worker} left and then rejoined while its iptables dropped outbound tcp to port ` +
        `2377, captured ${pendingAt} after the join began (join call still running: ${!done}).`,
      hosts,
    );
    const j = await join;
    log('pending-join', `join call ended after ${seconds(started)}: ${j.status} ${j.error ?? ''}`);
    log('pending-join', `  ${describeHost(await captureHost(worker))}`);
  });
}

/** Every host of the cluster read at once, each with its address on the cluster network now. */
async function captureWithAddresses(c: Cluster, only?: string[], timeoutS = 30): Promise<HostCapture[]> {
  const names = only ?? (await containersOf(c.name));
  return Promise.all(
    names.map(async (n) => ({ ...(await captureHost(n, timeoutS)), address: await addressOf(c, n) })),
  ).then((hosts) => hosts.map(({ host, address, ...rest }) => ({ host, address, ...rest })));
}

/** Stop a node's engine the way an operator or a crash would (SIGTERM to dockerd), and wait until it is gone. */
async function stopEngine(container: string): Promise<void> {
  await run('docker', [
    'exec',
    container,
    'sh',
    '-c',
    'pkill -x dockerd; for i in $(seq 300); do pgrep -r R,S,D -x dockerd >/dev/null || exit 0; sleep 0.1; done; exit 1',
  ]);
}

/** Move a container to another address of its network (stopped or running): a new lease, a re-addressed host. */
async function moveTo(c: Cluster, container: string, address: string): Promise<void> {
  await run('docker', ['network', 'disconnect', `swarmup-${c.name}`, container]);
  await run('docker', ['network', 'connect', '--ip', address, `swarmup-${c.name}`, container]);
}

/**
 * restarted-moved: every node container of a 3+2 cluster stopped, moved to other addresses of its network, and
 * started (what a network without fixed addresses did before swarmup 0.2); captured once every manager says the
 * swarm has no leader.
 */
async function restartedMoved(): Promise<void> {
  await withCluster('fx-moved', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const all = await containersOf(c.name);
    const before = new Map(await Promise.all(all.map(async (n) => [n, await addressOf(c, n)] as const)));
    await run('docker', ['stop', ...all]);
    // Each node takes the next node's address, the last the first's: every address moves.
    const addresses = all.map((n) => before.get(n)!);
    for (const n of all) await run('docker', ['network', 'disconnect', `swarmup-${c.name}`, n]);
    for (const [i, n] of all.entries())
      await run('docker', [
        'network',
        'connect',
        '--ip',
        addresses[(i + 1) % addresses.length]!,
        `swarmup-${c.name}`,
        n,
      ]);
    await run('docker', ['start', ...all]);
    const started = Date.now();
    const hosts = await until('every manager to say it has no leader', 2000, 120_000, async () => {
      const now = await captureWithAddresses(c);
      const managers = now.filter((h) => /-manager-/.test(h.host));
      return managers.every((m) => /does not have a leader/.test(String(swarmOf(m.info).Error)))
        ? now
        : undefined;
    });
    for (const h of hosts) log('restarted-moved', `+${seconds(started)} ${h.address} ${describeHost(h)}`);
    await writeFixture(
      'restarted-moved',
      `a healthy 3+2 cluster whose node containers were stopped, each moved to the next one's address, and ` +
        `started, captured ${seconds(started)} after the start once every manager said the swarm has no leader.`,
      hosts,
    );
  });
}

/**
 * engines-stopped: the engines of two of the three managers of a 3+2 cluster stopped (SIGTERM to dockerd); the
 * survivor, the workers and what swarmup's engine facts command prints on the two stopped ones.
 */
async function enginesStopped(): Promise<void> {
  const { engineFactsScript } = await import('../../src/engine/host-facts.ts');
  await withCluster('fx-engines', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const leader = await leaderOf(c);
    const stopped = [1, 2, 3].map((i) => node(c, 'manager', i)).filter((m) => m !== leader);
    await Promise.all(stopped.map(stopEngine));
    const at = Date.now();
    await sleep(3000);
    const running = (await containersOf(c.name)).filter((n) => !stopped.includes(n));
    const hosts = await captureWithAddresses(c, running);
    const engines = await Promise.all(
      stopped.map(async (n) => ({
        host: n,
        address: await addressOf(c, n),
        engineFacts: await run('docker', ['exec', n, 'sh', '-c', engineFactsScript]),
      })),
    );
    for (const h of hosts) log('engines-stopped', `+${seconds(at)} ${describeHost(h)}`);
    await writeFixture(
      'engines-stopped',
      `a healthy 3+2 cluster whose managers ${stopped.join(' and ')} had their engine stopped (SIGTERM to ` +
        `dockerd), captured ${seconds(at)} later: the other hosts' answers, and the engine facts of those two.`,
      hosts,
      engines,
    );
  });
}

/**
 * manager-moved: a non-leader manager of a running 3+2 cluster moved to another address of its network (a VM
 * given a new lease); captured once the leader lists it unreachable.
 */
async function managerMoved(): Promise<void> {
  await withCluster('fx-mgr-moved', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const leader = await leaderOf(c);
    const victim = [1, 2, 3].map((i) => node(c, 'manager', i)).find((m) => m !== leader)!;
    const was = await addressOf(c, victim);
    const to = was.replace(/\.\d+$/, '.200');
    await moveTo(c, victim, to);
    const moved = Date.now();
    log('manager-moved', `${victim}: ${was} -> ${to}; leader ${leader}`);
    await until(`${leader} to list ${victim} unreachable`, 1000, 120_000, async () => {
      const v = (await nodesFrom(leader))?.find((n) => hostname(n) === victim);
      return managerStatus(v ?? {})?.Reachability === 'unreachable' ? true : undefined;
    });
    const hosts = await captureWithAddresses(c);
    for (const h of hosts) log('manager-moved', `+${seconds(moved)} ${h.address} ${describeHost(h)}`);
    await writeFixture(
      'manager-moved',
      `a healthy 3+2 cluster whose manager ${victim} was moved from ${was} to ${to} on its network while it ran, ` +
        `captured ${seconds(moved)} later once the leader ${leader} listed it unreachable.`,
      hosts,
    );
  });
}

/**
 * engine-versions: the answers of a one-manager swarm's engine on each suite node images are built from (bookworm:
 * 20.10, trixie: 26.1, sid: 28.5), for the checks of what an engine can do (its version, FirewallBackend).
 */
async function engineVersions(): Promise<void> {
  const hosts: HostCapture[] = [];
  for (const suite of ['bookworm', 'trixie', 'sid']) {
    await withCluster(
      `fx-v-${suite}`,
      1,
      0,
      async (c) => {
        const h = await captureHost(node(c, 'manager', 1));
        // The fields the checks read, plus what says which engine this is.
        const i = h.info as Json;
        const full = (await info(node(c, 'manager', 1))) ?? {};
        h.info = { ...i, FirewallBackend: full.FirewallBackend ?? null, Driver: full.Driver };
        hosts.push(h);
        log(
          'engine-versions',
          `${suite}: ${describeHost(h)}; FirewallBackend ${JSON.stringify(full.FirewallBackend ?? null)}`,
        );
      },
      ['--engine-suite', suite],
    );
  }
  await writeFixture(
    'engine-versions',
    'one 1-manager swarm per node image suite (bookworm, trixie, sid), each manager read as swarmup reads it.',
    hosts,
  );
}

/**
 * adopted-down-namesake: a swarm swarmup did not make, as an ssh inventory adopts it. Four node containers with
 * engines and no swarm (swarmup up --until provision); on manager-1 a swarm is made by hand, worker-1 joins it and
 * its machine then goes (container and volume removed), so the manager lists it Down. worker-2 is in no swarm and
 * has the same hostname as worker-1 had ("debian": hostnames are not unique, cloud images give every machine the
 * same one); worker-3 is in no swarm with a hostname of its own. Captured once the manager lists worker-1 down.
 */
async function adoptedDownNamesake(): Promise<void> {
  await withCluster(
    'fx-adopt',
    1,
    3,
    async (c) => {
      const [manager, gone, namesake] = [node(c, 'manager', 1), node(c, 'worker', 1), node(c, 'worker', 2)];
      for (const n of [gone, namesake]) await run('docker', ['exec', n, 'hostname', 'debian']);
      const managerAddr = await addressOf(c, manager);
      await run('docker', ['exec', manager, 'docker', 'swarm', 'init', '--advertise-addr', managerAddr]);
      // The token stays in this process: it reaches the worker only in the body of its join request.
      const token = await run('docker', ['exec', manager, 'docker', 'swarm', 'join-token', '-q', 'worker']);
      const joined = await api(gone, 'POST', '/swarm/join', {
        body: {
          ListenAddr: '0.0.0.0:2377',
          AdvertiseAddr: await addressOf(c, gone),
          RemoteAddrs: [`${managerAddr}:2377`],
          JoinToken: token,
        },
        timeoutS: 60,
      });
      if (joined.status !== 200) throw new Error(`${gone}: join failed: ${joined.error}`);
      const id = String(swarmOf(await info(gone)).NodeID);
      const listed = (await nodesFrom(manager))?.find((n) => n.ID === id);
      if (hostname(listed ?? {}) !== 'debian')
        throw new Error(`${manager} lists ${gone} as ${hostname(listed ?? {})}, not debian`);
      await removeNode(gone);
      const removed = Date.now();
      await until(`${manager} to list ${gone} down`, 1000, 180_000, async () => {
        const n = (await nodesFrom(manager))?.find((x) => x.ID === id);
        return obj(n?.Status).State === 'down' ? true : undefined;
      });
      const hosts = await captureCluster(c.name);
      const names = hosts.map((h) => `${h.host}: ${String(h.info.Name)}`).join(', ');
      await writeFixture(
        'adopted-down-namesake',
        `a swarm made by hand on ${manager} (not by swarmup), whose worker ${gone} (hostname debian) joined it and ` +
          `had its container and volume removed, captured ${seconds(removed)} later once the manager listed it ` +
          `down; the other machines are in no swarm (hostnames ${names}).`,
        hosts,
      );
    },
    ['--until', 'provision', '--engine-suite', 'bookworm'],
  );
}

/**
 * manager-locked: a 3+1 cluster made with `--autolock` whose non-leader manager's machine restarted (its node
 * container restarted, the engine started again at boot): that engine cannot read its raft data without the unlock
 * key, so its swarm is locked. Captured once the leader lists it unreachable (a locked manager takes no part in
 * raft), which is what the next command run after such a reboot reads.
 */
async function managerLocked(): Promise<void> {
  await withCluster(
    'fx-locked',
    3,
    1,
    async (c) => {
      await waitHealthy(c, 4);
      const leader = await leaderOf(c);
      const autolock = obj(obj(obj(swarmOf(await info(leader)).Cluster).Spec).EncryptionConfig);
      if (autolock.AutoLockManagers !== true) throw new Error(`${c.name} was not made with autolock`);
      const victim = [1, 2, 3].map((i) => node(c, 'manager', i)).find((m) => m !== leader)!;
      log('manager-locked', `leader ${leader}; restarting ${victim} (its machine)`);
      await run('docker', ['restart', '-t', '10', victim]);
      const restarted = Date.now();
      await until(`${victim} to answer that its swarm is locked`, 500, 120_000, async () => {
        const s = String(swarmOf(await info(victim, 5)).LocalNodeState);
        return s === 'locked' ? true : undefined;
      });
      log('manager-locked', `${victim} locked ${seconds(restarted)} after the restart`);
      await until(`${leader} to list ${victim} unreachable`, 1000, 120_000, async () => {
        const v = (await nodesFrom(leader))?.find((n) => hostname(n) === victim);
        return managerStatus(v ?? {})?.Reachability === 'unreachable' ? true : undefined;
      });
      const hosts = await captureCluster(c.name);
      await writeFixture(
        'manager-locked',
        `a 3+1 cluster made with --autolock whose manager ${victim} (not the leader) had its node container ` +
          `restarted, captured ${seconds(restarted)} later once its engine said the swarm is locked and the ` +
          `leader ${leader} listed it unreachable.`,
        hosts,
      );
    },
    ['--autolock'],
  );
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * manager-restarted: a follower of a 3+2 cluster whose engine was stopped and started again while the two others
 * kept their leader, its port 2377 dropped both ways until captured: its swarm node cannot become ready, so dockerd
 * serves its API after its 20 s wait with the node still "pending" (what a loaded machine shows when a restarted
 * manager's agent has no session with the dispatcher yet). Then the rules go and it becomes active again.
 */
async function managerRestarted(): Promise<void> {
  await withCluster('fx-mrestart', 3, 2, async (c) => {
    await waitHealthy(c, 5);
    const leader = await leaderOf(c);
    const follower = [1, 2, 3].map((i) => node(c, 'manager', i)).find((m) => m !== leader)!;
    await stopEngine(follower);
    const drop = (op: '-I' | '-D') => [
      ['exec', follower, 'iptables', op, 'OUTPUT', '-p', 'tcp', '--dport', '2377', '-j', 'DROP'],
      ['exec', follower, 'iptables', op, 'INPUT', '-p', 'tcp', '--dport', '2377', '-j', 'DROP'],
    ];
    for (const args of drop('-I')) await run('docker', args);
    await run('docker', [
      'exec',
      '-d',
      follower,
      'sh',
      '-c',
      `dockerd --cgroup-parent /swarmup-${follower} >>/var/log/dockerd.log 2>&1`,
    ]);
    const started = Date.now();
    await until(`${follower} to answer`, 500, 120_000, async () =>
      (await info(follower, 5)) ? true : undefined,
    );
    const hosts = await captureCluster(c.name);
    const pendingAt = seconds(started);
    for (const args of drop('-D')) await run('docker', args);
    for (const h of hosts) log('manager-restarted', `+${pendingAt} ${describeHost(h)}`);
    for (const n of describeNodes(hosts.find((h) => h.host === leader)!.nodes ?? []))
      log('manager-restarted', `  ${n}`);
    if (swarmOf(hosts.find((h) => h.host === follower)!.info).LocalNodeState !== 'pending')
      throw new Error(`${follower} was not pending when the cluster was read`);
    await writeFixture(
      'manager-restarted',
      `a healthy 3+2 cluster whose follower ${follower}'s engine was restarted with its port 2377 dropped both ` +
        `ways, captured ${pendingAt} after the start, when its engine first answered.`,
      hosts,
    );
    const activeAt = await until(`${follower} active`, 500, 120_000, async () =>
      swarmOf(await info(follower)).LocalNodeState === 'active' ? seconds(started) : undefined,
    );
    log('manager-restarted', `${follower} active ${activeAt} after the start`);
  });
}

/**
 * drain-placement: what `swarmup drain` reads (GET /nodes, /services, /tasks of the leader) on a 1+2 cluster
 * running services of every placement kind, in three moments: `before` a worker is drained (web's 4 replicas 2 and
 * 2 on the workers), `moving` (read right after the drain was set: tasks shutting down, replacements starting) and
 * `after` (web's 4 on the other worker; `pinned`, bound to the drained worker, pending with the scheduler's reason).
 * The tasks run an image made in the manager from its own /usr/bin/sleep and loaded into each worker, named by ID
 * (no engine asks a registry for it).
 */
async function drainPlacement(): Promise<void> {
  await withCluster('fx-drain', 1, 2, async (c) => {
    await waitHealthy(c, 3);
    const m = node(c, 'manager', 1);
    const [w1, w2] = [node(c, 'worker', 1), node(c, 'worker', 2)];
    const sh = (container: string, script: string) => run('docker', ['exec', container, 'sh', '-c', script]);
    await sh(
      m,
      "cd / && tar -ch usr/bin/sleep $(ldd /usr/bin/sleep | grep -o '/[^ ]*' | sed 's|^/||') | " +
        'docker import -c \'CMD ["/usr/bin/sleep","infinity"]\' - fx-sleep:1 >/dev/null',
    );
    const image = await sh(m, "docker image inspect -f '{{.Id}}' fx-sleep:1");
    const saved = await execa('docker', ['exec', m, 'docker', 'save', 'fx-sleep:1'], { encoding: 'buffer' });
    for (const w of [w1, w2])
      await execa('docker', ['exec', '-i', w, 'docker', 'load'], { input: saved.stdout as Uint8Array });
    await sh(m, `docker node update --label-add zone=a ${w2} >/dev/null`);
    const create = (name: string, ...args: string[]) =>
      sh(m, `docker service create --detach --no-resolve-image --name ${name} ${args.join(' ')} ${image}`);
    await create('web', '--replicas 4', '--constraint node.role==worker');
    await create('pinned', '--replicas 1', `--constraint node.hostname==${w1}`);
    await create(
      'zone-a',
      '--replicas 1',
      "--constraint 'node.labels.zone == a'",
      '--constraint node.role!=manager',
    );
    await create('nowhere', '--replicas 1', '--constraint node.labels.zone==nowhere');
    await create('on-linux', '--replicas 1', '--constraint node.platform.os==linux');
    await create('no-engine-label', '--replicas 1', '--constraint engine.labels.tier!=db');
    await create('everywhere', '--mode global');
    const snapshot = async () => {
      const [nodes, services, tasks] = await Promise.all(
        ['/nodes', '/services', '/tasks'].map(async (p) => {
          const a = await api(m, 'GET', p);
          if (a.status !== 200 || !Array.isArray(a.body))
            throw new Error(`${m}: GET ${p} failed: ${a.error}`);
          return (a.body as unknown[]).map(obj);
        }),
      );
      return { nodes: nodes!.map(trimNode), services: services!, tasks: tasks! };
    };
    const ids = Object.fromEntries(
      ((await nodesFrom(m)) ?? []).map((n) => [hostname(n), String(n.ID)]),
    ) as Record<string, string>;
    type Snap = Awaited<ReturnType<typeof snapshot>>;
    const serviceId = (s: Snap, name: string) =>
      String(s.services.find((x) => obj(x.Spec).Name === name)?.ID);
    const runningOf = (s: Snap, name: string, nodeId?: string) =>
      s.tasks.filter(
        (t) =>
          t.ServiceID === serviceId(s, name) &&
          (nodeId === undefined || t.NodeID === nodeId) &&
          obj(t.Status).State === 'running' &&
          t.DesiredState === 'running',
      ).length;
    const before = await until(
      'web 2+2 on the workers, zone-a and pinned running',
      1000,
      120_000,
      async () => {
        const s = await snapshot();
        const ok =
          runningOf(s, 'web', ids[w1]) === 2 &&
          runningOf(s, 'web', ids[w2]) === 2 &&
          runningOf(s, 'zone-a') === 1 &&
          runningOf(s, 'pinned') === 1;
        return ok ? s : undefined;
      },
    );
    await sh(m, `docker node update --availability drain ${w1} >/dev/null`);
    const moving = await snapshot();
    const after = await until('web 4 on worker-2', 1000, 120_000, async () => {
      const s = await snapshot();
      const left = s.tasks.filter(
        (t) =>
          t.NodeID === ids[w1] && ['running', 'starting', 'preparing'].includes(String(obj(t.Status).State)),
      );
      return runningOf(s, 'web', ids[w2]) === 4 && left.length === 0 ? s : undefined;
    });
    const raw = JSON.stringify(
      {
        state: 'drain-placement',
        captured:
          `${new Date().toISOString().slice(0, 10)}, a 1+2 cluster (${m}, ${w1}, ${w2} labelled zone=a) ` +
          `running web (4 replicas, node.role==worker), pinned (node.hostname==${w1}), zone-a, nowhere, ` +
          `on-linux, no-engine-label and everywhere (global); ${w1} drained between before and moving.`,
        drained: { host: w1, nodeId: ids[w1] },
        before,
        moving,
        after,
      },
      null,
      2,
    );
    if (SECRET.test(raw)) throw new Error('the drain-placement fixture contains a swarm token or key');
    const file = join(OUT_DIR, 'drain-placement.json');
    const config = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(raw, { ...config, filepath: file }));
    log('drain-placement', `wrote ${file}`);
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const bad = args.filter((a) => !(STATES as readonly string[]).includes(a));
  if (bad.length) throw new Error(`unknown state(s): ${bad.join(', ')}; states: ${STATES.join(', ')}`);
  const wanted = new Set<State>(args.length ? (args as State[]) : STATES);
  await run('docker', ['info', '--format', '{{.ServerVersion}}']).catch(() => {
    throw new Error('no Docker engine answers here (start dockerd first)');
  });
  log('capture', `swarmup bin ${BIN}; states: ${[...wanted].join(', ')}`);
  const jobs: Array<[string, () => Promise<void>]> = [];
  if (wanted.has('converged')) jobs.push(['converged', converged]);
  if (wanted.has('manager-gone')) jobs.push(['manager-gone', managerGone]);
  const chain: State[] = ['quorum-lost-early', 'quorum-lost-settled', 'recovered', 'recovered-settled'];
  if (chain.some((s) => wanted.has(s))) jobs.push(['quorum', () => quorumLost(wanted)]);
  if (wanted.has('quorum-lost-early-leader')) jobs.push(['quorum-lost-early-leader', quorumLostLeader]);
  if (wanted.has('worker-left')) jobs.push(['worker-left', workerLeft]);
  if (wanted.has('pending-join')) jobs.push(['pending-join', pendingJoin]);
  if (wanted.has('restarted-moved')) jobs.push(['restarted-moved', restartedMoved]);
  if (wanted.has('engines-stopped')) jobs.push(['engines-stopped', enginesStopped]);
  if (wanted.has('manager-moved')) jobs.push(['manager-moved', managerMoved]);
  if (wanted.has('engine-versions')) jobs.push(['engine-versions', engineVersions]);
  if (wanted.has('adopted-down-namesake')) jobs.push(['adopted-down-namesake', adoptedDownNamesake]);
  if (wanted.has('manager-locked')) jobs.push(['manager-locked', managerLocked]);
  if (wanted.has('manager-restarted')) jobs.push(['manager-restarted', managerRestarted]);
  if (wanted.has('drain-placement')) jobs.push(['drain-placement', drainPlacement]);
  const failed: string[] = [];
  for (const [name, job] of jobs) {
    try {
      await job();
    } catch (err) {
      failed.push(name);
      log(name, `FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failed.length) {
    log('capture', `failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
