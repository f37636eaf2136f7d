import type { PlaybookContext } from '../playbook/playbook.ts';
import type { HostFacts } from './facts.ts';
import { planSwarm, type SwarmPlan } from './plan.ts';

/** The swarm plan for this context's cluster: its hosts, manager count and recorded swarm; problems reported. */
export function planClusterSwarm(ctx: PlaybookContext, facts: HostFacts[], hosts = ctx.hosts): SwarmPlan {
  const knownClusterId = ctx.state.read()?.clusterId;
  const plan = planSwarm({
    hosts,
    managers: ctx.cluster.managers,
    facts,
    ...(knownClusterId ? { knownClusterId } : {}),
  });
  for (const p of plan.problems) ctx.reporter.emit({ event: 'problem', ...p });
  return plan;
}
