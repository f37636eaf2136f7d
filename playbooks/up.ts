import { applyEngines, planEngines, preflight, readEngineFacts } from '../src/engine/ensure.ts';
import { definePlaybook } from '../src/playbook/playbook.ts';
import { applySwarmPlan, describeAction } from '../src/swarm/apply.ts';
import { checkSwarm, readClusterId } from '../src/swarm/check.ts';
import { countChanges } from '../src/swarm/plan.ts';
import { planClusterSwarm } from '../src/swarm/plan-cluster.ts';
import { provisionMachines } from '../src/swarm/provision.ts';
import { readSwarmFacts } from '../src/swarm/read-facts.ts';
import type { Verification } from '../src/swarm/verify.ts';

/** `swarmup up`: machines -> engines -> swarm facts -> plan -> pre-flight -> apply -> verify. */
export default definePlaybook({
  name: 'up',
  description: 'provision the machines, bootstrap the swarm and verify it',
  async run(ctx): Promise<Verification | undefined> {
    await provisionMachines(ctx);
    if (ctx.options.until === 'provision') return undefined;

    // One round trip to every engine. Where none answers (or not the pinned version), the host's facts are read
    // (OS, user, engine, clock, disk) and the engine installed or started; then those hosts are read again.
    const engineWaitMs = ctx.provider.enginePreinstalled ? 60_000 : 0;
    const first = await readSwarmFacts(ctx, { engineWaitMs, tolerateNoEngine: true });
    const pin = ctx.cluster.engine.version;
    const needEngine = ctx.hosts
      .map((h) => h.name)
      .filter((n) => {
        const f = first.find((x) => x.host === n);
        return !f || (pin !== undefined && !f.engineVersion.startsWith(pin));
      });
    const hostFacts = await readEngineFacts(ctx, needEngine);
    const enginePlans = planEngines(ctx, hostFacts);
    await applyEngines(ctx, enginePlans, hostFacts);
    if (ctx.options.until === 'engine') return undefined;
    const reread =
      needEngine.length > 0 ? await readSwarmFacts(ctx, { engineWaitMs: 60_000, only: needEngine }) : [];
    const facts = ctx.hosts.map(
      (h) => reread.find((f) => f.host === h.name) ?? first.find((f) => f.host === h.name)!,
    );

    const plan = planClusterSwarm(ctx, facts);
    const actions = plan.phases.flatMap((p) => p.actions);
    ctx.reporter.emit({
      event: 'plan',
      actions: actions.map((a) => ({ ...a, description: describeAction(a) })),
    });
    if (countChanges(plan) === 0) ctx.log('swarm: nothing to change');

    // Pre-flight before any swarm change: clocks, addresses, disk, and the ports between the hosts that join.
    const joining = new Set(actions.flatMap((a) => (a.kind === 'init' || a.kind === 'join' ? [a.host] : [])));
    if (joining.size > 0) {
      const clockOffsets = new Map(
        facts.flatMap((f) => (f.clockOffset !== undefined ? [[f.host, f.clockOffset] as const] : [])),
      );
      await preflight(ctx, { reference: plan.entry, joining, roles: plan.roles, clockOffsets });
    }

    const changed = await applySwarmPlan(ctx, plan);
    const nodeIds = new Map(facts.map((f) => [f.host, changed.get(f.host) ?? f.nodeId]));
    // Freshly joined nodes take a moment to report Ready; a host left alone will never join, so no wait for it.
    const waitMs = plan.problems.length > 0 ? 0 : 60_000;
    const verification = await checkSwarm(ctx, plan, { waitMs, nodeIds });
    const clusterId = plan.clusterId ?? (await readClusterId(ctx, plan.entry));
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      managers: ctx.cluster.managers,
      workers: ctx.cluster.workers,
      ...(clusterId ? { clusterId } : {}),
    });
    return verification;
  },
});
