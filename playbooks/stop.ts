import { readEngineFacts } from '../src/engine/ensure.ts';
import { asRoot } from '../src/engine/install-plan.ts';
import { stopScript } from '../src/engine/service.ts';
import { stopBatches, type RunningHost } from '../src/cluster/stop-order.ts';
import { errorMessage, StepError } from '../src/errors.ts';
import { definePlaybook, type PlaybookContext } from '../src/playbook/playbook.ts';
import type { Machine } from '../src/providers/provider.ts';
import { readSwarm } from '../src/swarm/read-facts.ts';

/**
 * `swarmup stop`: the cluster's machines stopped (for an ssh inventory, the hosts' engines), workers first, then
 * the managers, the leader last; the swarm and its data stay, and `swarmup start` (or `up`) brings it back.
 */
export default definePlaybook({
  name: 'stop',
  description: 'stop the machines (or engines) of the cluster, workers first, the leader last',
  async run(ctx): Promise<{ stopped: string[] }> {
    const listing = ctx.provider.createsMachines ? await ctx.provider.list() : undefined;
    const running = listing
      ?.filter((m) => m.state === 'running' || m.state === 'starting')
      .map((m) => m.name);
    const hosts = running && running.length === 0 ? [] : await ctx.provider.reach(running);
    // Recorded first: a stop cut short still shows as one (ls, status), and start or up finish it either way.
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      stoppedAt: new Date().toISOString(),
    });
    if (hosts.length === 0) {
      ctx.log('nothing runs: the cluster is stopped already');
      return { stopped: [] };
    }
    const order = stopBatches(await rolesOf(ctx, hosts));
    const stopped: string[] = [];
    const stop = ctx.provider.createsMachines ? machineStop(ctx) : await engineStop(ctx, hosts);
    for (const batch of order) {
      await ctx.tasks(
        batch.title,
        batch.hosts.map((name) => ({
          title: name,
          run: async () => {
            try {
              await stop(name);
            } catch (err) {
              throw err instanceof StepError ? err : new StepError(name, batch.title, errorMessage(err));
            }
            ctx.changed();
            stopped.push(name);
          },
        })),
        { concurrent: true },
      );
    }
    return { stopped };
  },
});

/** Each running host's role and whether it leads, as the swarm says (else as its name or inventory says). */
async function rolesOf(ctx: PlaybookContext, hosts: Machine[]): Promise<RunningHost[]> {
  const { facts } = await readSwarm(ctx.withHosts(hosts), {
    engineWaitMs: 0,
    settleMs: 0,
    electionWaitMs: 0,
    deadlineMs: 5_000,
    tolerateNoEngine: true,
  });
  const nodes = facts.find((f) => f.isManager && f.nodes)?.nodes ?? [];
  return hosts.map((h) => {
    const nodeId = facts.find((f) => f.host === h.name)?.nodeId;
    const node = nodes.find((n) => n.id === nodeId);
    const isManager = node ? node.role === 'manager' : facts.find((f) => f.host === h.name)?.isManager;
    return {
      name: h.name,
      role: (isManager ?? h.role !== 'worker') ? 'manager' : 'worker',
      leader: node?.leader ?? false,
    };
  });
}

/** Machines the provider made: stopped through it. */
function machineStop(ctx: PlaybookContext): (name: string) => Promise<void> {
  const provider = ctx.provider;
  if (!provider.stop)
    throw new StepError(ctx.cluster.name, 'stop', `the ${provider.name} provider cannot stop machines`);
  return (name) => provider.stop!(name, (m) => ctx.reporter.emit({ event: 'log', message: m }));
}

/** Machines of an inventory: their engines are stopped (as root, by systemd where it runs). */
async function engineStop(ctx: PlaybookContext, hosts: Machine[]): Promise<(name: string) => Promise<void>> {
  const reading = await readEngineFacts(ctx.withHosts(hosts));
  return async (name) => {
    const host = hosts.find((h) => h.name === name)!;
    const f = reading.facts.get(name)!;
    await ctx.handle(host).run(asRoot(f, stopScript(f.systemd)), { deadlineMs: 120_000 });
  };
}
