import { installEngine, planEngines, readEngineFacts } from '../engine/ensure.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { refuseLocked } from '../swarm/locked.ts';
import type { Phase, Stage } from '../swarm/actions.ts';
import { preflightSwarm, probeEarly } from './apply-preflight.ts';
import { rereadAndReplan } from './apply-reread.ts';
import { keptHosts, startApplyRun, type ApplyRun } from './apply-run.ts';
import { applySwarm } from './apply-swarm.ts';
import { recordCluster } from './cluster-record.ts';
import { phasesUntil, type ClusterPlan } from './plan.ts';
import type { ClusterReading } from './read.ts';

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
  const run = startApplyRun(ctx, reading, plan);
  const phases = phasesUntil(plan.phases, until);

  // 1. Machines.
  await provisionMachines(run, phases);
  if (until === 'provision') return { plan, hosts: keptHosts(run), nodeIds: new Map(), complete: false };

  // 2. Engines.
  await installEngines(run, phases);
  if (until === 'engine') return { plan, hosts: keptHosts(run), nodeIds: new Map(), complete: false };

  // 3. Re-read what the earlier parts changed; plan the swarm again only if it is not what was assumed. The port
  //    probe of the hosts the plan joins runs meanwhile (new machines' engines are still starting).
  const hosts = keptHosts(run);
  const probing = probeEarly(run, hosts);
  const { plan: swarmPlan, facts } = await rereadAndReplan(run, hosts);
  // A manager that was started again with autolock on waits for its key: said plainly, before any swarm change.
  refuseLocked(facts);
  // The plan's problems were said with the plan; a plan made again says its own.
  if (swarmPlan !== plan) for (const p of swarmPlan.problems) ctx.reporter.emit({ event: 'problem', ...p });

  // 4. Pre-flight before any swarm change: clocks, addresses, disk, and the ports between the hosts that join.
  await preflightSwarm(run, hosts, swarmPlan, facts, probing);

  // 5. The swarm.
  const nodeIds = await applySwarm(run, swarmPlan, facts);
  return { plan: swarmPlan, hosts, nodeIds, complete: true };
}

/**
 * Shared resources (network; key pair, security group and its rules) are reconciled on every run, then machines are
 * created and started; once any exists, the cluster is recorded and the machines are reached.
 */
async function provisionMachines(run: ApplyRun, phases: Phase[]): Promise<void> {
  const { ctx, plan, touched, progress } = run;
  const prepared = await ctx.provider.prepare(progress);
  ctx.changed(prepared.length);
  for (const phase of phases.filter((p) => p.stage === 'provision')) {
    await run.runPhase(phase, async (a) => {
      if (a.kind === 'create-machine') await ctx.provider.create({ name: a.host, role: a.role }, progress);
      else if (a.kind === 'start-machine') await ctx.provider.start(a.host, progress);
      if ('host' in a) touched.add(a.host);
    });
  }
  if (touched.size > 0 || plan.later.length > 0) {
    // Machines exist now: record the cluster, so status, down and cleanup know it even if the run stops here.
    recordCluster(ctx);
    for (const m of await ctx.provider.reach([...touched, ...plan.later], progress))
      run.machines.set(m.name, m);
  }
}

/** Engines: a new machine's OS is read now; existing hosts' plans were made from facts read before. */
async function installEngines(run: ApplyRun, phases: Phase[]): Promise<void> {
  const { ctx, reading, machines } = run;
  for (const phase of phases.filter((p) => p.stage === 'engine')) {
    await run.runPhase(phase, async (a) => {
      if (a.kind !== 'engine') return;
      const host = machines.get(a.host)!;
      const one = ctx.withHosts([host]);
      await readEngineFacts(one, [a.host], reading.engineReading);
      const [hostPlan] = planEngines(one, reading.engineReading);
      if (hostPlan && hostPlan.steps.length > 0)
        await installEngine(one, one.handle(host), hostPlan, reading.engineReading.facts.get(a.host)!);
      run.touched.add(a.host);
    });
  }
}
