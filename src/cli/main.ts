// The entry point (bin/swarmup.mjs runs dist/src/cli/main.js): parse argv, run the command, return its exit code.
// Start-up: `swarmup --help` and `--version` must load almost nothing beyond commander. Import at the top only
// modules that pull in no package (no SSH, Docker, YAML, schema, progress UI); everything else is `await import()`ed
// inside the action that needs it (test/unit/cli-startup.test.ts checks this).
import { ExitCode } from '../errors.ts';
import { exitOnCrash } from './crash.ts';
import { buildProgram } from './program.ts';

export { buildProgram };

export async function main(argv: string[]): Promise<number> {
  exitOnCrash();
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { exitCode?: number; code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.ok;
    return ExitCode.badInput;
  }
  return code;
}
