import { StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { SwarmApplier } from '../swarm/apply-action.ts';
import { phasesAfterFailure, type Action } from '../swarm/actions.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { removeSmokeResources } from '../swarm/smoke-cleanup.ts';
import type { ApplyRun } from './apply-run.ts';
import { readClusterId, recordCluster, unlockKeysOf } from './cluster-record.ts';
import type { ClusterPlan } from './plan.ts';
import { recordAfter } from '../swarm/plan-labels.ts';

/** What each swarm action is applied with. */
interface SwarmStep {
  run: ApplyRun;
  plan: ClusterPlan;
  swarm: SwarmApplier;
  /** NodeID of every host (updated as hosts join and are removed). */
  nodeIds: Map<string, string>;
  machineOf: (name: string) => Machine;
}

/** The swarm part's phases, each node swarmup joins recorded at once. Returns the NodeID of every host now. */
export async function applySwarm(
  run: ApplyRun,
  swarmPlan: ClusterPlan,
  facts: HostFacts[],
): Promise<Map<string, string>> {
  const { ctx, machines } = run;
  const swarmPhases = swarmPlan.phases.filter((p) => p.stage === 'swarm');
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
    log: run.progress,
    autolock: ctx.cluster.swarm.autolock,
    unlockKeys: unlockKeysOf(ctx),
  });
  recordAdopted(ctx, swarmPlan);
  const step: SwarmStep = { run, plan: swarmPlan, swarm, nodeIds, machineOf };
  for (const [i, phase] of swarmPhases.entries()) {
    try {
      await run.runPhase(phase, (a) => applySwarmAction(step, a));
    } catch (err) {
      // Workers joining at once: one that failed did not stop the others, and the tokens they joined with are
      // rotated before the failure is reported (the run then exits 3 naming it; a re-run joins it).
      for (const later of phasesAfterFailure(swarmPhases, i))
        await run.runPhase(later, (a) => applySwarmAction(step, a));
      throw err;
    }
  }
  return nodeIds;
}

/**
 * Joining a swarm swarmup did not make (--adopt): its own nodes are recorded first, so down never touches them, and
 * later runs know the swarm is adopted (no stale removal of its nodes, no token rotation) even when this run had
 * nothing to join.
 */
function recordAdopted(ctx: PlaybookContext, swarmPlan: ClusterPlan): void {
  const adopted = swarmPlan.swarm.adopted;
  if (!adopted) return;
  ctx.state.write({
    name: ctx.cluster.name,
    provider: ctx.cluster.provider,
    clusterId: swarmPlan.swarm.clusterId!,
    preexisting: adopted,
  });
}

/** One swarm action, with what the state records of it (the pool before init; the swarm and each node joined). */
async function applySwarmAction(step: SwarmStep, a: Action): Promise<void> {
  const { ctx, progress } = step.run;
  if (a.kind === 'remove-machine') {
    await ctx.provider.remove(a.host, progress);
    step.nodeIds.delete(a.host);
    return;
  }
  if (a.kind === 'remove-smoke') {
    await removeSmokeLeftovers(ctx, a, step.machineOf);
    return;
  }
  if (a.kind === 'init' && a.defaultAddrPool && step.plan.addrPool?.source !== 'given') {
    // Recorded before init: a run stopped here keeps the choice (while it overlaps nothing) next time.
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      addrPool: a.defaultAddrPool,
    });
  }
  // A node that joins drained is recorded until it is active: a run stopped between the two activates it next time.
  const drainedJoin = (a.kind === 'join' && !!a.labels) || (a.kind === 'label' && !!a.activate);
  if (a.kind === 'join' && a.labels) recordJoinedDrained(ctx, a.host, true);
  await step.swarm.apply(a);
  if (drainedJoin) recordJoinedDrained(ctx, a.host, false);
  if (a.kind === 'init') {
    recordCluster(ctx, await readClusterId(ctx, step.machineOf(a.host)));
    // A swarm swarmup made (--new-swarm after an adopted one was gone): nothing of it is someone else's.
    if (ctx.state.read()?.preexisting)
      ctx.state.write({ name: ctx.cluster.name, provider: ctx.cluster.provider, preexisting: undefined });
  }
  recordLabels(ctx, a);
  // Every node swarmup joins is recorded at once: down makes only those leave.
  if (a.kind === 'init' || a.kind === 'join') {
    const recorded = ctx.state.read()?.nodeIds ?? {};
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      nodeIds: { ...recorded, [a.host]: step.nodeIds.get(a.host) ?? '' },
    });
  }
}

/**
 * The labels swarmup set on a node, recorded (state, 0600) as soon as they are set: only these are ever removed by
 * a later run. A node that joins (again) has only the labels it joined with.
 */
function recordLabels(ctx: PlaybookContext, a: Action): void {
  const recorded = ctx.state.read()?.labels ?? {};
  let now: Record<string, string> | undefined;
  if (a.kind === 'label') now = recordAfter(recorded[a.host], a);
  else if (a.kind === 'init' || a.kind === 'join') {
    if (!a.labels && !recorded[a.host]) return;
    now = a.labels ?? {};
  } else return;
  const { [a.host]: _old, ...others } = recorded;
  ctx.state.write({
    name: ctx.cluster.name,
    provider: ctx.cluster.provider,
    labels: { ...others, ...(Object.keys(now).length > 0 ? { [a.host]: now } : {}) },
  });
}

function recordJoinedDrained(ctx: PlaybookContext, host: string, joining: boolean): void {
  const hosts = (ctx.state.read()?.joinedDrained ?? []).filter((h) => h !== host);
  ctx.state.write({
    name: ctx.cluster.name,
    provider: ctx.cluster.provider,
    joinedDrained: joining ? [...hosts, host] : hosts.length > 0 ? hosts : undefined,
  });
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
