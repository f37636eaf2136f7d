// Start-up: `swarmup --help` and `--version` must load almost nothing beyond commander. Import at the top only
// modules that pull in no package (no SSH, Docker, YAML, schema, progress UI); everything else is `await import()`ed
// inside the action that needs it (test/unit/cli-startup.test.ts checks this).
import { Command, Option } from 'commander';
import { ExitCode, InputError, StepError } from '../errors.ts';
import type { Playbook, PlaybookContext } from '../playbook/playbook.ts';
import { redact } from '../redact.ts';
import { renderNodeTable, renderWarnings, type Verification } from '../swarm/verify.ts';
import { stages } from '../cluster/actions.ts';
import { providerRegistry } from '../providers/registry.ts';
import type { CleanupFlags } from './cleanup.ts';
import { interruption, stopBetweenSteps } from '../playbook/interrupt.ts';
import { ClusterLock } from '../state/lock.ts';
import { exitOnCrash } from './crash.ts';
import { hintContext, hintFor } from './hints.ts';
import type { CommonOptions } from './session.ts';
import { smokeOptions, type SmokeFlags } from './smoke-flags.ts';
import { packageVersion } from './version.ts';

/** The built-in playbooks, each loaded by the command that runs it (they bring the SSH and Docker clients). */
const builtin = {
  up: async () => (await import('../../playbooks/up.ts')).default,
  down: async () => (await import('../../playbooks/down.ts')).default,
  status: async () => (await import('../../playbooks/status.ts')).default,
  engine: async () => (await import('../../playbooks/engine.ts')).default,
};

function common(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'cluster name (default: "local", or the config file\'s name)')
    .addOption(
      new Option('--provider <provider>', 'where the machines come from').choices([
        'docker',
        'ssh',
        'ec2',
        'multipass',
      ]),
    )
    .option('-c, --config <file>', 'config / inventory file (YAML)')
    .option('-i, --inventory <file>', 'alias of --config')
    .option('--json', 'print one JSON object per line instead of progress')
    .option('-q, --quiet', 'print only problems, errors and the result')
    .option(
      '-v, --verbose',
      'also print each command run on a host and each Docker API call (secrets redacted)',
    )
    .option('--no-color', 'no colours (as NO_COLOR=1 does)')
    .option('--timeout <seconds>', 'deadline of each Docker Engine API call (default 60)')
    .option('-y, --yes', 'do not ask for confirmation');
}

/** Settings of `swarm init` (and autolock): for the commands that make a swarm. */
function swarmFlags(cmd: Command): Command {
  return cmd
    .option('--autolock', "encrypt the managers' raft data with a key needed after each engine restart")
    .option('--no-autolock', 'turn autolock off (a cluster made with --autolock keeps it otherwise)')
    .option(
      '--default-addr-pool <cidrs>',
      'address pools of overlay networks (default: one that overlaps nothing seen)',
    )
    .option('--subnet-size <n>', "prefix length of each overlay network's subnet (default 24)")
    .option('--data-path-port <port>', 'UDP port of overlay traffic, VXLAN (default 4789)')
    .option(
      '--data-path-addr <addr>',
      'address or interface of overlay traffic (default: the advertise address)',
    );
}

/** The data-plane test, for `verify` and `up`. */
function smokeFlags(cmd: Command): Command {
  return cmd
    .option('--smoke', 'also prove the data plane: containers on every node talk over an overlay network')
    .option('--smoke-timeout <seconds>', 'deadline of the smoke test (default 60)')
    .option(
      '--smoke-port <port>',
      'host-mode published port the smoke test checks (default: random, 20000-29999)',
    );
}

/** Flags checked before anything is opened: a bad one is exit 2 with nothing touched (null: already reported). */
function inputOrExit<T>(parse: () => T, opts: { json?: boolean }, setExit: (code: number) => void): T | null {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ event: 'error', message: err.message, exitCode: ExitCode.badInput }) + '\n',
      );
    process.stderr.write(`swarmup: ${err.message}\n`);
    setExit(ExitCode.badInput);
    return null;
  }
}

/** Each provider's own flags (EC2's region, instance type...); `all` for the commands that create. */
function providerFlags(cmd: Command, all: boolean): Command {
  for (const d of providerRegistry) d.flags?.(cmd, all);
  return cmd;
}

