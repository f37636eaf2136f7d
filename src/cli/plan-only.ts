import { ExitCode } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';

/** `plan` / `up --dry-run`: the cluster plan `up` would apply, from facts read where machines exist; no change. */
export async function planOnly(ctx: PlaybookContext): Promise<number> {
  const [
    { readCluster },
    { planCluster },
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
  return ExitCode.ok;
}
