import { definePlaybook } from '../src/playbook/playbook.ts';
import { leaveSwarm } from '../src/swarm/engine.ts';

/**
 * `swarmup down`: remove everything swarmup created for the cluster and nothing else. Machines swarmup created are
 * destroyed with everything labelled for the cluster; machines the user brought (ssh) leave the swarm.
 */
export default definePlaybook({
  name: 'down',
  description: 'remove the cluster',
  async run(ctx): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    if (!ctx.provider.createsMachines) {
      const here = ctx.withHosts(await ctx.provider.reach());
      // Workers first, then managers: the managers never see a worker vanish from a swarm they still run.
      for (const group of ['workers', 'managers'] as const) {
        await here.step(`leave the swarm (${group})`, group, async (h) => {
          const info = (await (await h.docker()).info()) as { Swarm?: { LocalNodeState?: string } };
          if (info.Swarm?.LocalNodeState === 'inactive') return;
          await leaveSwarm(await h.docker());
          removed.push(`${h.name}: left the swarm`);
          ctx.changed();
        });
      }
    }
    await ctx.tasks(
      'remove resources',
      [
        {
          title: ctx.provider.createsMachines ? `everything labelled for ${ctx.cluster.name}` : 'local state',
          run: async () => {
            const r = await ctx.provider.removeAll((m) => ctx.reporter.emit({ event: 'log', message: m }));
            removed.push(...r.removed);
            ctx.changed(r.removed.length);
            ctx.state.remove();
          },
        },
      ],
      { concurrent: false },
    );
    return { removed };
  },
});
