/**
 * Exit codes of the swarmup command line (design.md); 4 only from `plan --detailed-exitcode` with changes pending
 * (Terraform's convention, whose 2 is bad input here).
 */
export const ExitCode = { ok: 0, stepFailed: 1, badInput: 2, partlyApplied: 3, changesPending: 4 } as const;

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

/** How an SSH login was tried: the user, the host, and the key (or ssh-agent); for the hint after the error. */
export interface SshAttempt {
  user: string;
  address: string;
  port: number;
  /** The private key file offered; none: the keys of ssh-agent. */
  privateKey?: string;
}

/** An SSH connection that could not be made: a StepError that keeps how the login was tried. */
export class SshConnectError extends StepError {
  override name = 'SshConnectError';
  constructor(
    host: string,
    causeMessage: string,
    readonly attempt: SshAttempt,
  ) {
    super(host, 'connect over SSH', causeMessage);
  }
}

/** A host whose key differs from the one pinned in swarmup's known_hosts: refused (exit 2). */
export class HostKeyChangedError extends InputError {
  override name = 'HostKeyChangedError';
  constructor(
    message: string,
    /** The known_hosts file, the name the key is filed under, and the 1-based lines that pin it. */
    readonly file: string,
    readonly pattern: string,
    readonly lines: number[],
  ) {
    super(message);
  }
}
