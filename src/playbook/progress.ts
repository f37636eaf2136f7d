import type { Reporter } from './events.ts';
import { colourWanted, liveWanted } from './progress-format.ts';
import { PlainReporter, QuietReporter } from './progress-lines.ts';
import { TerminalReporter } from './progress-terminal.ts';

/** The flags that shape human progress output (`--quiet`, `--verbose`, `--no-color`). */
export interface ProgressFlags {
  quiet?: boolean;
  /** false with `--no-color`. */
  color?: boolean;
}

/**
 * Human progress: live lines on a terminal (colour unless NO_COLOR or --no-color), one plain timed line per event
 * without one or in CI, nothing but problems with --quiet.
 */
export function humanReporter(
  flags: ProgressFlags,
  env: NodeJS.ProcessEnv = process.env,
  isTTY = !!process.stdout.isTTY,
): Reporter {
  if (flags.quiet) return new QuietReporter();
  if (!liveWanted(env, isTTY)) return new PlainReporter();
  return new TerminalReporter({ color: colourWanted(env, isTTY, flags.color) });
}
