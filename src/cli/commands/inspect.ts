// The commands that read a cluster (or the recorded ones) and change nothing: status, verify, diagnose, ls; and
// schema, what swarmup reads and prints.
import { Argument, type Command } from 'commander';
import { ExitCode } from '../../errors.ts';
import { builtin } from '../builtin.ts';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { SCHEMA_KINDS, type SchemaKind } from '../schema-kinds.ts';
import { common, providerFlags, smokeFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';
import { smokeOptions, type SmokeFlags } from '../smoke-flags.ts';

/** `status`: the docker node ls view. */
export function registerStatus(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('status')
        .description('the docker node ls view of the cluster')
        .option('--labels', "a LABELS column: each node's labels (--json always has them)"),
    ),
    false,
  ).action(async (opts: CommonOptions & { labels?: boolean }) => {
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
              ...(v.state ? { state: v.state } : {}),
              ...(v.hosts ? { hosts: v.hosts } : {}),
              ...(v.repair ? { repair: v.repair } : {}),
            }) + '\n',
          );
          return v.ok ? ExitCode.ok : ExitCode.stepFailed;
        }
        return finish(ctx, started, v, 'status', { labels: !!opts.labels });
      }),
    );
  });
}

/** `verify`: the checks up ends with, and the data plane with --smoke. */
export function registerVerify(program: Command, setExit: SetExit): void {
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
          const { verifyPlaybook } = await import('../../../playbooks/verify.ts');
          const v = await verifyPlaybook(smoke).run(ctx);
          return finish(ctx, started, v, 'verified');
        },
        // The smoke test makes (and removes) a service: one such command at a time, and Ctrl-C cleans up.
        smoke ? 'verify --smoke' : undefined,
      ),
    );
  });
}

/** `diagnose`: one archive of what every node says. */
export function registerDiagnose(program: Command, setExit: SetExit): void {
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
          const { diagnose } = await import('../diagnose.ts');
          const r = await diagnose(ctx, opts.output);
          if (ctx.reporter.json) ctx.reporter.emit({ event: 'diagnose', file: r.file, nodes: r.nodes });
          else
            process.stdout.write(`diagnostics of ${r.nodes} nodes written to ${r.file} (secrets redacted)\n`);
          return finish(ctx, started, undefined, 'diagnostics written');
        }),
      );
    });
}

/** `ls`: the clusters of the state home. */
export function registerLs(program: Command, setExit: SetExit): void {
  program
    .command('ls')
    .description('the clusters recorded in the state home ($SWARMUP_HOME)')
    .option('--check', 'also read each one live, as status does (in parallel, 30 s at most)')
    .option('--json', 'one JSON object per cluster and line')
    .action(async (opts: { check?: boolean; json?: boolean }) =>
      setExit(await (await import('../ls.ts')).lsCommand(opts)),
    );
}

/** `schema KIND`: the JSON Schema of the config file or of a command's --json output. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description(
      'the JSON Schema of the config file (config) or of --json output (events, status, cleanup, ls)',
    )
    .addArgument(new Argument('<kind>', 'config, events, status, cleanup or ls').choices(SCHEMA_KINDS))
    .action(async (kind: SchemaKind) => {
      process.stdout.write((await import('../schemas.ts')).renderJsonSchema(kind));
    });
}
