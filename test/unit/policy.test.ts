import { describe, expect, it } from 'vitest';
import { defaultManagerCount, managerCountProblem, quorum } from '../../src/config/policy.ts';

describe('manager count policy', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 3],
    [6, 3],
    [7, 5],
    [20, 5],
  ])('%i nodes -> %i managers', (nodes, managers) => {
    expect(defaultManagerCount(nodes)).toBe(managers);
  });

  it.each([0, 2, 4, 6, 8, 9])('refuses %i managers and explains raft quorum', (m) => {
    expect(managerCountProblem(m, 20)).toMatch(/must be 1, 3, 5 or 7.*majority/);
  });

  it('refuses more managers than nodes', () => {
    expect(managerCountProblem(5, 4)).toBe('managers is 5, more than the 4 nodes there are');
  });

  it('allows 1, 3, 5, 7 within the node count', () => {
    for (const m of [1, 3, 5, 7]) expect(managerCountProblem(m, 7)).toBeUndefined();
  });

  it('quorum is a majority', () => {
    expect([1, 3, 5, 7].map(quorum)).toEqual([1, 2, 3, 4]);
  });
});
