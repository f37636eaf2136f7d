import { installEngine, planEngines, preflight, probePorts, readEngineFacts } from '../engine/ensure.ts';
import { errorMessage, InputError, StepError } from '../errors.ts';
import type { SwarmupEvent } from '../playbook/event-schema.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { SwarmApplier, type SwarmActionContext } from '../swarm/apply-action.ts';
import { poolOverlaps } from '../swarm/addr-pool.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { waitForLeader } from '../swarm/leader-wait.ts';
import { readSwarm, readSwarmFacts } from '../swarm/read-facts.ts';
import { refuseLocked } from '../swarm/locked.ts';
import { removeSmokeResources } from '../swarm/smoke-cleanup.ts';
import { actionHost, describeAction, type Action, type Phase, type Stage } from '../swarm/actions.ts';
import { planCluster, phasesUntil, type ClusterPlan } from './plan.ts';
import type { ClusterReading } from './read.ts';
import { movedSilent } from './unread.ts';

export interface Applied {
  /** The plan as applied (revised once if re-read facts of new or started machines differed). */
  plan: ClusterPlan;
  /** SSH targets of the machines the cluster keeps, in inventory order. */
  hosts: Machine[];
  /** NodeID of every kept host now ('' when it left). */
  nodeIds: Map<string, string>;
  /** Whether every stage ran (not stopped by --until). */
  complete: boolean;
}

/**
 * Apply a cluster plan, phase by phase, each action counted as soon as it is done. Machines first, then engines;
 * the facts of machines that were created or started are read then (the only facts a part changed), and the swarm
 * part is planned again only if they differ from what the plan assumed. Then pre-flight, then the swarm.
 */
