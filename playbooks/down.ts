import { StepError } from '../src/errors.ts';
import { definePlaybook } from '../src/playbook/playbook.ts';
import { leaveOwnNodes } from '../src/cluster/leave.ts';
import { readOwner, recordDescribes } from '../src/state/owner.ts';
import type { BackupsOutcome } from '../src/state/store.ts';

/**
 * `swarmup down`: remove everything swarmup created for the cluster and nothing else. Machines swarmup created are
 * destroyed with everything labelled for the cluster; of machines the user brought (ssh), those swarmup joined
 * leave the swarm (never a node that was there before swarmup, nor a host of another swarm). The state folder goes
 * last; its backups are kept beside the state home (src/state/kept-backups.ts) unless `--delete-backups`.
 */
export default definePlaybook({
  name: 'down',
  description: 'remove the cluster',
  async run(ctx): Promise<{ removed: string[]; backups?: BackupsOutcome }> {
    const removed: string[] = [];
    let backups: BackupsOutcome | undefined;
    if (!ctx.provider.createsMachines) removed.push(...(await leaveOwnNodes(ctx)));
    await ctx.tasks(
      'remove resources',
      [
        {
          title: ctx.provider.createsMachines ? `everything labelled for ${ctx.cluster.name}` : 'local state',
          run: async () => {
            const r = await ctx.provider.removeAll((m) => ctx.reporter.emit({ event: 'log', message: m }));
            removed.push(...r.removed);
            ctx.changed(r.removed.length);
            if (ctx.provider.createsMachines && r.removed.length === 0) {
              // Finding nothing proves nothing (another region, another engine): the record, and with it the
              // only copy of the cluster's key, is kept until a deletion is seen.
              throw new StepError(
                ctx.cluster.name,
                'down',
                `nothing of this cluster found at ${await ctx.provider.location()}; ` +
                  (ctx.state.exists()
                    ? `its state is kept in ${ctx.state.dir}: look where it was made, or remove that folder if you know it is gone`
                    : 'no cluster of that name is recorded either'),
              );
            }
            // The record (the only copy of the key) goes only with the cluster it describes: what was removed
            // here is this home's (ownFilter); a record of another provider, region or engine stays.
            const owner = readOwner();
            const verdict = recordDescribes(
              ctx.state.read(),
              {
                provider: ctx.provider.name,
                ...(ctx.cluster.ec2?.region ? { region: ctx.cluster.ec2.region } : {}),
                ...(ctx.provider.endpoint !== undefined ? { endpoint: ctx.provider.endpoint } : {}),
                ...(owner ? { owner } : {}),
              },
              owner,
            );
            if (ctx.provider.createsMachines && ctx.state.exists() && !verdict.ok)
              throw new StepError(
                ctx.cluster.name,
                'down',
                `removed, but its record in ${ctx.state.dir} is kept: ${verdict.why}`,
              );
            // The state folder goes; its backups are kept beside the state home unless --delete-backups.
            backups = ctx.state.remove({ deleteBackups: !!ctx.options.deleteBackups });
          },
        },
      ],
      { concurrent: false },
    );
    return { removed, ...(backups ? { backups } : {}) };
  },
});
