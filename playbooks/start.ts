import { readCluster } from '../src/cluster/read.ts';
import { startHosts } from '../src/cluster/revive.ts';
import { startBatches } from '../src/cluster/stop-order.ts';
import { unlockManagers } from '../src/cluster/day2.ts';
import { definePlaybook, type PlaybookContext } from '../src/playbook/playbook.ts';
import type { Machine } from '../src/providers/provider.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import { chooseSwarm } from '../src/swarm/choose-swarm.ts';
import { waitForLeader } from '../src/swarm/leader-wait.ts';
import { lockedHosts } from '../src/swarm/locked.ts';
import { readSwarm } from '../src/swarm/read-facts.ts';
import type { Verification } from '../src/swarm/verify.ts';
import { swarmView } from '../src/swarm/view.ts';

/**
 * `swarmup start`: what `stop` stopped (or anything stopped since) runs again: the managers' machines and engines
 * first (unlocked with the recorded key where autolock holds them), then, once they have a leader, the workers'.
 * Nothing else is changed; it ends verified as `up` does, in the same swarm.
 */
export default definePlaybook({
  name: 'start',
  description: 'start the machines (or engines) of the cluster, managers first, and verify it',
  async run(ctx): Promise<Verification> {
    const reading = await readCluster(ctx);
    const wanted = reading.input.hosts.map((h) => ({
      name: h.name,
      role: h.role === 'worker' ? ('worker' as const) : ('manager' as const),
    }));
    const machines = new Map(reading.machines);
    for (const batch of startBatches(wanted.filter((h) => reading.input.later?.includes(h.name)))) {
      const started = await startHosts(ctx, reading, new Set(batch.hosts));
      for (const [name, m] of started.machines) machines.set(name, m);
      if (batch.role === 'manager') {
        const managers = wanted.filter((h) => h.role === 'manager' && machines.has(h.name));
        await unlockIfLocked(
          ctx,
          managers.map((h) => machines.get(h.name)!),
        );
        await waitForLeader(ctx, [...machines.values()]);
      }
    }
    const hosts = wanted.flatMap((h) => (machines.has(h.name) ? [machines.get(h.name)!] : []));
    ctx.state.write({ name: ctx.cluster.name, provider: ctx.cluster.provider, stoppedAt: undefined });
    const { facts } = await readSwarm(ctx.withHosts(hosts), {
      engineWaitMs: 60_000,
      tolerateNoEngine: true,
      deadlineMs: 10_000,
    });
    const swarm = chooseSwarm(facts, ctx.state.read()?.clusterId);
    const view = swarmView(reading.input.hosts, facts, swarm);
    // Nodes that just came back take a moment to report Ready: checked until they do (60 s at most).
    return checkSwarm(ctx.withHosts(hosts), view, { waitMs: 60_000, nodeIds: view.nodeIds });
  },
});

/** Managers started again with autolock on wait for the unlock key: given the recorded one, all at once. */
async function unlockIfLocked(ctx: PlaybookContext, managers: Machine[]): Promise<void> {
  if (!ctx.state.readUnlockKey() || managers.length === 0) return;
  const { facts } = await readSwarm(ctx.withHosts(managers), {
    engineWaitMs: 60_000,
    settleMs: 0,
    electionWaitMs: 0,
    deadlineMs: 5_000,
    tolerateNoEngine: true,
  });
  if (lockedHosts(facts).length > 0) await unlockManagers(ctx);
}
