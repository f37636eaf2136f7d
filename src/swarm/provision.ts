import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';

/** Create (or find) the cluster's machines and make them the playbook's inventory. */
export async function provisionMachines(ctx: PlaybookContext): Promise<Machine[]> {
  let machines: Machine[] = [];
  const title = ctx.provider.createsMachines ? `provision machines (${ctx.provider.name})` : 'inventory';
  await ctx.tasks(
    title,
    [
      {
        title: ctx.provider.createsMachines
          ? `${ctx.cluster.managers} managers, ${ctx.cluster.workers} workers`
          : `${ctx.cluster.hosts.length} hosts`,
        run: async () => {
          const r = await ctx.provider.provision((m) => ctx.reporter.emit({ event: 'log', message: m }));
          machines = r.machines;
          ctx.changes += r.created;
        },
      },
    ],
    { concurrent: false },
  );
  ctx.setHosts(machines);
  if (ctx.provider.createsMachines) {
    // Machines exist now: record the cluster, so status, down and cleanup know it even if the run stops here.
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      managers: ctx.cluster.managers,
      workers: ctx.cluster.workers,
    });
  }
  return machines;
}
