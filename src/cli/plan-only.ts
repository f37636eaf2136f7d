import { ExitCode } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';

/**
 * The exit code of a plan that could be made: 0, or with `--detailed-exitcode` 4 when `up` would change something
 * (any action in any phase). Pure.
 */
export function planExitCode(plan: { phases: Array<{ actions: unknown[] }> }, detailed: boolean): number {
  return detailed && plan.phases.some((p) => p.actions.length > 0) ? ExitCode.changesPending : ExitCode.ok;
}

/** `plan` / `up --dry-run`: the cluster plan `up` would apply, from facts read where machines exist; no change. */
export async function planOnly(ctx: PlaybookContext, detailedExitcode = false): Promise<number> {
  const [
    { readCluster },
    { planCluster, phasesUntil },
    { planEvent, renderPlan },
    { refuseDenied, renderPermissions },
    { renderInputs },
  ] = await Promise.all([
    import('../cluster/read.ts'),
    import('../cluster/plan.ts'),
    import('../cluster/render-plan.ts'),
    import('../providers/permission-report.ts'),
    import('../cluster/render-inputs.ts'),
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
    const read = renderInputs(ctx.cluster);
    if (read.length) process.stdout.write(read.join('\n') + '\n');
    process.stdout.write(renderPlan(plan, ctx.options.until, where) + '\n');
    if (permissions) process.stdout.write(renderPermissions(permissions).join('\n') + '\n');
  }
  refuseDenied(permissions, `${ctx.provider.name} permissions`);
  // What `up` with the same --until would do: the phases after it do not count.
  return planExitCode({ phases: phasesUntil(plan.phases, ctx.options.until) }, detailedExitcode);
}
