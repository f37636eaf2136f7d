// The commands that make, change and remove a cluster: up, plan, scale, recover, down; and the wizard, ending in up.
import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.ts';
import { builtin } from '../builtin.ts';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { common, managersOption, providerFlags, smokeFlags, swarmFlags, workersOption } from '../options.ts';
import { planOnly } from '../plan-only.ts';
import type { PlaybookContext } from '../../playbook/playbook.ts';
import type { BackupsOutcome } from '../../state/store.ts';
import type { CommonOptions } from '../session.ts';
import { smokeOptions, type SmokeFlags } from '../smoke-flags.ts';

/** The action of `up`; `dryRun` for `plan` (`scale` and the wizard's "up with it" run `up` too). */
export function upAction(setExit: SetExit) {
  return (dryRun: boolean) => async (opts: CommonOptions & SmokeFlags & { detailedExitcode?: boolean }) => {
    const smoke = inputOrExit(() => smokeOptions(opts), opts, setExit);
    if (smoke === null) return;
    setExit(
      await execute(
        { ...opts, dryRun: dryRun || !!opts.dryRun },
        async (ctx, started) => {
          if (ctx.options.dryRun) return planOnly(ctx, !!opts.detailedExitcode);
          const access = await import('../access.ts');
          const seen = await access.refuseForeignContext(ctx);
          const v = await (await builtin.up()).run(ctx);
          if (v?.ok && smoke) await (await import('../../../playbooks/verify.ts')).addSmoke(ctx, v, smoke);
          if (v?.ok) await access.publishAccess(ctx, v, seen);
          return finish(ctx, started, v, `stopped after ${ctx.options.until}`);
        },
        dryRun || opts.dryRun ? undefined : 'up',
      ),
    );
  };
}

/** `up`: provision, engines, swarm, verify. */
export function registerUp(program: Command, setExit: SetExit): void {
  const up = upAction(setExit);
  common(program.command('up').description('provision -> install engines -> bootstrap swarm -> verify'))
    .addOption(
      managersOption('managers: 1, 3, 5 or 7 (default: 3 for the docker provider, else by node count)'),
    )
    .addOption(workersOption('workers, for providers that create machines (default 2)'))
    .option('--dry-run', 'show what would be done, change nothing')
    .option('--adopt', 'join the hosts to a swarm that one of them already manages (never made by swarmup)')
    .option(
      '--new-swarm',
      'the recorded swarm is gone (no host is a member of it): make a new one in its place',
    )
    .option('--until <stage>', 'stop after a stage: provision, engine, swarm');
  smokeFlags(swarmFlags(providerFlags(program.commands.at(-1)!, true))).action(up(false));
}

/** `plan`: what up would do. */
export function registerPlan(program: Command, setExit: SetExit): void {
  const up = upAction(setExit);
  common(program.command('plan').description('what up would do, touching nothing'))
    .option('--until <stage>', 'only the stages up to this one: provision, engine, swarm')
    .option('--adopt', 'plan joining a swarm that one of the hosts already manages')
    .option('--new-swarm', 'plan a new swarm in place of a recorded one that is gone')
    .addOption(managersOption('managers: 1, 3, 5 or 7'))
    .addOption(workersOption('workers, for providers that create machines'))
    .option(
      '--detailed-exitcode',
      'exit 4 when up would change something, 0 when nothing (2 stays bad input, 1 a failure)',
    );
  swarmFlags(providerFlags(program.commands.at(-1)!, true)).action(up(true));
}

/** `scale`: new node counts, through up. */
export function registerScale(program: Command, setExit: SetExit): void {
  const up = upAction(setExit);
  common(
    program
      .command('scale')
      .description('change the node counts: machines added or removed, managers one at a time, quorum held'),
  )
    .addOption(managersOption('managers: 1, 3, 5 or 7'))
    .addOption(workersOption('workers, for providers that create machines'));
  providerFlags(program.commands.at(-1)!, true).action(async (opts: CommonOptions) => {
    if (opts.managers === undefined && opts.workers === undefined) {
      process.stderr.write('swarmup: scale: give --managers, --workers or both\n');
      setExit(ExitCode.badInput);
      return;
    }
    await up(false)(opts);
  });
}

/** `recover`: a swarm that lost quorum. */
export function registerRecover(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('recover')
        .description(
          'only for a swarm that lost quorum: force a new cluster from a surviving manager, then rebuild',
        ),
    ).option('--from <node>', 'the surviving manager to recover from (default: the first one that answers)'),
    false,
  ).action(async (opts: CommonOptions & { from?: string }) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const { recover } = await import('../recover.ts');
          const v = await recover(ctx, opts.from);
          if (v?.ok) await (await import('../access.ts')).publishAccess(ctx, v);
          return finish(ctx, started, v, 'recovered');
        },
        'recover',
      ),
    );
  });
}