export async function applyCluster(
  ctx: PlaybookContext,
  reading: ClusterReading,
  plan: ClusterPlan,
  until?: Stage,
): Promise<Applied> {
  const machines = new Map(reading.machines);
  const progress = (message: string) => ctx.reporter.emit({ event: 'log', message });
  const emitAction = (a: Action, status: 'ok' | 'failed') =>
    ctx.reporter.emit({ event: 'action', status, ...a, description: describeAction(a) });
  const runPhase = (phase: Phase, run: (a: Action) => Promise<void>) =>
    ctx.tasks(
      phase.title,
      phase.actions.map((a) => ({
        title: describeAction(a),
        run: async () => {
          try {
            await run(a);
          } catch (err) {
            emitAction(a, 'failed');
            if (err instanceof StepError || err instanceof InputError) throw err;
            throw new StepError(actionHost(a, plan.swarm.entry), describeAction(a), errorMessage(err));
          }
          ctx.changed();
          emitAction(a, 'ok');
        },
      })),
      { concurrent: phase.mode === 'parallel' },
    );

  const phases = phasesUntil(plan.phases, until);
  const kept = () => keptHosts(reading, machines);

  // 1. Machines.
  const touched = new Set<string>();
  // Shared resources (network; key pair, security group and its rules) are reconciled on every run.
  const prepared = await ctx.provider.prepare(progress);
  ctx.changed(prepared.length);
  for (const phase of phases.filter((p) => p.stage === 'provision')) {
    await runPhase(phase, async (a) => {
      if (a.kind === 'create-machine') await ctx.provider.create({ name: a.host, role: a.role }, progress);
      else if (a.kind === 'start-machine') await ctx.provider.start(a.host, progress);
      if ('host' in a) touched.add(a.host);
    });
  }
  if (touched.size > 0 || plan.later.length > 0) {
    // Machines exist now: record the cluster, so status, down and cleanup know it even if the run stops here.
    recordCluster(ctx);
    for (const m of await ctx.provider.reach([...touched, ...plan.later], progress)) machines.set(m.name, m);
  }
  if (until === 'provision') return { plan, hosts: kept(), nodeIds: new Map(), complete: false };

  // 2. Engines: a new machine's OS is read now; existing hosts' plans were made from facts read before.
  for (const phase of phases.filter((p) => p.stage === 'engine')) {
    await runPhase(phase, async (a) => {
      if (a.kind !== 'engine') return;
      const host = machines.get(a.host)!;
      const one = ctx.withHosts([host]);
      await readEngineFacts(one, [a.host], reading.engineReading);
      const [hostPlan] = planEngines(one, reading.engineReading);
      if (hostPlan && hostPlan.steps.length > 0)
        await installEngine(one, one.handle(host), hostPlan, reading.engineReading.facts.get(a.host)!);
      touched.add(a.host);
    });
  }
  if (until === 'engine') return { plan, hosts: kept(), nodeIds: new Map(), complete: false };

  // 3. Re-read what the earlier parts changed; plan the swarm again only if it is not what was assumed. The port
  //    probe of the hosts the plan joins runs meanwhile (new machines' engines are still starting).
  const hosts = keptHosts(reading, machines);
  const preflightOf = (p: ClusterPlan) => ({
    reference: p.swarm.entry,
    joining: new Set(
      p.phases
        .filter((ph) => ph.stage === 'swarm')
        .flatMap((ph) => ph.actions)
        .flatMap((a) => (a.kind === 'init' || a.kind === 'join' ? [a.host] : [])),
    ),
    roles: p.swarm.roles,
    ...dataPathPortOf(p, facts),
  });
  let facts = reading.input.facts;
  let swarmPlan = plan;
  const reread = [...touched, ...plan.later].filter((n) => machines.has(n));
  const early = plan.later.length === 0 ? preflightOf(plan) : undefined;
  const probing = early && early.joining.size > 0 ? probePorts(ctx.withHosts(hosts), early) : undefined;
  probing?.catch(() => undefined); // awaited below; a failure is reported there
  const runningNow = (listing: ClusterReading['input']['listing']) =>
    listing
      .filter((m) => !reread.includes(m.name))
      .concat(reread.map((n) => ({ name: n, role: 'worker' as const, state: 'running' as const })));
  if (plan.deferred) {
    // Machines and engines that were stopped run again: once the managers have a leader, every host is read (the
    // raft of all of them changed, not only of those started) and the swarm is planned from that.
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
    facts = [...facts.filter((f) => !hosts.some((h) => h.name === f.host)), ...now.facts, ...moved.facts];
    swarmPlan = planCluster({
      ...reading.input,
      facts,
      later: [],
      refused: moved.unread.map((u) => ({ host: u.host, reason: u.reason })),
      listing: runningNow(reading.input.listing),
    });
    ctx.reporter.emit({ event: 'plan', revised: true, ...planEvent(swarmPlan) });
    if (swarmPlan.addrPool) progress(swarmPlan.addrPool.description);
  } else if (reread.length > 0) {
    const fresh = await readSwarmFacts(ctx.withHosts(reread.map((n) => machines.get(n)!)), {
      engineWaitMs: 60_000,
      routes: true,
    });
    facts = [...facts.filter((f) => !reread.includes(f.host)), ...fresh];
    const assumedFresh = fresh.every((f) => f.state === 'inactive') && plan.later.length === 0;
    // A pool swarmup chose before these machines existed must overlap none of their routes either.
    const poolClash = chosenPoolClashes(plan.addrPool, fresh);
    if (!assumedFresh || poolClash) {
      swarmPlan = planCluster({ ...reading.input, facts, listing: runningNow(reading.input.listing) });
      ctx.reporter.emit({ event: 'plan', revised: true, ...planEvent(swarmPlan) });
      const pool = swarmPlan.addrPool;
      if (pool && pool.description !== plan.addrPool?.description) progress(pool.description);
    }
  }
  // A manager that was started again with autolock on waits for its key: said plainly, before any swarm change.
  refuseLocked(facts);
  const swarmPhases = swarmPlan.phases.filter((p) => p.stage === 'swarm');
  for (const p of swarmPlan.problems) ctx.reporter.emit({ event: 'problem', ...p });

  // 4. Pre-flight before any swarm change: clocks, addresses, disk, and the ports between the hosts that join.
  const checks = preflightOf(swarmPlan);
  if (checks.joining.size > 0) {
    const sameProbe = swarmPlan === plan && probing;
    await preflight(ctx.withHosts(hosts), {
      ...checks,
      clockOffsets: clockOffsets(facts),
      ...(sameProbe ? { probed: probing } : {}),
    });
  }

  // 5. The swarm.
  const nodeIds = new Map(facts.map((f) => [f.host, f.nodeId]));
  const machineOf = (name: string): Machine => {
    const m = machines.get(name);
    if (!m) throw new StepError(name, 'swarm', 'no SSH target for this host');
    return m;
  };
  const swarm = new SwarmApplier({
    entry: swarmPlan.swarm.entry,
    machine: machineOf,
    docker: async (name) => (await ctx.connection(machineOf(name))).docker,
    nodeIds,
    log: progress,
    autolock: ctx.cluster.swarm.autolock,
    unlockKeys: unlockKeysOf(ctx),
  });
  const adopted = swarmPlan.swarm.adopted;
  if (adopted) {
    // Joining a swarm swarmup did not make (--adopt): its own nodes are recorded first, so down never touches them,
    // and later runs know the swarm is adopted (no stale removal of its nodes, no token rotation) even when this
    // run had nothing to join.
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      clusterId: swarmPlan.swarm.clusterId!,
      preexisting: adopted,
    });
  }
  for (const phase of swarmPhases) {
    await runPhase(phase, async (a) => {
      if (a.kind === 'remove-machine') {
        await ctx.provider.remove(a.host, progress);
        nodeIds.delete(a.host);
        return;
      }
      if (a.kind === 'remove-smoke') {
        await removeSmokeLeftovers(ctx, a, machineOf);
        return;
      }
      if (a.kind === 'init' && a.defaultAddrPool && swarmPlan.addrPool?.source !== 'given') {
        // Recorded before init: a run stopped here keeps the choice (while it overlaps nothing) next time.
        ctx.state.write({
          name: ctx.cluster.name,
          provider: ctx.cluster.provider,
          addrPool: a.defaultAddrPool,
        });
      }
      await swarm.apply(a);
      if (a.kind === 'init') {
        recordCluster(ctx, await readClusterId(ctx, machineOf(a.host)));
        // A swarm swarmup made (--new-swarm after an adopted one was gone): nothing of it is someone else's.
        if (ctx.state.read()?.preexisting)
          ctx.state.write({ name: ctx.cluster.name, provider: ctx.cluster.provider, preexisting: undefined });
      }
      // Every node swarmup joins is recorded at once: down makes only those leave.
      if (a.kind === 'init' || a.kind === 'join') {
        const recorded = ctx.state.read()?.nodeIds ?? {};
        ctx.state.write({
          name: ctx.cluster.name,
          provider: ctx.cluster.provider,
          nodeIds: { ...recorded, [a.host]: nodeIds.get(a.host) ?? '' },
        });
      }
    });
  }
  return { plan: swarmPlan, hosts, nodeIds, complete: true };
}

