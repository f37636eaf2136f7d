import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { applyCluster } from './apply.ts';
import { planCluster, type ClusterPlan } from './plan.ts';
import type { ClusterReading } from './read.ts';

/**
 * Start the named hosts' stopped machines and stopped engines, and nothing else, exactly as `up` does in its
 * first two stages (same actions, same events). Hosts not named, and every other change of the plan, are left
 * for `up`. Returns the hosts started and the SSH targets of every machine that runs now.
 */
export async function startHosts(
  ctx: PlaybookContext,
  reading: ClusterReading,
  names: ReadonlySet<string>,
): Promise<{ started: string[]; machines: Map<string, Machine> }> {
  const later = new Set((reading.input.later ?? []).filter((n) => names.has(n)));
  if (later.size === 0) return { started: [], machines: reading.machines };
  const plan = planCluster(reading.input);
  const starts: ClusterPlan = {
    ...plan,
    later: [...later],
    phases: plan.phases
      .map((p) => ({
        ...p,
        actions: p.actions.filter(
          (a) => (a.kind === 'start-machine' || a.kind === 'engine') && later.has(a.host),
        ),
      }))
      .filter((p) => p.actions.length > 0),
  };
  const started = [
    ...new Set(starts.phases.flatMap((p) => p.actions.flatMap((a) => ('host' in a ? [a.host] : [])))),
  ];
  if (started.length === 0) return { started, machines: reading.machines };
  await applyCluster(ctx, reading, starts, 'engine');
  const machines = new Map(reading.machines);
  for (const m of await ctx.provider.reach([...later])) machines.set(m.name, m);
  return { started, machines };
}
