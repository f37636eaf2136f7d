import { poolOverlaps } from '../swarm/addr-pool.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { waitForLeader } from '../swarm/leader-wait.ts';
import { readSwarm, readSwarmFacts } from '../swarm/read-facts.ts';
import type { Machine } from '../providers/provider.ts';
import type { ApplyRun } from './apply-run.ts';
import { planCluster, type ClusterPlan } from './plan.ts';
import type { ClusterReading } from './read.ts';
import { planEvent } from './render-plan.ts';
import { movedSilent } from './unread.ts';

/** The swarm part to apply, and the facts of every host it was planned from. */
export interface SwarmToApply {
  plan: ClusterPlan;
  facts: HostFacts[];
}

/**
 * Re-read what the machines and engines parts changed; plan the swarm again only if it is not what was assumed (or
 * it waited for hosts this run started).
 */
export async function rereadAndReplan(run: ApplyRun, hosts: Machine[]): Promise<SwarmToApply> {
  const { plan, machines } = run;
  const reread = [...run.touched, ...plan.later].filter((n) => machines.has(n));
  if (plan.deferred) return planOnceLed(run, hosts, reread);
  if (reread.length > 0) return replanIfChanged(run, reread);
  return { plan, facts: run.reading.input.facts };
}

/**
 * Machines and engines that were stopped run again: once the managers have a leader, every host is read (the raft
 * of all of them changed, not only of those started) and the swarm is planned from that.
 */
async function planOnceLed(run: ApplyRun, hosts: Machine[], reread: string[]): Promise<SwarmToApply> {
  const { ctx, reading, machines } = run;
  await waitForLeader(ctx, hosts);
  const now = await readSwarm(ctx.withHosts(hosts), {
    engineWaitMs: 60_000,
    tolerateNoEngine: true,
    routes: true,
  });
  const moved = movedSilent(
    now.unread,
    now.facts,
    reading.input.recordedNodeIds ?? {},
    (n) => machines.get(n)?.advertiseAddress,
  );
  const facts = [
    ...reading.input.facts.filter((f) => !hosts.some((h) => h.name === f.host)),
    ...now.facts,
    ...moved.facts,
  ];
  const swarmPlan = planCluster({
    ...reading.input,
    facts,
    later: [],
    refused: moved.unread.map((u) => ({ host: u.host, reason: u.reason })),
    listing: runningNow(reading.input.listing, reread),
  });
  ctx.reporter.emit({ event: 'plan', revised: true, ...planEvent(swarmPlan) });
  if (swarmPlan.addrPool) run.progress(swarmPlan.addrPool.description);
  return { plan: swarmPlan, facts };
}

/**
 * The facts of the machines created or started; the swarm is planned again when one is not a fresh engine, or the
 * pool swarmup chose overlaps one of their routes.
 */
async function replanIfChanged(run: ApplyRun, reread: string[]): Promise<SwarmToApply> {
  const { ctx, reading, plan, machines } = run;
  const fresh = await readSwarmFacts(ctx.withHosts(reread.map((n) => machines.get(n)!)), {
    engineWaitMs: 60_000,
    routes: true,
  });
  const facts = [...reading.input.facts.filter((f) => !reread.includes(f.host)), ...fresh];
  const assumedFresh = fresh.every((f) => f.state === 'inactive') && plan.later.length === 0;
  // A pool swarmup chose before these machines existed must overlap none of their routes either.
  const poolClash = chosenPoolClashes(plan.addrPool, fresh);
  if (assumedFresh && !poolClash) return { plan, facts };
  const swarmPlan = planCluster({
    ...reading.input,
    facts,
    listing: runningNow(reading.input.listing, reread),
  });
  ctx.reporter.emit({ event: 'plan', revised: true, ...planEvent(swarmPlan) });
  const pool = swarmPlan.addrPool;
  if (pool && pool.description !== plan.addrPool?.description) run.progress(pool.description);
  return { plan: swarmPlan, facts };
}

/** The listing as it is now: the hosts re-read run (whatever the listing said of them before). */
function runningNow(listing: ClusterReading['input']['listing'], reread: string[]) {
  return listing
    .filter((m) => !reread.includes(m.name))
    .concat(reread.map((n) => ({ name: n, role: 'worker' as const, state: 'running' as const })));
}

/** Whether a pool swarmup chose (not one given) overlaps a route of the hosts just read. */
function chosenPoolClashes(pool: ClusterPlan['addrPool'], fresh: HostFacts[]): boolean {
  if (!pool || pool.source === 'given' || pool.source === 'swarm') return false;
  return poolOverlaps(
    pool.pool,
    fresh.flatMap((f) => f.routes ?? []),
  );
}
