// `swarmup upgrade`: rolling engine upgrades with quorum held (src/cluster/upgrade.ts).
import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.ts';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { common, providerFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';

interface UpgradeFlags extends CommonOptions {
  engineVersion?: string;
  batch?: string;
  force?: boolean;
}

/** --batch as a whole number of at least 1 (exit 2 otherwise, before anything is opened). */
export function parseBatch(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^[1-9]\d*$/.test(value))
    throw new InputError(`--batch: "${value}" is not a whole number of at least 1`);
  return Number(value);
}

export function registerUpgrade(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('upgrade')
        .description(
          'upgrade every engine to a version: workers in batches, then managers one at a time (leader last), quorum held',
        ),
    )
      .option('--engine-version <version>', "the engine version (default: the config's engine.version)")
      .option('--batch <n>', 'workers upgraded at the same time (default 1)')
      .option('--dry-run', 'print the order and change nothing')
      .option(
        '--force',
        'go ahead across a major downgrade, or with fewer than 3 managers (control plane paused)',
      ),
    false,
  ).action(async (opts: UpgradeFlags) => {
    const batch = inputOrExit(() => parseBatch(opts.batch), opts, setExit);
    if (batch === null) return;
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const target = opts.engineVersion ?? ctx.cluster.engine.version;
          if (!target)
            throw new InputError(
              'upgrade to which version? give --engine-version or engine.version in the config',
            );
          const { upgrade } = await import('../../cluster/upgrade.ts');
          const { confirm } = await import('../../playbook/confirm.ts');
          const out = await upgrade(ctx, { target, batch, force: opts.force ?? false }, confirm);
          if (!out) {
            process.stderr.write('swarmup: nothing done\n');
            return ExitCode.ok;
          }
          if (!ctx.reporter.json) {
            if (ctx.options.dryRun) for (const l of out.lines) process.stdout.write(`${l}\n`);
            if (out.lines.every((l) => l.startsWith('   ')))
              process.stdout.write(`every node's engine is at ${target} already\n`);
          }
          const what = ctx.options.dryRun
            ? `upgrade to ${target} planned (dry run: nothing changed)`
            : `${out.upgraded.length} engine(s) upgraded to ${target}, ${out.skipped.length} at it already`;
          return finish(ctx, started, undefined, what);
        },
        'upgrade',
      ),
    );
  });
}
