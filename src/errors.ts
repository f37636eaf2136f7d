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

/** Several failures of one step (or check); every one is named. The exit code is the gravest of theirs. */
export class StepErrors extends Error {
  override name = 'StepErrors';
  readonly exitCode: number;
  constructor(readonly errors: Error[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.exitCode = Math.max(
      ...errors.map((e) => (e as { exitCode?: number }).exitCode ?? ExitCode.stepFailed),
    );
  }
}

/** One failure as itself, several as one StepErrors. */
export function combineErrors(errors: unknown[]): unknown {
  if (errors.length === 1) return errors[0];
  return new StepErrors(errors.map((e) => (e instanceof Error ? e : new Error(String(e)))));
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
