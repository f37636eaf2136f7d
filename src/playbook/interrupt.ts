import { ExitCode } from '../errors.ts';

/** Set by the first SIGINT or SIGTERM: nothing new starts; running steps finish or reach their deadline. */
export const interruption: { signal?: NodeJS.Signals } = {};

/** Thrown before a step that would start after an interruption. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  readonly exitCode = ExitCode.partlyApplied;
  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal} before the next step`);
  }
}

/** Throws Interrupted when a signal asked to stop: called before each step starts. */
export function checkInterrupted(): void {
  if (interruption.signal) throw new Interrupted(interruption.signal);
}

/**
 * For commands that change a cluster: the first SIGINT/SIGTERM stops between steps (the run then ends with what
 * it applied recorded, exit 3 when anything changed), a second one aborts at once. Returns the uninstaller.
 */
export function stopBetweenSteps(say: (message: string) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (interruption.signal) {
      say(`${signal} again: aborting now; run the same command again to converge`);
      process.exit(130);
    }
    interruption.signal = signal;
    say(`${signal}: stopping after the steps under way (${signal} again aborts at once)`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
