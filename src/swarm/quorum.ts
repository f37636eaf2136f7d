/**
 * The quorum guard. Swarm's raft commits a change, membership changes included, only when a majority (quorum) of
 * managers is reachable. Every manager membership change swarmup makes asks guardStep first; a whole transition is
 * ordered by orderManagerChanges so quorum holds after every step. Pure: counts in, verdicts out.
 */
import { quorum } from '../config/policy.ts';

/** Managers of the swarm now: how many, and how many of them are reachable. */
export interface ManagerCount {
  total: number;
  reachable: number;
}

/** One membership change: a manager added (join as manager, or promote), or removed (demote or remove), reachable or not. */
export type MembershipStep = { kind: 'add' } | { kind: 'remove'; reachable: boolean };

export type GuardVerdict = { ok: true; after: ManagerCount } | { ok: false; why: string; todo: string };

/** A whole manager transition: how many managers to add, and which managers to remove (in the caller's order). */
export interface ManagerTransition {
  add: number;
  remove: Array<{ id: string; reachable: boolean }>;
}

export type ManagerChangeStep = { kind: 'add' } | { kind: 'remove'; id: string; reachable: boolean };

export type ManagerChangePlan =
  { ok: true; steps: ManagerChangeStep[] } | { ok: false; why: string; todo: string };

const managers = (n: number) => `${n} manager${n === 1 ? '' : 's'}`;

const recoverTodo =
  'nothing was changed; bring the lost managers back (their machines and disks) if you can, or run ' +
  '"swarmup recover --yes" to force a new cluster from a surviving manager (same cluster ID, workers kept)';

function checkCount(now: ManagerCount): void {
  const { total, reachable } = now;
  if (!Number.isInteger(total) || !Number.isInteger(reachable) || reachable < 0 || reachable > total) {
    throw new RangeError(`not a manager count: ${reachable} of ${total} managers reachable`);
  }
}

/**
 * May this one membership change be made now? On success, `after` is the manager count right after the change. For
 * an add, the joining manager is not yet counted as reachable: the applier waits for it to become reachable before
 * the next step. Throws RangeError for counts that cannot describe a swarm (negative, fractional, more reachable
 * than total, removing an unreachable manager when every manager is reachable).
 */
export function guardStep(now: ManagerCount, step: MembershipStep): GuardVerdict {
  checkCount(now);
  const { total, reachable } = now;
  if (step.kind === 'remove' && !step.reachable && reachable === total) {
    throw new RangeError(`cannot remove an unreachable manager: all ${total} managers are reachable`);
  }

  const q = quorum(total);
  if (reachable < q) {
    return {
      ok: false,
      why: `only ${reachable} of ${total} managers are reachable; quorum is ${q}: the swarm has lost quorum and accepts no change`,
      todo: recoverTodo,
    };
  }

  if (step.kind === 'add') {
    const after = { total: total + 1, reachable };
    // All reachable: the joining manager is the only possible gap, and joins go one at a time.
    if (reachable === total || reachable >= quorum(after.total)) return { ok: true, after };
    const down = total - reachable;
    return {
      ok: false,
      why:
        `only ${reachable} of ${total} managers are reachable; with one more manager quorum becomes ` +
        `${quorum(after.total)}, so the swarm could commit nothing until the new manager is reachable: ` +
        `it cannot be waited for safely`,
      todo: `remove the ${managers(down)} that ${down === 1 ? 'is' : 'are'} unreachable first (or bring ${down === 1 ? 'it' : 'them'} back), then add the manager`,
    };
  }

  if (total === 1) {
    return {
      ok: false,
      why: 'this is the last manager of the swarm: without a manager the swarm is gone',
      todo: 'add or promote another manager first, or take the whole cluster down with `swarmup down`',
    };
  }

  if (!step.reachable) return { ok: true, after: { total: total - 1, reachable } };

  const after = { total: total - 1, reachable: reachable - 1 };
  if (after.reachable >= quorum(after.total)) return { ok: true, after };
  const down = total - reachable;
  return {
    ok: false,
    why:
      `${reachable} of ${total} managers are reachable (quorum ${q}); removing a reachable one would leave ` +
      `${after.reachable} of ${after.total} managers reachable, below quorum ${quorum(after.total)}, and the swarm would lose quorum`,
    todo: `remove the ${managers(down)} that ${down === 1 ? 'is' : 'are'} unreachable first (or bring ${down === 1 ? 'it' : 'them'} back), then remove this one`,
  };
}

/**
 * Orders a manager transition so quorum holds after every step: unreachable removals first, then adds, then
 * reachable removals, each group in the order given. Simulates every step with guardStep (after an add, the new
 * manager counts as reachable for the next step, as the applier waits for it) and returns the first refusal, naming
 * the step. An empty transition is ok with no steps, even without quorum. Throws RangeError when the transition does
 * not fit `now` (negative or fractional add, duplicate ids, more reachable or unreachable removals than managers).
 */
export function orderManagerChanges(now: ManagerCount, change: ManagerTransition): ManagerChangePlan {
  checkCount(now);
  if (!Number.isInteger(change.add) || change.add < 0) {
    throw new RangeError(`cannot add ${change.add} managers`);
  }
  const ids = new Set(change.remove.map((r) => r.id));
  if (ids.size !== change.remove.length) throw new RangeError('a manager is listed twice for removal');
  const unreachable = change.remove.filter((r) => !r.reachable);
  const reachable = change.remove.filter((r) => r.reachable);
  if (unreachable.length > now.total - now.reachable || reachable.length > now.reachable) {
    throw new RangeError(
      `cannot remove ${reachable.length} reachable and ${unreachable.length} unreachable managers: ` +
        `${now.reachable} of ${now.total} managers are reachable`,
    );
  }

  const steps: ManagerChangeStep[] = [
    ...unreachable.map((r) => ({ kind: 'remove' as const, id: r.id, reachable: false })),
    ...Array.from({ length: change.add }, () => ({ kind: 'add' as const })),
    ...reachable.map((r) => ({ kind: 'remove' as const, id: r.id, reachable: true })),
  ];

  let count = now;
  for (const [i, step] of steps.entries()) {
    const verdict = guardStep(count, step);
    if (!verdict.ok) {
      const what =
        step.kind === 'add'
          ? 'add a manager'
          : `remove manager ${step.id} (${step.reachable ? 'reachable' : 'unreachable'})`;
      return {
        ok: false,
        why: `step ${i + 1} of ${steps.length}, ${what}: ${verdict.why}`,
        todo: verdict.todo,
      };
    }
    count =
      step.kind === 'add' ? { ...verdict.after, reachable: verdict.after.reachable + 1 } : verdict.after;
  }
  return { ok: true, steps };
}
