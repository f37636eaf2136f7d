// The commands that look after the hosts and the cloud account: backup, cleanup, engine install, run a playbook.
import { Option, type Command } from 'commander';
import { ExitCode } from '../../errors.ts';
import type { Playbook } from '../../playbook/playbook.ts';
import { builtin } from '../builtin.ts';
import type { CleanupFlags } from '../cleanup.ts';
import { execute, finish, type SetExit } from '../execute.ts';
import { common } from '../options.ts';
import type { CommonOptions } from '../session.ts';

/** `backup`: one manager's swarm data saved (or how to restore it). */
export function registerBackup(program: Command, setExit: SetExit): void {
  common(
    program
      .command('backup')
      .description(
        "copy one non-leader manager's swarm data (engine stopped briefly, quorum held) into the state folder",
      ),
  )
    .option(
      '--restore <file>',
      'check this backup and print the steps that restore a swarm from it (changes nothing)',
    )
    .option(
      '--unlock-key-file <file>',
      "with --restore: the unlock key of an autolocked backup (default: the state home's unlock-key)",
    )
    .action(async (opts: CommonOptions & { restore?: string; unlockKeyFile?: string }) => {
      if (opts.restore) {
        setExit(
          await (
            await import('../backup.ts')
          ).printRestore(opts.restore, opts.unlockKeyFile ? { unlockKeyFile: opts.unlockKeyFile } : {}),
        );
        return;
      }
      setExit(
        await execute(
          opts,
          async (ctx, started) => {
            const { backup, reportBackup } = await import('../backup.ts');
            const { confirm } = await import('../../playbook/confirm.ts');
            const result = await backup(ctx, confirm);
            if (!result) {
              process.stderr.write('swarmup: nothing done\n');
              return ExitCode.ok;
            }
            reportBackup(ctx, result);
            return finish(ctx, started, undefined, `backup of ${result.node} saved`);
          },
          'backup',
        ),
      );
    });
}

/** `cleanup`: tagged resources of clusters that are gone. */
export function registerCleanup(program: Command, setExit: SetExit): void {
  program
    .command('cleanup')
    .description('find resources tagged by swarmup whose cluster is gone (or the one named) and delete them')
    .addOption(
      new Option('--provider <provider>', 'where to look')
        .choices(['ec2', 'docker', 'ssh', 'multipass'])
        .default('ec2'),
    )
    .option('--region <region>', "AWS region (else AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    .option('--all-regions', 'look in every region')
    .option('--profile <name>', 'AWS profile')
    .option(
      '--docker-context <name>',
      'docker: the docker CLI context of the engine to look on (default: DOCKER_HOST, else the current context)',
    )
    .option(
      '--name <name>',
      "only this cluster, this state home's (default: every cluster of this state home's owner with no local state)",
    )
    .option(
      '--any-owner',
      "every owner's (and an older swarmup's without owner), not only this state home's: the orphans, or the cluster named",
    )
    .option('--dry-run', 'list, delete nothing')
    .option('--json', 'one JSON object per line')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: CleanupFlags) => setExit(await (await import('../cleanup.ts')).cleanup(opts)));
}

/** `engine install`: the Docker engine where missing. */
export function registerEngine(program: Command, setExit: SetExit): void {
  const engine = program.command('engine').description('the Docker engine on every host');
  common(
    engine.command('install').description('install and start the engine where missing (as in up)'),
  ).action(async (opts: CommonOptions) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const lines = await (await builtin.engine()).run(ctx);
          if (!ctx.reporter.json) for (const l of lines) process.stdout.write(`${l}\n`);
          return finish(ctx, started, undefined, 'engines ready');
        },
        'engine install',
      ),
    );
  });
}

/** `run`: a playbook against an inventory. */
export function registerRun(program: Command, setExit: SetExit): void {
  common(
    program
      .command('run')
      .argument('<file>', 'a playbook: a .ts file whose default export is definePlaybook(...)'),
  )
    .description('run a playbook against an inventory')
    .action(async (file: string, opts: CommonOptions) => {
      setExit(
        await execute(
          opts,
          async (ctx, started) => {
            const { loadPlaybook } = await import('../../playbook/load.ts');
            const playbook: Playbook = await loadPlaybook(file);
            await playbook.run(ctx.withHosts(await ctx.provider.reach()));
            return finish(ctx, started, undefined, `playbook ${playbook.name} done`);
          },
          // A playbook changes the hosts as up and down do: one at a time per cluster.
          'run',
        ),
      );
    });
}
