import type { Action, Phase } from './actions.ts';
import { PlanError } from './choose-swarm.ts';
import { raftManagers, type ClusterNode } from './facts.ts';
import { guardStep, type ManagerCount } from './quorum.ts';

/**
 * Every manager membership change, in the order the plan makes them, asks the quorum guard; the first one that
 * would leave fewer reachable managers than quorum refuses the whole plan, before anything is changed.
 */
export function guardPlan(nodes: ClusterNode[], phases: Phase[]): void {
  let count: ManagerCount = raftManagers(nodes);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const a of phases.flatMap((p) => p.actions)) {
    let step: Parameters<typeof guardStep>[1] | undefined;
    if ((a.kind === 'join' && a.role === 'manager') || a.kind === 'promote') step = { kind: 'add' };
    if (a.kind === 'demote' || (a.kind === 'remove-node' && a.demoteFirst)) {
      const n = byId.get(a.nodeId);
      // A manager entry that is no raft member any more (after a forced new cluster) changes no quorum.
      if (n?.role === 'manager' && n.reachability !== null)
        step = { kind: 'remove', reachable: n.reachability === 'reachable' };
    }
    if (!step) continue;
    const verdict = guardStep(count, step);
    if (!verdict.ok) throw new PlanError(`refused: ${describeStep(a)}: ${verdict.why}; ${verdict.todo}`);
    // A joining manager is waited for until it is reachable before the next step.
    count =
      step.kind === 'add' ? { ...verdict.after, reachable: verdict.after.reachable + 1 } : verdict.after;
  }
}

function describeStep(a: Action): string {
  if (a.kind === 'join') return `${a.host} joining as a manager`;
  if (a.kind === 'promote') return `promoting ${a.host}`;
  if (a.kind === 'demote') return `demoting ${a.host}`;
  if (a.kind === 'remove-node') return `removing manager node ${a.hostname}`;
  return a.kind;
}