/**
 * Remove what an interrupted smoke test left: the service and its network through the manager that listed it, the
 * task containers and the probe image on each host; waited for (30 s) until no engine lists any of it.
 */
async function removeSmokeLeftovers(
  ctx: PlaybookContext,
  a: Extract<Action, { kind: 'remove-smoke' }>,
  machineOf: (name: string) => Machine,
): Promise<void> {
  const docker = async (name: string) => (await ctx.connection(machineOf(name))).docker;
  const r = await removeSmokeResources(
    ctx.cluster.name,
    await docker(a.manager ?? a.hosts[0]!),
    await Promise.all(a.hosts.map(async (name) => ({ name, docker: await docker(name) }))),
    30_000,
  );
  if (r.removed.length > 0)
    ctx.reporter.emit({ event: 'log', message: `smoke leftovers removed: ${r.removed.join(', ')}` });
  if (r.left.length > 0) throw new Error(`still there after 30 s: ${r.left.join('; ')}`);
}

/** The state folder's unlock key file, as the swarm applier keeps it. */
export function unlockKeysOf(ctx: PlaybookContext): NonNullable<SwarmActionContext['unlockKeys']> {
  return { read: () => ctx.state.readUnlockKey(), write: (key) => ctx.state.writeUnlockKey(key) };
}

/** The `plan` event: every phase with its actions, as `plan --json` prints it and `up --json` announces it. */
export function planEvent(
  plan: ClusterPlan,
): Omit<Extract<SwarmupEvent, { event: 'plan' }>, 'event' | 'revised' | 'permissions'> {
  return {
    phases: plan.phases.map((p) => ({
      stage: p.stage,
      title: p.title,
      mode: p.mode,
      actions: p.actions.map((a) => ({ ...a, description: describeAction(a) })),
    })),
    problems: plan.problems,
    ...(plan.addrPool ? { addrPool: plan.addrPool } : {}),
    ...(plan.notices.length > 0 ? { notices: plan.notices } : {}),
    ...(plan.deferred ? { deferred: plan.later } : {}),
  };
}

/** The data path port the swarm is (or is about to be) made with, when not Docker's default. */
function dataPathPortOf(plan: ClusterPlan, facts: HostFacts[]): { dataPathPort?: number } {
  const init = plan.phases.flatMap((p) => p.actions).find((a) => a.kind === 'init');
  const port =
    init?.kind === 'init'
      ? init.dataPathPort
      : facts.find((f) => f.clusterId && f.clusterId === plan.swarm.clusterId && f.initSettings)?.initSettings
          ?.dataPathPort;
  return port !== undefined && port !== 4789 ? { dataPathPort: port } : {};
}

/** Whether a pool swarmup chose (not one given) overlaps a route of the hosts just read. */
function chosenPoolClashes(pool: ClusterPlan['addrPool'], fresh: HostFacts[]): boolean {
  if (!pool || pool.source === 'given' || pool.source === 'swarm') return false;
  return poolOverlaps(
    pool.pool,
    fresh.flatMap((f) => f.routes ?? []),
  );
}

function keptHosts(reading: ClusterReading, machines: Map<string, Machine>): Machine[] {
  return reading.input.hosts.flatMap((h) => {
    const m = machines.get(h.name);
    return m ? [m] : [];
  });
}

function clockOffsets(facts: HostFacts[]): Map<string, number> {
  return new Map(
    facts.flatMap((f) => (f.clockOffset !== undefined ? [[f.host, f.clockOffset] as const] : [])),
  );
}

/** Record the cluster (and its swarm, once there is one), so later commands know it even after a failure. */
export function recordCluster(ctx: PlaybookContext, clusterId?: string): void {
  ctx.state.write({
    name: ctx.cluster.name,
    provider: ctx.cluster.provider,
    managers: ctx.cluster.managers,
    workers: ctx.cluster.workers,
    ...(clusterId ? { clusterId } : {}),
  });
}

export async function readClusterId(ctx: PlaybookContext, host: Machine): Promise<string | undefined> {
  try {
    const info = (await (await ctx.connection(host)).docker.info()) as {
      Swarm?: { Cluster?: { ID?: string } };
    };
    return info.Swarm?.Cluster?.ID || undefined;
  } catch {
    return undefined;
  }
}
