import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import { errorMessage } from '../errors.ts';
import { withDeadline } from '../transport/deadline.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRoutes, type SeenNetwork } from './addr-pool.ts';
import { readHostFacts, waitForEngine } from './engine.ts';
import { waitingForLeader, type HostFacts } from './facts.ts';
import { DOCKERD_RUNS } from '../engine/service.ts';

export interface ReadFactsOptions {
  /** How long to wait for an engine that does not answer yet (a machine still booting). */
  engineWaitMs: number;
  /** How long a host may stay "pending" (a join going on in the background) before it is planned as broken. */
  settleMs?: number;
  /** Only these hosts (others were read already). */
  only?: string[];
  /** A host whose engine does not answer is left out of the result instead of failing the step. */
  tolerateNoEngine?: boolean;
  /**
   * Hosts that are left out (returned in `unreachable`) when they cannot be reached over SSH, instead of failing
   * the step: one unreachable worker does not hold up the others.
   */
  leaveOutUnreachable?: ReadonlySet<string>;
  /** How long a manager may fail to list the nodes (a leader election) before it is read as such. */
  electionWaitMs?: number;
  /** How long to watch a member that says "pending" or "error" while the leader lists it (60 s; 0 with settleMs 0). */
  restartWaitMs?: number;
  /** Also read each host's IPv4 routes (`ip -4 route`), at the same time as its engine. */
  routes?: boolean;
  /**
   * Deadline of each read: 10 s by default. A manager whose raft has no leader may hold GET /info or GET /nodes
   * for tens of seconds; past the deadline it is reported as such instead of being waited for.
   */
  deadlineMs?: number;
  /**
   * Facts of other hosts already in hand (read before, or vouched for by the node list): weighed when judging what a
   * host read now is in the middle of (the leader's list among them), neither read again nor returned.
   */
  known?: readonly HostFacts[];
}

/** A host whose SSH connection works but whose swarm could not be read: the engine is down, or does not answer. */
export interface UnreadHost {
  host: string;
  /** `down`: the engine does not answer at all (stopped, socket missing or not ours); `silent`: it answers
   *  /_ping but not GET /info within the deadline (a manager waiting for a leader holds it). */
  engine: 'down' | 'silent';
  reason: string;
}

/** A host left out because it could not be reached over SSH (see ReadFactsOptions.leaveOutUnreachable). */
export interface UnreachableHost {
  host: string;
  reason: string;
}

export interface SwarmReading {
  facts: HostFacts[];
  unread: UnreadHost[];
  unreachable: UnreachableHost[];
}

const DEFAULT_DEADLINE_MS = 10_000;

/**
 * Swarm facts from every host in parallel, one round trip each; hosts that answer are then watched a little
 * longer where that settles something (a join going on in the background; a leader election). A host that cannot
 * be reached over SSH fails the step, naming every such host and the cause, before anything was changed (unless it
 * is one to leave out: then it is returned in `unreachable`); a host whose engine does not answer is returned in
 * `unread` with the reason.
 */
export async function readSwarm(ctx: PlaybookContext, opts: ReadFactsOptions): Promise<SwarmReading> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const unread = new Map<string, UnreadHost>();
  const unreachable = new Map<string, UnreachableHost>();
  const results = await ctx.step('read swarm facts', opts.only ?? 'all', async (h) => {
    if (opts.leaveOutUnreachable?.has(h.name)) {
      try {
        await h.docker(); // the host's one connection, which the reads below use
      } catch (err) {
        unreachable.set(h.name, { host: h.name, reason: errorMessage(err) });
        return undefined;
      }
    }
    const routes = opts.routes ? readRoutes(h, deadlineMs) : undefined;
    const first = await readOnce(h, opts.engineWaitMs, deadlineMs);
    if ('engine' in first) {
      if (!opts.tolerateNoEngine) throw new Error(first.reason);
      unread.set(h.name, first);
      return undefined;
    }
    return routes ? { ...first, routes: await routes } : first;
  });
  let facts = ctx.hosts.flatMap((h) => {
    const f = results.get(h.name);
    return f ? [f] : [];
  });
  facts = await settle(ctx, facts, opts, deadlineMs);
  const inOrder = <T>(m: Map<string, T>) => ctx.hosts.flatMap((h) => (m.has(h.name) ? [m.get(h.name)!] : []));
  return { facts, unread: inOrder(unread), unreachable: inOrder(unreachable) };
}

/** The facts of the hosts whose engine answered (see readSwarm); an unread host fails unless tolerated. */
export async function readSwarmFacts(ctx: PlaybookContext, opts: ReadFactsOptions): Promise<HostFacts[]> {
  return (await readSwarm(ctx, opts)).facts;
}

/** One host: GET /info and GET /nodes at once; where the engine does not answer, why. */
async function readOnce(
  h: HostHandle,
  engineWaitMs: number,
  deadlineMs: number,
): Promise<HostFacts | UnreadHost> {
  const docker = await h.docker();
  const read = () => readHostFacts(docker, h.name, h.host.advertiseAddress, deadlineMs);
  try {
    return await read();
  } catch (err) {
    // The engine may answer its ping while its swarm holds GET /info (a manager waiting for a leader).
    const pinged = await withDeadline(docker.ping(), 3_000, 'ping').then(
      () => true,
      () => false,
    );
    if (pinged) {
      return {
        host: h.name,
        engine: 'silent',
        reason: `the engine answers, but not about its swarm within ${deadlineMs / 1000} s (${errorMessage(err)}): a manager whose raft has no leader does this`,
      };
    }
    // Waited for only while a dockerd process runs (an engine still starting): one that is not there will not
    // answer by itself, however long it is waited for.
    const starting = engineWaitMs > 0 && (await dockerdRuns(h));
    try {
      await waitForEngine(docker, starting ? engineWaitMs : 0);
    } catch (down) {
      return { host: h.name, engine: 'down', reason: errorMessage(down) };
    }
    try {
      return await read();
    } catch (again) {
      return { host: h.name, engine: 'silent', reason: errorMessage(again) };
    }
  }
}

