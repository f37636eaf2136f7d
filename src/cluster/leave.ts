import { StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { SwarmApplier } from '../swarm/apply-action.ts';
import { removeNode } from '../swarm/engine.ts';
import { parseInfo, type HostFacts } from '../swarm/facts.ts';
import { removeSmokeResources } from '../swarm/smoke-cleanup.ts';
import type { Machine } from '../providers/provider.ts';

/**
 * `down` on machines the user brought: only the nodes swarmup joined leave (recorded by NodeID at each join), and
 * only hosts of this cluster's swarm. In a swarm swarmup adopted, its nodes leave the way scale-down takes them out
 * (managers demoted first, one at a time, through a manager that was there before), so the adopted swarm keeps its
 * quorum; in a swarm swarmup made, every node simply leaves, workers first. Everything else is reported.
 */
export async function leaveOwnNodes(ctx: PlaybookContext): Promise<string[]> {
  const state = ctx.state.read();
  const hosts = await ctx.provider.reach();
  const mine = new Set(Object.values(state?.nodeIds ?? {}).filter(Boolean));
  const before = new Set(state?.preexisting ?? []);
  const facts = new Map<string, HostFacts>();
  await ctx.withHosts(hosts).step('read swarm facts', 'all', async (h) => {
    facts.set(h.name, parseInfo(h.name, h.host.advertiseAddress, await (await h.docker()).info()));
  });
  const removed: string[] = [];
  // A smoke test killed before its cleanup left its global service (a host-mode port on every node) and its image:
  // removed while a manager of this cluster's swarm still answers, before anything leaves (the machines stay).
  removed.push(...(await removeSmokeLeftovers(ctx, hosts, facts, state?.clusterId)));
  const leaving = hosts.filter((h) => {
    const f = facts.get(h.name)!;
    if (f.state === 'inactive') return false;
    const why = !mine.has(f.nodeId)
      ? 'not a node swarmup joined'
      : before.has(f.nodeId)
        ? 'a node of the swarm before swarmup adopted it'
        : f.clusterId && state?.clusterId && f.clusterId !== state.clusterId
          ? `in swarm ${f.clusterId}, not this cluster's ${state.clusterId}`
          : undefined;
    if (why) ctx.reporter.emit({ event: 'problem', host: h.name, message: `left in its swarm: ${why}` });
    return !why;
  });
  if (leaving.length === 0) return removed;

  const stays = hosts.find((h) => before.has(facts.get(h.name)!.nodeId) && facts.get(h.name)!.isManager);
  if (before.size > 0 && stays) {
    // An adopted swarm goes on: take swarmup's nodes out of it one at a time, workers first.
    const applier = new SwarmApplier({
      entry: stays.name,
      machine: (n) => hosts.find((h) => h.name === n)!,
      docker: async (n) => (await ctx.connection(hosts.find((h) => h.name === n)!)).docker,
      nodeIds: new Map(),
      log: (m) => ctx.log(m),
    });
    const ordered = [...leaving].sort(
      (a, b) => Number(facts.get(a.name)!.isManager) - Number(facts.get(b.name)!.isManager),
    );
    await ctx.tasks(
      "take swarmup's nodes out of the adopted swarm",
      ordered.map((h) => ({
        title: h.name,
        run: async () => {
          const id = facts.get(h.name)!.nodeId;
          try {
            if (facts.get(h.name)!.isManager)
              await applier.apply({ kind: 'demote', host: h.name, nodeId: id });
            await applier.apply({ kind: 'leave', host: h.name, reason: 'down' });
            await removeNode((await ctx.connection(stays)).docker, id);
          } catch (err) {
            throw new StepError(h.name, 'leave the adopted swarm', (err as Error).message);
          }
          removed.push(`${h.name}: left the swarm`);
          ctx.changed();
        },
      })),
      { concurrent: false },
    );
    return removed;
  }
  // A swarm swarmup made: every node leaves, workers first (the managers never see a worker vanish).
  for (const managers of [false, true]) {
    const group = leaving.filter((h) => facts.get(h.name)!.isManager === managers);
    if (group.length === 0) continue;
    await ctx
      .withHosts(group)
      .step(`leave the swarm (${managers ? 'managers' : 'workers'})`, 'all', async (h) => {
        await (await h.docker()).swarmLeave({ force: true });
        removed.push(`${h.name}: left the swarm`);
        ctx.changed();
      });
  }
  return removed;
}

/**
 * What smoke tests of this cluster left in its swarm (found by swarmup's smoke labels and names only): the service
 * and network through a manager of the cluster's swarm, task containers and probe images on each of its hosts.
 * Throws, before any node leaves, when something is still there after 30 s: the next `down` tries again.
 */
async function removeSmokeLeftovers(
  ctx: PlaybookContext,
  hosts: Machine[],
  facts: Map<string, HostFacts>,
  clusterId: string | undefined,
): Promise<string[]> {
  const inSwarm = hosts.filter((h) => {
    const f = facts.get(h.name)!;
    return f.state === 'active' && (!clusterId || !f.clusterId || f.clusterId === clusterId);
  });
  const manager = inSwarm.find((h) => facts.get(h.name)!.isManager);
  if (!manager) return [];
  const r = await removeSmokeResources(
    ctx.cluster.name,
    (await ctx.connection(manager)).docker,
    await Promise.all(inSwarm.map(async (h) => ({ name: h.name, docker: (await ctx.connection(h)).docker }))),
    30_000,
  );
  if (r.removed.length > 0) {
    ctx.changed(r.removed.length);
    ctx.log(`smoke test leftovers removed: ${r.removed.join(', ')}`);
  }
  if (r.left.length > 0)
    throw new StepError(
      manager.name,
      'remove smoke test leftovers',
      `still there after 30 s: ${r.left.join('; ')}`,
    );
  return r.removed.map((what) => `smoke test leftover: ${what}`);
}
