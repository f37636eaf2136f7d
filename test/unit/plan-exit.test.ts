import { describe, expect, it } from 'vitest';
import { planExitCode } from '../../src/cli/plan-only.ts';
import { phasesUntil } from '../../src/cluster/plan.ts';
import type { Phase } from '../../src/swarm/actions.ts';

/** `plan --detailed-exitcode`: Terraform's convention, with 4 for "changes pending" (2 is bad input here). */
describe('plan exit code', () => {
  const join = { kind: 'join', host: 'n1', role: 'worker' };
  it('is 4 with --detailed-exitcode when any phase holds an action, 0 when none does', () => {
    expect(planExitCode({ phases: [{ actions: [join] }] }, true)).toBe(4);
    expect(planExitCode({ phases: [{ actions: [] }, { actions: [join] }] }, true)).toBe(4);
    expect(planExitCode({ phases: [] }, true)).toBe(0);
    expect(planExitCode({ phases: [{ actions: [] }] }, true)).toBe(0);
  });

  it('counts only the stages up to --until, as up --until would apply them', () => {
    const phases: Phase[] = [
      { stage: 'engine', title: 'engines', mode: 'parallel', actions: [] },
      {
        stage: 'swarm',
        title: 'join',
        mode: 'serial',
        actions: [{ kind: 'join', host: 'n1', role: 'worker' }],
      },
    ];
    expect(planExitCode({ phases: phasesUntil(phases, 'engine') }, true)).toBe(0);
    expect(planExitCode({ phases: phasesUntil(phases, 'swarm') }, true)).toBe(4);
  });

  it('is 0 without the flag, changes or not', () => {
    expect(planExitCode({ phases: [{ actions: [join] }] }, false)).toBe(0);
  });
});
