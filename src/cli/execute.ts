// How a command runs and ends: one context (and lock), every failure mapped to its exit code, a message and a hint.
import { ExitCode, InputError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { redact } from '../redact.ts';
import { renderNodeTable, renderWarnings, type Verification } from '../swarm/verify.ts';
import { renderHostStates } from '../cluster/host-states.ts';
import { interruption, stopBetweenSteps } from '../playbook/interrupt.ts';
import { ClusterLock } from '../state/lock.ts';
import { hintContext, hintFor } from './hints.ts';
import { FOUND_CONFIG_NOTE, normalise } from './options.ts';
import type { CommonOptions } from './session.ts';

/** Records the exit code of the command that ran (main returns it). */
export type SetExit = (code: number) => void;

/** Flags checked before anything is opened: a bad one is exit 2 with nothing touched (null: already reported). */
export function inputOrExit<T>(parse: () => T, opts: { json?: boolean }, setExit: SetExit): T | null {
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

/** Run a command body with one context; map every failure to its exit code and a message naming the cause. */
export async function execute(
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
    const normal = normalise(opts);
    if (normal.configFound && !opts.quiet && !opts.silent) process.stderr.write(FOUND_CONFIG_NOTE);
    ctx = await openContext(normal);
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

export function finish(
  ctx: PlaybookContext,
  started: number,
  verification: Verification | undefined,
  what: string,
  /** `status --labels`: the node table with a LABELS column. */
  table: { labels?: boolean } = {},
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
    if (verification && (verification.nodes.length > 0 || !verification.hosts))
      process.stdout.write('\n' + renderNodeTable(verification.nodes, table) + '\n\n');
    if (verification?.hosts) process.stdout.write('\n' + renderHostStates(verification.hosts) + '\n\n');
    if (verification?.warnings?.length)
      process.stdout.write(redact(renderWarnings(verification.warnings)) + '\n\n');
    if (verification && !verification.ok && verification.state !== 'stopped') {
      for (const p of verification.problems) process.stderr.write(redact(`swarmup: not converged: ${p}\n`));
    }
    const managers = verification?.nodes.filter((n) => n.role === 'manager').length ?? 0;
    const summary =
      verification?.state === 'stopped'
        ? `${ctx.cluster.name}: stopped (${verification.hosts?.length ?? 0} ${ctx.provider.createsMachines ? 'machines' : 'engines'})`
        : verification
          ? `${ctx.cluster.name}: ${verification.nodes.length} nodes, ${managers} managers, ${ok ? 'verified' : 'NOT verified'}`
          : `${ctx.cluster.name}: ${what}`;
    const changes = `${ctx.changes} change${ctx.changes === 1 ? '' : 's'}`;
    const time = `${(durationMs / 1000).toFixed(1)} s`;
    // A cluster brought up (or scaled, recovered) and verified ends as kind's does: ready, and after how long.
    const ready = verification?.ok && what !== 'status';
    process.stdout.write(`${summary}; ${changes}${ready ? `; ready after ${time}` : ` in ${time}`}\n`);
    if (verification?.repair) process.stdout.write(`to repair it: ${verification.repair}\n`);
  }
  if (ok) return ExitCode.ok;
  return ctx.changes > 0 ? ExitCode.partlyApplied : ExitCode.stepFailed;
}