function normalise(opts: CommonOptions & { inventory?: string }): CommonOptions {
  if (opts.inventory && opts.config && opts.inventory !== opts.config) {
    throw new InputError('--config and --inventory name different files; give one');
  }
  const config = opts.config ?? opts.inventory;
  if (opts.until && !(stages as readonly string[]).includes(opts.until)) {
    throw new InputError(`--until: "${opts.until}" is not a stage (${stages.join(', ')})`);
  }
  return { ...opts, ...(config ? { config } : {}) };
}

/** Run a command body with one context; map every failure to its exit code and a message naming the cause. */
async function execute(
  opts: CommonOptions,
  body: (ctx: PlaybookContext, started: number) => Promise<number>,
  /** A command that changes the cluster takes its lock (one such command at a time). */
  lockFor?: string,
): Promise<number> {
  const started = Date.now();
  let ctx: PlaybookContext | undefined;
  let lock: ClusterLock | undefined;
  let uninstall: (() => void) | undefined;
  try {
    const { openContext } = await import('./session.ts');
    ctx = await openContext(normalise(opts));
    if (lockFor) {
      uninstall = stopBetweenSteps((m) => process.stderr.write(`swarmup: ${m}\n`));
      lock = ClusterLock.acquire(ctx.state.dir, ctx.cluster.name, lockFor);
      if (lock.tookOver)
        ctx.log(
          `took over a stale lock of swarmup ${lock.tookOver.command} (pid ${lock.tookOver.pid}, gone)`,
        );
    }
    return await body(ctx, started);
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    let code: number = e.exitCode ?? ExitCode.stepFailed;
    // Whatever failed, once something was changed the run is partly applied; stopped before any change: 130.
    if (ctx && ctx.changes > 0) code = ExitCode.partlyApplied;
    else if (interruption.signal) code = 130;
    const message = redact(e.message || String(e));
    const found = hintFor(err, {
      ...hintContext(opts, process.env),
      ...(ctx ? { cluster: ctx.cluster.name, provider: ctx.provider.name } : {}),
    });
    const hint = found ? redact(found) : undefined;
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ event: 'error', message, exitCode: code, ...(hint ? { hint } : {}) }) + '\n',
      );
    process.stderr.write(`swarmup: ${message.split('\n').join('\nswarmup: ')}\n`);
    if (hint) process.stderr.write(`swarmup: hint: ${hint}\n`);
    if (code === ExitCode.partlyApplied)
      process.stderr.write('swarmup: some changes were applied; run the same command again to converge\n');
    return code;
  } finally {
    uninstall?.();
    lock?.release();
    await ctx?.pool.closeAll();
  }
}

