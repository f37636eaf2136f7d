import { ExitCode } from '../errors.ts';
import { redact } from '../redact.ts';

/**
 * Whatever escapes every handler (a bug, a library's stray rejection) still leaves through the redactor, with
 * exit code 1, never as a raw stack that could carry a token.
 */
export function exitOnCrash(): void {
  const crash = (err: unknown) => {
    const e = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    process.stderr.write(redact(`swarmup: internal error: ${e}\n`));
    process.exit(ExitCode.stepFailed);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
