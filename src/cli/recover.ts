import upPlaybook from '../../playbooks/up.ts';
import { readCluster } from '../cluster/read.ts';
import { startHosts } from '../cluster/revive.ts';
import { errorMessage, InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { chooseSwarm, QuorumLostError } from '../swarm/choose-swarm.ts';
import { forceNewCluster, leaveSwarm, waitForNode } from '../swarm/engine.ts';
import { waitingForLeader, type HostFacts } from '../swarm/facts.ts';
import { waitForLeader } from '../swarm/leader-wait.ts';
import { readSwarm } from '../swarm/read-facts.ts';
import type { Verification } from '../swarm/verify.ts';
import { confirm } from '../playbook/confirm.ts';

/**
 * `swarmup recover`: only for a swarm that lost quorum. What is merely stopped is brought back first (machines,
 * engines), and the managers are given the time to elect a leader: a swarm whose managers were stopped usually
 * has its quorum back then, and nothing is forced. Otherwise, with every recorded manager read, a new cluster is
 * forced from one surviving manager's raft data (`docker swarm init --force-new-cluster` at its current address:
 * same cluster ID, services and workers kept), every other manager of the old raft is made to leave, and the
 * cluster is rebuilt to the wanted counts the way `up` does (dead managers' entries removed, machines replaced,
 * managers joined one at a time).
 */
export async function recover(ctx: PlaybookContext, from?: string): Promise<Verification | undefined> {
  const reading = await readCluster(ctx);
  const started = await startHosts(ctx, reading, new Set(reading.input.later ?? []));
  const hosts = [...started.machines.values()].filter((m) =>
    reading.input.hosts.some((h) => h.name === m.name),
  );
  if (from && !hosts.some((h) => h.name === from))
    throw new InputError(`--from: no host named ${from} answers in cluster ${ctx.cluster.name}`);
  if (started.started.length > 0) await waitForLeader(ctx, hosts);
  const { facts, unread } =
    started.started.length > 0 || reading.input.later?.length
      ? await readSwarm(ctx.withHosts(hosts), { engineWaitMs: 30_000, tolerateNoEngine: true })
      : { facts: reading.input.facts, unread: reading.input.refused ?? [] };

  try {
    chooseSwarm(facts, ctx.state.read()?.clusterId);
    if (started.started.length === 0)
      throw new InputError(
        'recover: the swarm has quorum (a manager lists the nodes); nothing to recover: run "swarmup up" to heal it',
      );
    ctx.log(
      `quorum is back after starting ${started.started.join(', ')}: nothing to recover, no new cluster forced`,
    );
    return upPlaybook.run(ctx);
  } catch (err) {
    if (!(err instanceof QuorumLostError)) throw err;
  }

  // Never on a partial picture: a manager that may hold the newest raft data must be read before one is forced.
  const unreadManagers = unread.filter((u) => mayBeManager(ctx, u.host));
  if (unreadManagers.length > 0)
    throw new StepError(
      unreadManagers[0]!.host,
      'recover',
      `${unreadManagers.map((u) => `${u.host}: ${u.reason}`).join('; ')}; nothing was forced: ` +
        'a manager that is not read may hold the newest raft data. Bring its engine back (swarmup ssh NODE), then run recover again',
    );

  const survivors = facts.filter((f) => f.isManager && (f.state === 'active' || waitingForLeader(f)));
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
        title: `${host.name}: force a new cluster from its raft data (at ${host.advertiseAddress})`,
        run: async () => {
          const docker = (await ctx.connection(host)).docker;
          try {
            await forceNewCluster(docker, host.advertiseAddress, {
              ...(ctx.cluster.swarm.dataPathAddr ? { dataPathAddr: ctx.cluster.swarm.dataPathAddr } : {}),
            });
            ctx.changed();
            await waitForNode(docker, chosen.nodeId, (n) => n.leader, 'leader', 60_000);
          } catch (err) {
            throw new StepError(host.name, 'force a new cluster', errorMessage(err));
          }
        },
      },
    ],
    { concurrent: false },
  );
  await leaveOldRaft(ctx, hosts, facts, chosen);
  return upPlaybook.run(ctx);
}

/**
 * Every other manager of the old raft that answers leaves it (`swarm leave --force`), so none is left behind in a
 * raft of its own; `up` then joins them to the recovered swarm and removes their old entries.
 */
async function leaveOldRaft(
  ctx: PlaybookContext,
  hosts: Machine[],
  facts: HostFacts[],
  chosen: HostFacts,
): Promise<void> {
  const old = facts.filter(
    (f) => f.host !== chosen.host && (f.isManager || waitingForLeader(f)) && f.state !== 'inactive',
  );
  if (old.length === 0) return;
  await ctx.tasks(
    'the other managers leave the old raft',
    old.map((f) => ({
      title: `${f.host}: leave (it joins the recovered swarm again)`,
      run: async () => {
        const h = hosts.find((x) => x.name === f.host)!;
        try {
          await leaveSwarm((await ctx.connection(h)).docker);
          ctx.changed();
        } catch (err) {
          throw new StepError(f.host, 'leave the old raft', errorMessage(err));
        }
      },
    })),
    { concurrent: true },
  );
}

/** A host that is, or may be, a manager: by its name or inventory role (auto roles may be managers). */
function mayBeManager(ctx: PlaybookContext, host: string): boolean {
  const wanted = ctx.provider.wanted().find((n) => n.name === host);
  const spec = ctx.cluster.hosts.find((h) => h.name === host);
  if (spec) return spec.role !== 'worker';
  return wanted?.role === 'manager';
}
