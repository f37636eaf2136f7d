import upPlaybook from '../../playbooks/up.ts';
import { InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { chooseSwarm, QuorumLostError } from '../swarm/choose-swarm.ts';
import { forceNewCluster, waitForNode } from '../swarm/engine.ts';
import { readSwarmFacts } from '../swarm/read-facts.ts';
import type { Verification } from '../swarm/verify.ts';
import { confirm } from './confirm.ts';

/**
 * `swarmup recover`: only for a swarm that lost quorum. Forces a new cluster from one surviving manager's raft data
 * (`docker swarm init --force-new-cluster`: same cluster ID, services and workers kept), then rebuilds the cluster
 * to the wanted counts the way `up` does (dead managers' entries removed, machines replaced, managers joined one at
 * a time).
 */
export async function recover(ctx: PlaybookContext, from?: string): Promise<Verification | undefined> {
  const hosts = await ctx.provider.reach();
  const here = ctx.withHosts(hosts);
  const facts = await readSwarmFacts(here, {
    engineWaitMs: ctx.provider.enginePreinstalled ? 30_000 : 0,
    tolerateNoEngine: true,
  });
  const known = ctx.state.read()?.clusterId;
  try {
    chooseSwarm(facts, known);
    throw new InputError(
      'recover: the swarm has quorum (a manager lists the nodes); nothing to recover: run "swarmup up" to heal it',
    );
  } catch (err) {
    if (!(err instanceof QuorumLostError)) throw err;
  }
  const survivors = facts.filter((f) => f.state === 'active' && f.isManager);
  if (from && !hosts.some((h) => h.name === from))
    throw new InputError(`--from: no host named ${from} answers in cluster ${ctx.cluster.name}`);
  const chosen = from ? survivors.find((f) => f.host === from) : survivors[0];
  if (!chosen) {
    throw new InputError(
      from
        ? `--from: ${from} is not a surviving manager of the swarm`
        : 'recover: no surviving manager answers; a swarm cannot be recovered without one',
    );
  }
  if (!ctx.options.yes) {
    if (!process.stdin.isTTY)
      throw new InputError('recover forces a new cluster: pass --yes to confirm (stdin is not a terminal)');
    if (!(await confirm(`force a new cluster from ${chosen.host} and rebuild "${ctx.cluster.name}"?`)))
      return undefined;
  }

  const host = hosts.find((h) => h.name === chosen.host)!;
  await ctx.tasks(
    'recover from lost quorum',
    [
      {
        title: `${host.name}: force a new cluster from its raft data`,
        run: async () => {
          const docker = (await ctx.connection(host)).docker;
          try {
            await forceNewCluster(docker, host.advertiseAddress, {
              ...(ctx.cluster.swarm.dataPathAddr ? { dataPathAddr: ctx.cluster.swarm.dataPathAddr } : {}),
            });
            ctx.changed();
            await waitForNode(docker, chosen.nodeId, (n) => n.leader, 'leader', 60_000);
          } catch (err) {
            throw new StepError(host.name, 'force a new cluster', (err as Error).message);
          }
        },
      },
    ],
    { concurrent: false },
  );
  return upPlaybook.run(ctx);
}