function finish(
  ctx: PlaybookContext,
  started: number,
  verification: Verification | undefined,
  what: string,
): number {
  const durationMs = Date.now() - started;
  const ok = verification ? verification.ok : true;
  if (ctx.reporter.json) {
    ctx.reporter.emit({
      event: 'summary',
      changes: ctx.changes,
      durationMs,
      nodes: verification?.nodes ?? [],
      ok,
      ...(verification && !verification.ok ? { problems: verification.problems } : {}),
    });
  } else {
    if (verification) process.stdout.write('\n' + renderNodeTable(verification.nodes) + '\n\n');
    if (verification?.warnings?.length)
      process.stdout.write(redact(renderWarnings(verification.warnings)) + '\n\n');
    if (verification && !verification.ok) {
      for (const p of verification.problems) process.stderr.write(redact(`swarmup: not converged: ${p}\n`));
    }
    const managers = verification?.nodes.filter((n) => n.role === 'manager').length ?? 0;
    const summary = verification
      ? `${ctx.cluster.name}: ${verification.nodes.length} nodes, ${managers} managers, ${ok ? 'verified' : 'NOT verified'}`
      : `${ctx.cluster.name}: ${what}`;
    const changes = `${ctx.changes} change${ctx.changes === 1 ? '' : 's'}`;
    const time = `${(durationMs / 1000).toFixed(1)} s`;
    // A cluster brought up (or scaled, recovered) and verified ends as kind's does: ready, and after how long.
    const ready = verification?.ok && what !== 'status';
    process.stdout.write(`${summary}; ${changes}${ready ? `; ready after ${time}` : ` in ${time}`}\n`);
  }
  if (ok) return ExitCode.ok;
  return ctx.changes > 0 ? ExitCode.partlyApplied : ExitCode.stepFailed;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('swarmup')
    .description('Bring Docker Swarm clusters up and down')
    .version(packageVersion(), '-V, --version', 'print the version of swarmup')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });

  const up = (dryRun: boolean) => async (opts: CommonOptions & SmokeFlags) => {
    const smoke = inputOrExit(() => smokeOptions(opts), opts, setExit);
    if (smoke === null) return;
    setExit(
      await execute(
        { ...opts, dryRun: dryRun || !!opts.dryRun },
        async (ctx, started) => {
          if (ctx.options.dryRun) return planOnly(ctx);
          const access = await import('./access.ts');
          await access.refuseForeignContext(ctx);
          const v = await (await builtin.up()).run(ctx);
          if (v?.ok && smoke) await (await import('../../playbooks/verify.ts')).addSmoke(ctx, v, smoke);
          if (v?.ok) await access.publishAccess(ctx, v);
          return finish(ctx, started, v, `stopped after ${ctx.options.until}`);
        },
        dryRun || opts.dryRun ? undefined : 'up',
      ),
    );
  };

  common(program.command('up').description('provision -> install engines -> bootstrap swarm -> verify'))
    .option(
      '--managers <n>',
      'managers: 1, 3, 5 or 7 (default: 3 for the docker provider, else by node count)',
    )
    .option('--workers <n>', 'workers, for providers that create machines (default 2)')
    .option('--dry-run', 'show what would be done, change nothing')
    .option('--adopt', 'join the hosts to a swarm that one of them already manages (never made by swarmup)')
    .option('--until <stage>', 'stop after a stage: provision, engine, swarm');
  smokeFlags(swarmFlags(providerFlags(program.commands.at(-1)!, true))).action(up(false));

  common(program.command('plan').description('what up would do, touching nothing'))
    .option('--until <stage>', 'only the stages up to this one: provision, engine, swarm')
    .option('--adopt', 'plan joining a swarm that one of the hosts already manages')
    .option('--managers <n>', 'managers: 1, 3, 5 or 7')
    .option('--workers <n>', 'workers, for providers that create machines');
  swarmFlags(providerFlags(program.commands.at(-1)!, true)).action(up(true));

  providerFlags(
    common(program.command('status').description('the docker node ls view of the cluster')),
    false,
  ).action(async (opts: CommonOptions) => {
    // With --json, status prints exactly one object (design.md), so progress events are not printed.
    setExit(
      await execute({ ...opts, silent: !!opts.json }, async (ctx, started) => {
        const v = await (await builtin.status()).run(ctx);
        if (opts.json) {
          process.stdout.write(
            JSON.stringify({
              cluster: ctx.cluster.name,
              provider: ctx.cluster.provider,
              nodes: v.nodes,
              warnings: v.warnings ?? [],
            }) + '\n',
          );
          return v.ok ? ExitCode.ok : ExitCode.stepFailed;
        }
        return finish(ctx, started, v, 'status');
      }),
    );
  });

  smokeFlags(
    providerFlags(
      common(
        program
          .command('verify')
          .description('check the cluster as up ends (docker node ls), and with --smoke its data plane'),
      ),
      false,
    ),
  ).action(async (opts: CommonOptions & SmokeFlags) => {
    const smoke = inputOrExit(() => smokeOptions(opts), opts, setExit);
    if (smoke === null) return;
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const { verifyPlaybook } = await import('../../playbooks/verify.ts');
          const v = await verifyPlaybook(smoke).run(ctx);
          return finish(ctx, started, v, 'verified');
        },
        // The smoke test makes (and removes) a service: one such command at a time, and Ctrl-C cleans up.
        smoke ? 'verify --smoke' : undefined,
      ),
    );
  });

  common(
    program
      .command('scale')
      .description('change the node counts: machines added or removed, managers one at a time, quorum held'),
  )
    .option('--managers <n>', 'managers: 1, 3, 5 or 7')
    .option('--workers <n>', 'workers, for providers that create machines');
  providerFlags(program.commands.at(-1)!, true).action(async (opts: CommonOptions) => {
    if (opts.managers === undefined && opts.workers === undefined) {
      process.stderr.write('swarmup: scale: give --managers, --workers or both\n');
      setExit(ExitCode.badInput);
      return;
    }
    await up(false)(opts);
  });

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
          const { recover } = await import('./recover.ts');
          const v = await recover(ctx, opts.from);
          if (v?.ok) await (await import('./access.ts')).publishAccess(ctx, v);
          return finish(ctx, started, v, 'recovered');
        },
        'recover',
      ),
    );
  });

  providerFlags(
    common(program.command('down').description('remove everything swarmup created for the cluster')),
    false,
  ).action(async (opts: CommonOptions) => {
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
            const { removalPreview, renderRemoval } = await import('./down-preview.ts');
            process.stderr.write(renderRemoval(await removalPreview(ctx)) + '\n');
            const question = ctx.provider.createsMachines
              ? `remove all of the above (cluster "${ctx.cluster.name}")?`
              : `make these hosts leave the swarm of "${ctx.cluster.name}"?`;
            const { confirm } = await import('./confirm.ts');
            if (!(await confirm(question))) {
              process.stderr.write('swarmup: nothing done\n');
              return ExitCode.ok;
            }
          }
          const access = await import('./access.ts');
          await access.stopAccess(ctx);
          await (await builtin.down()).run(ctx);
          await access.removeAccess(ctx);
          return finish(ctx, started, undefined, 'removed');
        },
        'down',
      ),
    );
  });

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
          await (await import('./swarm-day2.ts')).rotateTokens(ctx, which);
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
          const unlocked = await (await import('./swarm-day2.ts')).unlockManagers(ctx);
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

  program
    .command('unlock-key')
    .description("print the swarm's unlock key (autolock), and nothing else, on stdout")
    .option('--name <name>', 'cluster name (default: "local", or the config file\'s name)')
    .option('-c, --config <file>', 'config / inventory file (YAML)')
    .option('-i, --inventory <file>', 'alias of --config')
    .option('--rotate', 'make a new key first (the old one stops unlocking), keep it and print it')
    .option('--timeout <seconds>', 'deadline of each Docker Engine API call (default 60)')
    .action(async (opts: CommonOptions & { inventory?: string; rotate?: boolean }) => {
      if (opts.rotate) {
        // Progress is not printed: stdout carries the key only.
        setExit(
          await execute(
            { ...opts, quiet: true },
            async (ctx) => {
              const key = await (await import('./swarm-day2.ts')).rotateUnlockKey(ctx);
              process.stdout.write(key + '\n');
              return ExitCode.ok;
            },
            'unlock-key --rotate',
          ),
        );
        return;
      }
      const { withCluster } = await import('./open-cluster.ts');
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

  common(
    program
      .command('backup')
      .description(
        "copy one non-leader manager's swarm data (engine stopped briefly, quorum held) into the state folder",
      ),
  )
    .option('--restore <file>', 'print the steps that restore a swarm from this backup (changes nothing)')
    .action(async (opts: CommonOptions & { restore?: string }) => {
      if (opts.restore) {
        setExit(await (await import('./backup.ts')).printRestore(opts.restore));
        return;
      }
      setExit(
        await execute(
          opts,
          async (ctx, started) => {
            const { backup, reportBackup } = await import('./backup.ts');
            const { confirm } = await import('./confirm.ts');
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

  common(
    program
      .command('diagnose')
      .description(
        "one tar.gz of every node's engine info and log, node, network and service lists, port probes",
      ),
  )
    .option(
      '-o, --output <file>',
      'where to write the archive (default: swarmup-diagnose-NAME-TIME.tar.gz here)',
    )
    .action(async (opts: CommonOptions & { output?: string }) => {
      setExit(
        await execute(opts, async (ctx, started) => {
          const { diagnose } = await import('./diagnose.ts');
          const r = await diagnose(ctx, opts.output);
          if (ctx.reporter.json) ctx.reporter.emit({ event: 'diagnose', file: r.file, nodes: r.nodes });
          else
            process.stdout.write(`diagnostics of ${r.nodes} nodes written to ${r.file} (secrets redacted)\n`);
          return finish(ctx, started, undefined, 'diagnostics written');
        }),
      );
    });

  program
    .command('cleanup')
    .description('find resources tagged by swarmup whose cluster is gone (or the one named) and delete them')
    .addOption(
      new Option('--provider <provider>', 'where to look')
        .choices(['ec2', 'docker', 'ssh', 'multipass'])
        .default('ec2'),
    )
    .option('--region <region>', "AWS region (else AWS_REGION or the profile's)")
    .option('--all-regions', 'look in every region')
    .option('--profile <name>', 'AWS profile')
    .option(
      '--name <name>',
      "only this cluster, whatever its owner (default: every cluster with no local state, of this state home's owner)",
    )
    .option('--any-owner', "without --name: select every owner's orphans, not only this state home's")
    .option('--dry-run', 'list, delete nothing')
    .option('--json', 'one JSON object per line')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: CleanupFlags) => setExit(await (await import('./cleanup.ts')).cleanup(opts)));

  program
    .command('wizard')
    .description('questions -> a commented config file -> optionally up with it')
    .action(async () => {
      // The prompts and the questions are loaded only here: every other command starts without them.
      const { wizard } = await import('../wizard/run.ts');
      const outcome = await wizard();
      if (outcome.upWith) await up(false)({ config: outcome.upWith });
      else setExit(outcome.code);
    });

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

  common(
    program
      .command('run')
      .argument('<file>', 'a playbook: a .ts file whose default export is definePlaybook(...)'),
  )
    .description('run a playbook against an inventory')
    .action(async (file: string, opts: CommonOptions) => {
      setExit(
        await execute(opts, async (ctx, started) => {
          const { loadPlaybook } = await import('../playbook/load.ts');
          const playbook: Playbook = await loadPlaybook(file);
          await playbook.run(ctx.withHosts(await ctx.provider.reach()));
          return finish(ctx, started, undefined, `playbook ${playbook.name} done`);
        }),
      );
    });

  program
    .command('env')
    .description('shell lines pointing the docker CLI at the cluster: eval "$(swarmup env)"')
    .option('--name <name>', 'cluster name (default: "local", or the config file\'s name)')
    .option('-c, --config <file>', 'config / inventory file (YAML)')
    .option('--unset', 'the lines that undo it')
    .action(async (opts: { name?: string; config?: string; unset?: boolean }) =>
      setExit(await (await import('./env.ts')).envCommand(opts)),
    );

  program
    .command('ssh')
    .description("a shell, or a command after --, on a node (pinned host keys, the cluster's key)")
    .argument('<node>', 'node name (swarmup status lists them)')
    .argument('[command...]', 'command to run instead of a shell (after --)')
    .option('--name <name>', 'cluster name (default: "local", or the config file\'s name)')
    .option('-c, --config <file>', 'config / inventory file (YAML)')
    .option('-t, --tty', 'give the command a terminal')
    .action(
      async (node: string, command: string[], opts: { name?: string; config?: string; tty?: boolean }) =>
        setExit(await (await import('./ssh.ts')).sshCommand(node, command, opts)),
    );

  program
    .command('ls')
    .description('the clusters recorded in the state home ($SWARMUP_HOME)')
    .option('--check', 'also read each one live, as status does (in parallel, 30 s at most)')
    .option('--json', 'one JSON object per cluster and line')
    .action(async (opts: { check?: boolean; json?: boolean }) =>
      setExit(await (await import('./ls.ts')).lsCommand(opts)),
    );

  program
    .command('completion')
    .description('shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const c = await import('./completion.ts');
      try {
        process.stdout.write(c.completionScript(shell, c.describeProgram(program)));
      } catch (err) {
        process.stderr.write(`swarmup: ${(err as Error).message}\n`);
        setExit(ExitCode.badInput);
      }
    });

  program
    .command('complete-nodes', { hidden: true })
    .option('--name <name>')
    .action(async (opts: { name?: string }) =>
      setExit(await (await import('./completion.ts')).completeNodes(opts.name)),
    );

  return program;
}

/** `plan` / `up --dry-run`: the cluster plan `up` would apply, from facts read where machines exist; no change. */
async function planOnly(ctx: PlaybookContext): Promise<number> {
  const [
    { readCluster },
    { planCluster },
    { planEvent },
    { renderPlan },
    { refuseDenied, renderPermissions },
  ] = await Promise.all([
    import('../cluster/read.ts'),
    import('../cluster/plan.ts'),
    import('../cluster/apply.ts'),
    import('../cluster/render-plan.ts'),
    import('../providers/permission-report.ts'),
  ]);
  const reading = await readCluster(ctx, { machinesOnly: ctx.options.until === 'provision' });
  const plan = planCluster(reading.input);
  // Asked without changing anything (EC2: DryRun); a denial fails the plan as it would fail up (exit 2).
  const permissions = await ctx.provider.checkPermissions?.();
  if (ctx.reporter.json)
    ctx.reporter.emit({ event: 'plan', ...planEvent(plan), ...(permissions ? { permissions } : {}) });
  else {
    // Where the machines come from (an engine, a region): said once, on the machines' phases.
    const location = plan.phases.some((p) => p.stage === 'provision')
      ? await ctx.provider.location().catch(() => undefined)
      : undefined;
    const where = { provider: ctx.provider.name, ...(location ? { location } : {}) };
    process.stdout.write(renderPlan(plan, ctx.options.until, where) + '\n');
    if (permissions) process.stdout.write(renderPermissions(permissions).join('\n') + '\n');
  }
  refuseDenied(permissions, `${ctx.provider.name} permissions`);
  return ExitCode.ok;
}

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
