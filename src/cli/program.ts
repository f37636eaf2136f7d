// The swarmup command line: the root program and its commands, registered in the order --help and completion list
// them. Each registration lives with its kin in commands/; a command's heavy imports are made inside its action.
import { Command } from 'commander';
import type { SetExit } from './execute.ts';
import {
  registerDiagnose,
  registerLs,
  registerSchema,
  registerStatus,
  registerVerify,
} from './commands/inspect.ts';
import {
  registerDown,
  registerPlan,
  registerRecover,
  registerScale,
  registerStart,
  registerStop,
  registerUp,
  registerWizard,
} from './commands/lifecycle.ts';
import { registerImage } from './commands/images.ts';
import { registerBackup, registerCleanup, registerEngine, registerRun } from './commands/maintenance.ts';
import { registerActivate, registerDrain } from './commands/node.ts';
import { registerRotateTokens, registerUnlock, registerUnlockKey } from './commands/secrets.ts';
import { registerRotateCA } from './commands/ca.ts';
import { registerCompleteNodes, registerCompletion, registerEnv, registerSsh } from './commands/shell.ts';
import { registerUpgrade } from './commands/upgrade.ts';
import { packageVersion } from './version.ts';

/** Adds one command (or a command with subcommands) to the root program. */
type Registration = (program: Command, setExit: SetExit) => void;

/** In this order in `swarmup --help` and in completion. */
const registrations: Registration[] = [
  registerUp,
  registerPlan,
  registerStatus,
  registerVerify,
  registerScale,
  registerRecover,
  registerStop,
  registerStart,
  registerDown,
  registerDrain,
  registerActivate,
  registerRotateTokens,
  registerUnlock,
  registerUnlockKey,
  registerRotateCA,
  registerBackup,
  registerUpgrade,
  registerDiagnose,
  registerCleanup,
  registerWizard,
  registerEngine,
  registerImage,
  registerRun,
  registerEnv,
  registerSsh,
  registerLs,
  registerSchema,
  registerCompletion,
  registerCompleteNodes,
];

export function buildProgram(setExit: SetExit): Command {
  const program = new Command('swarmup')
    .description('Bring Docker Swarm clusters up and down')
    .version(packageVersion(), '-V, --version', 'print the version of swarmup')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  for (const register of registrations) register(program, setExit);
  // A value given by a SWARMUP_* variable is named by that variable in messages (the flag was never typed).
  program.hook('preAction', (_program, action) => {
    const fromEnv: Record<string, string> = {};
    for (const o of action.options) {
      const key = o.attributeName();
      if (o.envVar && action.getOptionValueSource(key) === 'env') fromEnv[key] = o.envVar;
    }
    if (Object.keys(fromEnv).length > 0) action.setOptionValue('fromEnv', fromEnv);
  });
  return program;
}
