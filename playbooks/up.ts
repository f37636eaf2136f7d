import { applyCluster, planEvent, recordCluster, readClusterId } from '../src/cluster/apply.ts';
import { countActions } from '../src/cluster/actions.ts';
import { planCluster } from '../src/cluster/plan.ts';
import { readCluster } from '../src/cluster/read.ts';
import { definePlaybook } from '../src/playbook/playbook.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import type { Verification } from '../src/swarm/verify.ts';

/**
 * `swarmup up` (and `scale`): facts -> one cluster plan -> apply it -> verify. The plan is the very object that
 * `swarmup plan` prints; a plan that cannot be applied safely (lost quorum) stops here with nothing changed.
 */
export default definePlaybook({
  name: 'up',
  description: 'provision the machines, bootstrap the swarm and verify it',
  async run(ctx): Promise<Verification | undefined> {
    const reading = await readCluster(ctx, { machinesOnly: ctx.options.until === 'provision' });
    const plan = planCluster(reading.input);
    ctx.reporter.emit({ event: 'plan', ...planEvent(plan) });
    for (const p of plan.problems) ctx.reporter.emit({ event: 'problem', ...p });
    if (countActions(plan.phases) === 0) ctx.log('nothing to change');

    const applied = await applyCluster(ctx, reading, plan, ctx.options.until);
    if (!applied.complete) return undefined;

    const swarm = applied.plan.swarm;
    // Freshly joined nodes take a moment to report Ready; a host left alone will never join, so no wait for it.
    const waitMs = applied.plan.problems.length > 0 ? 0 : 60_000;
    const verification = await checkSwarm(ctx.withHosts(applied.hosts), swarm, {
      waitMs,
      nodeIds: applied.nodeIds,
    });
    const entry = applied.hosts.find((h) => h.name === swarm.entry);
    const clusterId = swarm.clusterId ?? (entry ? await readClusterId(ctx, entry) : undefined);
    recordCluster(ctx, clusterId);
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      nodeIds: Object.fromEntries(applied.hosts.map((h) => [h.name, applied.nodeIds.get(h.name) ?? ''])),
      ...(ctx.provider.createsMachines ? {} : { hosts: ctx.cluster.hosts }),
    });
    return verification;
  },
});
