// The commands for one node's maintenance: drain (and run a command there), activate.
import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import type { DrainFlags } from '../drain-flags.ts';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { common, providerFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';

/** `drain`: a node's tasks moved elsewhere; with --for, a command run there and the node activated again. */
export function registerDrain(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('drain')
        .description(
          "move a node's tasks to other nodes and wait until they run there; with --for, then run a command on it and activate it",
        )
        .argument('<node>', 'node name (swarmup status lists them)')
        .argument(
          '[command...]',
          'with --for: the command to run on the drained node (after --; one word runs as a shell line)',
        ),
    )
      .option(
        '--for',
        'run the command after -- on the drained node, then activate it (it stays drained if the command fails)',
      )
      .option('--command-timeout <seconds>', 'deadline of the command of --for (default 3600)')
      .option('--drain-timeout <seconds>', 'how long to wait until the tasks run elsewhere (default 120)'),
    false,
  ).action(async (node: string, words: string[], opts: CommonOptions & DrainFlags) => {
    const { drainRequest } = await import('../drain-flags.ts');
    const request = inputOrExit(() => drainRequest(words, opts), opts, setExit);
    if (!request) return;
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const { drainNode } = await import('../../cluster/drain.ts');
          const { confirm } = await import('../../playbook/confirm.ts');
          const what = await drainNode(ctx, node, {
            ...request,
            confirm: async (question) => {
              if (!process.stdin.isTTY)
                throw new InputError(`${question}: pass --yes to go ahead (stdin is not a terminal)`);
              return confirm(`${question}. Go ahead?`);
            },
            // The command's output on stdout, or on stderr with --json (stdout carries the events).
            output: (chunk) => (ctx.reporter.json ? process.stderr : process.stdout).write(chunk),
          });
          return finish(ctx, started, undefined, what);
        },
        'drain',
      ),
    );
  });
}

/** `activate`: a drained node takes tasks again. */
export function registerActivate(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('activate')
        .description('make a drained (or paused) node active again: the swarm may place tasks on it')
        .argument('<node>', 'node name (swarmup status lists them)'),
    ),
    false,
  ).action(async (node: string, opts: CommonOptions) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const { activateNode } = await import('../../cluster/drain.ts');
          return finish(ctx, started, undefined, await activateNode(ctx, node));
        },
        'activate',
      ),
    );
  });
}
