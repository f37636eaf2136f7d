import { describe, expect, it } from 'vitest';
import { planExitCode } from '../../src/cli/plan-only.ts';

/** `plan --detailed-exitcode`: Terraform's convention, with 4 for "changes pending" (2 is bad input here). */
describe('plan exit code', () => {
  const join = { kind: 'join', host: 'n1', role: 'worker' };
  it('is 4 with --detailed-exitcode when any phase holds an action, 0 when none does', () => {
    expect(planExitCode({ phases: [{ actions: [join] }] }, true)).toBe(4);
    expect(planExitCode({ phases: [{ actions: [] }, { actions: [join] }] }, true)).toBe(4);
    expect(planExitCode({ phases: [] }, true)).toBe(0);
    expect(planExitCode({ phases: [{ actions: [] }] }, true)).toBe(0);
  });

  it('is 0 without the flag, changes or not', () => {
    expect(planExitCode({ phases: [{ actions: [join] }] }, false)).toBe(0);
  });
});
