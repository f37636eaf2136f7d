import { describe, expect, it } from 'vitest';
import { quorum } from '../../src/config/policy.ts';
import {
  guardStep,
  orderManagerChanges,
  type ManagerChangeStep,
  type ManagerTransition,
} from '../../src/swarm/quorum.ts';

const add = { kind: 'add' } as const;
const removeReachable = { kind: 'remove', reachable: true } as const;
const removeUnreachable = { kind: 'remove', reachable: false } as const;

describe('guardStep', () => {
  it('1 -> 2: adds a manager when the only one is reachable (the joining one is the only gap)', () => {
    expect(guardStep({ total: 1, reachable: 1 }, add)).toEqual({
      ok: true,
      after: { total: 2, reachable: 1 },
    });
  });

  it('3 with 1 unreachable: refuses an add (2 reachable < quorum 3 of 4) and says to remove the unreachable one', () => {
    const v = guardStep({ total: 3, reachable: 2 }, add);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.why).toMatch(/only 2 of 3 managers are reachable.*quorum becomes 3/);
    expect(v.todo).toMatch(/remove the 1 manager that is unreachable first/);
  });

  it('5 with 1 unreachable: allows an add (4 reachable >= quorum 4 of 6)', () => {
    expect(guardStep({ total: 5, reachable: 4 }, add)).toEqual({
      ok: true,
      after: { total: 6, reachable: 4 },
    });
  });

  it('3 all reachable: removes a reachable manager (2 of 2 left)', () => {
    expect(guardStep({ total: 3, reachable: 3 }, removeReachable)).toEqual({
      ok: true,
      after: { total: 2, reachable: 2 },
    });
  });

  it('3 with 1 unreachable: refuses to remove a reachable manager (1 of 2 left < quorum 2)', () => {
    const v = guardStep({ total: 3, reachable: 2 }, removeReachable);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.why).toMatch(/2 of 3 managers are reachable.*leave 1 of 2 managers reachable, below quorum 2/);
    expect(v.todo).toMatch(/unreachable first/);
  });

  it('3 with 1 unreachable: removes the unreachable manager (2 of 2 left)', () => {
    expect(guardStep({ total: 3, reachable: 2 }, removeUnreachable)).toEqual({
      ok: true,
      after: { total: 2, reachable: 2 },
    });
  });

  it.each([
    [1, 0],
    [3, 1],
    [5, 2],
    [7, 3],
    [4, 2],
  ])(
    '%i managers with %i reachable: lost quorum, refuses every change and says to recover',
    (total, reachable) => {
      const steps = [add, removeReachable, ...(reachable < total ? [removeUnreachable] : [])];
      for (const step of steps) {
        if (step === removeReachable && reachable === 0) continue;
        const v = guardStep({ total, reachable }, step);
        expect(v.ok).toBe(false);
        if (v.ok) return;
        expect(v.why).toBe(
          `only ${reachable} of ${total} managers are reachable; quorum is ${quorum(total)}: ` +
            `the swarm has lost quorum and accepts no change`,
        );
        expect(v.todo).toMatch(/swarmup recover/);
      }
    },
  );

  it('never removes the last manager', () => {
    const v = guardStep({ total: 1, reachable: 1 }, removeReachable);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.why).toMatch(/last manager/);
    expect(v.todo).toMatch(/add or promote another manager first/);
  });

  it('throws on counts that cannot describe a swarm', () => {
    expect(() => guardStep({ total: 3, reachable: 4 }, add)).toThrow(RangeError);
    expect(() => guardStep({ total: -1, reachable: 0 }, add)).toThrow(RangeError);
    expect(() => guardStep({ total: 2.5, reachable: 1 }, add)).toThrow(RangeError);
    expect(() => guardStep({ total: 3, reachable: 3 }, removeUnreachable)).toThrow(RangeError);
  });
});

interface Broken {
  at: number;
  problem: string;
}

/**
 * Replays steps on an independent model of the managers: m1..m<reachable> reachable, the rest unreachable; an added
 * manager becomes reachable before the next step (the applier waits for it). Returns the first broken invariant.
 */
function replay(
  from: number,
  reachableNow: number,
  steps: ManagerChangeStep[],
): Broken | { total: number; reachable: number } {
  const up = new Set(Array.from({ length: reachableNow }, (_, i) => `m${i + 1}`));
  const down = new Set(Array.from({ length: from - reachableNow }, (_, i) => `m${reachableNow + i + 1}`));
  let added = 0;
  const total = () => up.size + down.size;
  const check = (at: number, when: string): Broken | undefined => {
    if (total() < 1) return { at, problem: `${when}: no manager left` };
    if (up.size < quorum(total())) return { at, problem: `${when}: ${up.size} of ${total()} reachable` };
    return undefined;
  };
  for (const [at, step] of steps.entries()) {
    const before = check(at, 'before');
    if (before) return before;
    if (step.kind === 'add') up.add(`new${++added}`);
    else {
      const set = step.reachable ? up : down;
      if (!set.delete(step.id))
        return { at, problem: `${step.id} is not a ${step.reachable ? '' : 'un'}reachable manager` };
    }
    const after = check(at, 'after');
    if (after) return after;
  }
  return { total: total(), reachable: up.size };
}

