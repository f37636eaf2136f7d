// The commands on the swarm's secrets: join tokens and the autolock key.
import type { Command } from 'commander';
import { ExitCode, StepError } from '../../errors.ts';
import { execute, finish, type SetExit } from '../execute.ts';
import { common, configOption, inventoryOption, nameOption, providerFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';

/** `rotate-tokens`: new join tokens. */
export function registerRotateTokens(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('rotate-tokens')
        .description('new join tokens (both by default), through the leader; the old ones stop working'),
    )
      .option('--worker', "rotate the workers' join token")
      .option('--manager', "rotate the managers' join token"),
    false,
  ).action(async (opts: CommonOptions & { worker?: boolean; manager?: boolean }) => {
    const which = opts.worker && !opts.manager ? 'worker' : opts.manager && !opts.worker ? 'manager' : 'both';
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          await (await import('../../cluster/day2.ts')).rotateTokens(ctx, which);
          return finish(
            ctx,
            started,
            undefined,
            `${which === 'both' ? 'join tokens' : `${which} join token`} rotated`,
          );
        },
        'rotate-tokens',
      ),
    );
  });
}

/** `unlock`: locked managers unlocked with the recorded key. */
export function registerUnlock(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program.command('unlock').description('unlock every locked manager (autolock) with the recorded key'),
    ),
    false,
  ).action(async (opts: CommonOptions) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const unlocked = await (await import('../../cluster/day2.ts')).unlockManagers(ctx);
          if (!ctx.reporter.json) for (const host of unlocked) process.stdout.write(`${host}: unlocked\n`);
          return finish(
            ctx,
            started,
            undefined,
            unlocked.length > 0 ? `unlocked ${unlocked.join(', ')}` : 'no manager is locked',
          );
        },
        'unlock',
      ),
    );
  });
}

/** `unlock-key`: the autolock key on stdout (a new one with --rotate). */
export function registerUnlockKey(program: Command, setExit: SetExit): void {
  program
    .command('unlock-key')
    .description("print the swarm's unlock key (autolock), and nothing else, on stdout")
    .addOption(nameOption())
    .addOption(configOption())
    .addOption(inventoryOption())
    .option('--rotate', 'make a new key first (the old one stops unlocking), keep it and print it')
    .option('--timeout <seconds>', 'deadline of each Docker Engine API call (default 60)')
    .action(async (opts: CommonOptions & { inventory?: string; rotate?: boolean }) => {
      if (opts.rotate) {
        // Progress is not printed: stdout carries the key only.
        setExit(
          await execute(
            { ...opts, quiet: true },
            async (ctx) => {
              const key = await (await import('../../cluster/day2.ts')).rotateUnlockKey(ctx);
              process.stdout.write(key + '\n');
              return ExitCode.ok;
            },
            'unlock-key --rotate',
          ),
        );
        return;
      }
      const { withCluster } = await import('../open-cluster.ts');
      setExit(
        await withCluster(opts, async (ctx) => {
          const key = ctx.state.readUnlockKey();
          if (!key)
            throw new StepError(
              ctx.cluster.name,
              'unlock-key',
              'no unlock key is recorded (autolock is off; swarmup up --autolock turns it on)',
            );
          process.stdout.write(key + '\n');
          return ExitCode.ok;
        }),
      );
    });
}
