import { StepError } from '../src/errors.ts';
import { definePlaybook } from '../src/playbook/playbook.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import { planClusterSwarm } from '../src/swarm/plan-cluster.ts';
import { readSwarmFacts } from '../src/swarm/read-facts.ts';
import type { Verification } from '../src/swarm/verify.ts';

/** `swarmup status`: the `docker node ls` view of the cluster, checked against what was asked for. */
export default definePlaybook({
  name: 'status',
  description: 'read the cluster and check it as docker node ls reads',
  async run(ctx): Promise<Verification> {
    ctx.setHosts(await ctx.provider.machines());
    if (ctx.hosts.length === 0)
      throw new StepError(ctx.cluster.name, 'status', 'no machines found for this cluster');
    const facts = await readSwarmFacts(ctx, { engineWaitMs: 2_000, settleMs: 0 });
    const plan = planClusterSwarm(ctx, facts);
    return checkSwarm(ctx, plan, { waitMs: 0, nodeIds: new Map(facts.map((f) => [f.host, f.nodeId])) });
  },
});