/** Keep min(to, reachable) reachable managers (lowest ids), remove the rest (surplus reachable highest ids first), add the missing. */
function transition(from: number, to: number, k: number): ManagerTransition {
  const reachable = from - k;
  const keep = Math.min(to, reachable);
  const remove = [
    ...Array.from({ length: k }, (_, i) => ({ id: `m${reachable + i + 1}`, reachable: false })),
    ...Array.from({ length: reachable - keep }, (_, i) => ({ id: `m${reachable - i}`, reachable: true })),
  ];
  return { add: to - keep, remove };
}

const counts = [1, 3, 5, 7];
const cases = counts.flatMap((from) =>
  counts.flatMap((to) => Array.from({ length: from + 1 }, (_, k) => ({ from, to, k }))),
);

describe('orderManagerChanges', () => {
  it.each(cases)('$from -> $to with $k unreachable', ({ from, to, k }) => {
    const now = { total: from, reachable: from - k };
    const change = transition(from, to, k);
    const plan = orderManagerChanges(now, change);

    if (now.reachable < quorum(from)) {
      expect(plan.ok).toBe(false);
      if (plan.ok) return;
      expect(plan.why).toMatch(/^step 1 of \d+, .*lost quorum/);
      expect(plan.todo).toMatch(/swarmup recover/);
      return;
    }

    expect(plan).toMatchObject({ ok: true });
    if (!plan.ok) return;
    expect(replay(from, now.reachable, plan.steps)).toEqual({ total: to, reachable: to });
    expect(plan.steps.filter((s) => s.kind === 'add')).toHaveLength(change.add);
    // Every removal made once, in the given order within its group.
    const removed = plan.steps.flatMap((s) =>
      s.kind === 'remove' ? [{ id: s.id, reachable: s.reachable }] : [],
    );
    expect(removed.filter((s) => !s.reachable)).toEqual(change.remove.filter((r) => !r.reachable));
    expect(removed.filter((s) => s.reachable)).toEqual(change.remove.filter((r) => r.reachable));
  });

  it('the replay catches a naive order: 5 -> 1 with 2 unreachable, reachable removals first, loses quorum', () => {
    const change = transition(5, 1, 2);
    const naive: ManagerChangeStep[] = [
      ...change.remove.filter((r) => r.reachable).map((r) => ({ kind: 'remove' as const, ...r })),
      ...change.remove.filter((r) => !r.reachable).map((r) => ({ kind: 'remove' as const, ...r })),
    ];
    expect(replay(5, 3, naive)).toEqual({ at: 0, problem: 'after: 2 of 4 reachable' });
    // ... and guardStep refuses that first step, while the planned order passes.
    expect(guardStep({ total: 5, reachable: 3 }, removeReachable).ok).toBe(false);
    const plan = orderManagerChanges({ total: 5, reachable: 3 }, change);
    expect(plan.ok && plan.steps).toEqual([
      { kind: 'remove', id: 'm4', reachable: false },
      { kind: 'remove', id: 'm5', reachable: false },
      { kind: 'remove', id: 'm3', reachable: true },
      { kind: 'remove', id: 'm2', reachable: true },
    ]);
  });

  it('removes unreachable managers before adding: 3 with 1 unreachable -> 3', () => {
    expect(guardStep({ total: 3, reachable: 2 }, add).ok).toBe(false);
    const plan = orderManagerChanges({ total: 3, reachable: 2 }, transition(3, 3, 1));
    expect(plan.ok && plan.steps).toEqual([{ kind: 'remove', id: 'm3', reachable: false }, add]);
  });

  it('adds before removing reachable managers: replacing one of 3', () => {
    const plan = orderManagerChanges(
      { total: 3, reachable: 3 },
      { add: 1, remove: [{ id: 'm3', reachable: true }] },
    );
    expect(plan.ok && plan.steps).toEqual([add, { kind: 'remove', id: 'm3', reachable: true }]);
  });

  it('refuses removing every manager, naming the step', () => {
    const remove = ['m1', 'm2', 'm3'].map((id) => ({ id, reachable: true }));
    const plan = orderManagerChanges({ total: 3, reachable: 3 }, { add: 0, remove });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.why).toMatch(/^step 3 of 3, remove manager m3 \(reachable\): this is the last manager/);
  });

  it('an empty transition is ok', () => {
    expect(orderManagerChanges({ total: 3, reachable: 3 }, { add: 0, remove: [] })).toEqual({
      ok: true,
      steps: [],
    });
  });

  it('throws on a transition that does not fit the managers', () => {
    const now = { total: 3, reachable: 2 };
    expect(() => orderManagerChanges(now, { add: -1, remove: [] })).toThrow(RangeError);
    expect(() =>
      orderManagerChanges(now, {
        add: 0,
        remove: [
          { id: 'a', reachable: true },
          { id: 'a', reachable: true },
        ],
      }),
    ).toThrow(RangeError);
    const twoDown = [
      { id: 'a', reachable: false },
      { id: 'b', reachable: false },
    ];
    expect(() => orderManagerChanges(now, { add: 0, remove: twoDown })).toThrow(RangeError);
  });
});
