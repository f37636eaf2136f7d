// The commands for the user's shell: env for the docker CLI, ssh to a node, completion (and its node names).
import type { Command } from 'commander';
import { ExitCode } from '../../errors.ts';
import type { SetExit } from '../execute.ts';
import { configOption, nameOption } from '../options.ts';

/** `env`: shell lines pointing the docker CLI at the cluster. */
export function registerEnv(program: Command, setExit: SetExit): void {
  program
    .command('env')
    .description('shell lines pointing the docker CLI at the cluster: eval "$(swarmup env)"')
    .addOption(nameOption())
    .addOption(configOption())
    .option('--unset', 'the lines that undo it')
    .action(async (opts: { name?: string; config?: string; unset?: boolean }) =>
      setExit(await (await import('../env.ts')).envCommand(opts)),
    );
}

/** `ssh`: a shell or a command on a node. */
export function registerSsh(program: Command, setExit: SetExit): void {
  program
    .command('ssh')
    .description("a shell, or a command after --, on a node (pinned host keys, the cluster's key)")
    .argument('<node>', 'node name (swarmup status lists them)')
    .argument('[command...]', 'command to run instead of a shell (after --)')
    .addOption(nameOption())
    .addOption(configOption())
    .option('-t, --tty', 'give the command a terminal')
    .action(
      async (node: string, command: string[], opts: { name?: string; config?: string; tty?: boolean }) =>
        setExit(await (await import('../ssh.ts')).sshCommand(node, command, opts)),
    );
}

/** `completion`: the script for bash, zsh or fish (it describes `program`, the root). */
export function registerCompletion(program: Command, setExit: SetExit): void {
  program
    .command('completion')
    .description('shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const c = await import('../completion.ts');
      try {
        process.stdout.write(c.completionScript(shell, c.describeProgram(program)));
      } catch (err) {
        process.stderr.write(`swarmup: ${(err as Error).message}\n`);
        setExit(ExitCode.badInput);
      }
    });
}

/** `complete-nodes` (hidden): the node names completion offers. */
export function registerCompleteNodes(program: Command, setExit: SetExit): void {
  program
    .command('complete-nodes', { hidden: true })
    .option('--name <name>')
    .action(async (opts: { name?: string }) =>
      setExit(await (await import('../completion.ts')).completeNodes(opts.name)),
    );
}