/** Why a host that answered is read again before anything is planned from it (see settle). */
export type Settling = 'joining' | 'restarting' | 'electing';

/**
 * What a host is in the middle of, judged from one round of reads (pure): undefined when it has settled. Without a
 * manager that lists the nodes with a leader nothing settles by itself, so only an election is waited for then.
 * - `restarting`: a member (the leader lists its NodeID) that says "pending" or "error": its engine was just
 *   started and its node is finding the others (a manager's own raft may say it has no leader meanwhile), or Docker
 *   restarts its swarm node after it exited, with a backoff that doubles up to 30 s ("error" meanwhile).
 * - `joining`: "pending" and not listed: a join going on in the background.
 * - `electing`: a manager whose node list failed while its raft elects a leader (not one that says it has none).
 */
export function settlingOf(facts: readonly HostFacts[]): Map<string, Settling> {
  const leaderLists = facts.find((f) => f.isManager && f.nodes?.some((n) => n.leader))?.nodes;
  const listed = new Set(leaderLists?.map((n) => n.id) ?? []);
  const out = new Map<string, Settling>();
  for (const f of facts) {
    const member = !!f.nodeId && listed.has(f.nodeId);
    if (member && (f.state === 'pending' || f.state === 'error')) out.set(f.host, 'restarting');
    else if (leaderLists && f.state === 'pending') out.set(f.host, 'joining');
    else if (
      f.isManager &&
      !f.nodes &&
      f.state === 'active' &&
      !/does not have a leader/i.test(f.swarmError ?? '')
    )
      out.set(f.host, 'electing');
  }
  return out;
}

/**
 * Hosts that answered but are in the middle of something (settlingOf) are read again, each bounded: a join by
 * `settleMs`, a member coming back by `restartWaitMs`, an election by `electionWaitMs`. What a host said last
 * stands (a member still not back is then planned as broken: it leaves and joins again).
 */
async function settle(
  ctx: PlaybookContext,
  facts: HostFacts[],
  opts: ReadFactsOptions,
  deadlineMs: number,
): Promise<HostFacts[]> {
  const bounds: Record<Settling, number> = {
    joining: opts.settleMs ?? 30_000,
    restarting: opts.settleMs === 0 ? 0 : (opts.restartWaitMs ?? 60_000),
    electing: opts.electionWaitMs ?? 10_000,
  };
  const known = opts.known ?? [];
  const readNow = new Set(facts.map((f) => f.host));
  const busy = [...settlingOf([...known, ...facts])].filter(
    ([host, why]) => readNow.has(host) && bounds[why] > 0,
  );
  if (busy.length === 0) return facts;
  const again = new Map<string, HostFacts>();
  await Promise.all(
    busy.map(async ([name, why]) => {
      const f = facts.find((x) => x.host === name)!;
      const host = ctx.hosts.find((h) => h.name === name)!;
      const docker = await ctx.handle(host).docker();
      const until = Date.now() + bounds[why];
      let now = f;
      // Judged against the first round's leader: a host's own answer says nothing of the others.
      const still = (x: HostFacts) =>
        settlingOf([...known, ...facts.map((y) => (y.host === name ? x : y))]).has(name);
      // An election is not waited for once the manager says outright that there is no leader; a member coming
      // back may say so of its own raft while the others have one.
      const hopeless = (x: HostFacts) => why === 'electing' && waitingForLeaderSaid(x);
      while (still(now) && !hopeless(now) && Date.now() < until) {
        await sleep(why === 'electing' ? 500 : 250);
        try {
          now = await readHostFacts(docker, name, host.advertiseAddress, deadlineMs);
        } catch {
          break; // it answered a moment ago: what it said then stands
        }
      }
      again.set(name, { ...now, ...(f.routes ? { routes: f.routes } : {}) });
    }),
  );
  return facts.map((f) => again.get(f.host) ?? f);
}

/** A manager that says outright that its swarm has no leader: no use waiting for an election here. */
function waitingForLeaderSaid(f: HostFacts): boolean {
  return waitingForLeader(f) && /does not have a leader/i.test(f.swarmError ?? '');
}

/** Whether a dockerd process runs on the host (true when that cannot be told: then it is waited for). */
async function dockerdRuns(h: HostHandle): Promise<boolean> {
  try {
    const r = await h.exec(`if ${DOCKERD_RUNS}; then echo 0; else echo 1; fi`, { deadlineMs: 10_000 });
    return r.stdout.trim() !== '1';
  } catch {
    return true;
  }
}

function readRoutes(h: HostHandle, deadlineMs: number): Promise<SeenNetwork[]> {
  return h
    .exec('ip -4 route show 2>/dev/null', { deadlineMs: Math.max(deadlineMs, 30_000) })
    .then((r) => parseRoutes(h.name, r.stdout))
    .catch(() => [] as SeenNetwork[]);
}
