import { describeAction, type Stage } from './actions.ts';
import { phasesUntil, type ClusterPlan } from './plan.ts';

const stageTitle: Record<Stage, string> = {
  provision: 'machines',
  engine: 'engines',
  swarm: 'swarm',
};

/** The plan as `swarmup plan` prints it: grouped by stage and phase, each phase saying how its actions run. */
export function renderPlan(plan: ClusterPlan, until?: Stage): string {
  const lines: string[] = [];
  for (const p of plan.problems) lines.push(`leave alone ${p.host}: ${p.message}`);
  let stage: Stage | undefined;
  for (const phase of phasesUntil(plan.phases, until)) {
    if (phase.stage !== stage) lines.push(`${stageTitle[(stage = phase.stage)]}:`);
    lines.push(`  ${phase.title} (${phase.mode === 'serial' ? 'one at a time' : 'in parallel'}):`);
    for (const a of phase.actions) lines.push(`    ${describeAction(a)}`);
  }
  if (plan.phases.length === 0) lines.push('nothing to change');
  if (plan.addrPool && (!until || until === 'swarm')) lines.push(plan.addrPool.description);
  for (const n of plan.notices) lines.push(`note: ${n}`);
  if (!until || until === 'swarm')
    lines.push('then verify: every node Ready and Active, one Leader, every other manager Reachable');
  return lines.join('\n');
}