/** `stop`: the machines (or, for an ssh inventory, the engines) stopped, workers first, the leader last. */
export function registerStop(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('stop')
        .description(
          'stop the machines (ssh: the engines), workers first, the leader last; the swarm is kept for start',
        ),
    ),
    false,
  ).action(async (opts: CommonOptions) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          // The forwarded socket's manager goes: its forwarder with it (start makes it again).
          await (await import('../access.ts')).stopAccess(ctx);
          const r = await (await builtin.stop()).run(ctx);
          return finish(
            ctx,
            started,
            undefined,
            `stopped (${r.stopped.length} ${ctx.provider.createsMachines ? 'machines' : 'engines'})`,
          );
        },
        'stop',
      ),
    );
  });
}

/** `start`: what stop stopped runs again, managers first, verified in the same swarm. */
export function registerStart(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('start')
        .description('start the machines (ssh: the engines), managers first, then verify the same swarm'),
    ),
    false,
  ).action(async (opts: CommonOptions) => {
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const v = await (await builtin.start()).run(ctx);
          if (v.ok) await (await import('../access.ts')).publishAccess(ctx, v);
          return finish(ctx, started, v, 'started');
        },
        'start',
      ),
    );
  });
}

/** `down`: everything swarmup created goes. */
export function registerDown(program: Command, setExit: SetExit): void {
  providerFlags(
    common(program.command('down').description('remove everything swarmup created for the cluster'))
      .option(
        '--delete-backups',
        "delete the cluster's backups too (default: kept in $SWARMUP_HOME/_backups/<name>/)",
      )
      .option('--dry-run', 'list what down would remove (with --json as a removal event), remove nothing'),
    false,
  ).action(async (opts: CommonOptions) => {
    if (opts.dryRun) {
      // No lock: nothing changes. The listing is the one the terminal shows before its question.
      setExit(
        await execute(opts, async (ctx) => {
          const { removalPreview, renderRemoval } = await import('../down-preview.ts');
          const preview = await removalPreview(ctx);
          if (ctx.reporter.json) ctx.reporter.emit({ event: 'removal', ...preview });
          else process.stdout.write(renderRemoval(preview) + '\n');
          return ExitCode.ok;
        }),
      );
      return;
    }
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          if (!ctx.options.yes) {
            if (!process.stdin.isTTY)
              throw new InputError(
                'down removes the cluster: pass --yes to confirm (stdin is not a terminal)',
              );
            // On a terminal: what goes, named one by one (found as down will find it), then the question.
            const { removalPreview, renderRemoval } = await import('../down-preview.ts');
            process.stderr.write(renderRemoval(await removalPreview(ctx)) + '\n');
            const question = ctx.provider.createsMachines
              ? `remove all of the above (cluster "${ctx.cluster.name}")?`
              : `make these hosts leave the swarm of "${ctx.cluster.name}"?`;
            const { confirm } = await import('../../playbook/confirm.ts');
            if (!(await confirm(question))) {
              process.stderr.write('swarmup: nothing done\n');
              return ExitCode.ok;
            }
          }
          const access = await import('../access.ts');
          await access.stopAccess(ctx);
          const { backups } = await (await builtin.down()).run(ctx);
          await access.removeAccess(ctx);
          if (backups) reportBackups(ctx, backups);
          return finish(ctx, started, undefined, 'removed');
        },
        'down',
      ),
    );
  });
}

/** Where down put the cluster's backups (or that it deleted them): a line, or with --json a `backups` event. */
function reportBackups(ctx: PlaybookContext, b: BackupsOutcome): void {
  const n = `${b.files} backup${b.files === 1 ? '' : 's'}`;
  if (ctx.reporter.json) ctx.reporter.emit({ event: 'backups', ...b });
  else if (b.keptIn)
    process.stdout.write(
      `${n} of ${ctx.cluster.name} kept in ${b.keptIn} (swarmup ls lists them; swarmup backup --restore FILE)\n`,
    );
  else process.stdout.write(`${n} of ${ctx.cluster.name} deleted (--delete-backups)\n`);
}

/** `wizard`: questions -> a config file -> optionally up. */
export function registerWizard(program: Command, setExit: SetExit): void {
  const up = upAction(setExit);
  program
    .command('wizard')
    .description('questions -> a commented config file -> optionally up with it')
    .action(async () => {
      // The prompts and the questions are loaded only here: every other command starts without them.
      const { wizard } = await import('../../wizard/run.ts');
      const outcome = await wizard();
      if (outcome.upWith) await up(false)({ config: outcome.upWith });
      else setExit(outcome.code);
    });
}
