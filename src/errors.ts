/** Exit codes of the swarmup command line (design.md). */
export const ExitCode = { ok: 0, stepFailed: 1, badInput: 2, partlyApplied: 3 } as const;

/** Bad input: a config, flag or inventory problem found before anything was changed. Exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode = ExitCode.badInput;
}

/** A step failed on a host: names the host, the step and the cause. Exit code 1 (3 once changes were applied). */
export class StepError extends Error {
  override name = 'StepError';
  readonly exitCode = ExitCode.stepFailed;
  constructor(
    readonly host: string,
    readonly step: string,
    readonly causeMessage: string,
  ) {
    super(`${host}: ${step}: ${causeMessage}`);
  }
}

/** Several hosts failed the same step; every one is named. */
export class StepErrors extends Error {
  override name = 'StepErrors';
  readonly exitCode = ExitCode.stepFailed;
  constructor(readonly errors: StepError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
