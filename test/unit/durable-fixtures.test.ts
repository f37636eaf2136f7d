import { describe, expect, it } from 'vitest';
import { hostStates, repairCommand } from '../../src/cluster/host-states.ts';
import { planCluster, type ClusterFacts } from '../../src/cluster/plan.ts';
import { judgeUnread, laterHosts } from '../../src/cluster/unread.ts';
import { planEngine } from '../../src/engine/install-plan.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import type { MachineListing } from '../../src/providers/provider.ts';
import { chooseSwarm, QuorumLostError } from '../../src/swarm/choose-swarm.ts';
import { movedAddress, waitingForLeader } from '../../src/swarm/facts.ts';
import { settlingOf } from '../../src/swarm/read-facts.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/**
 * The states of a cluster that ordinary life breaks, read from engines put into them (test/fixtures/engines, made by
 * test/support/capture-engine-fixtures.ts on Docker 20.10): every node restarted at other addresses, two managers'
 * engines stopped, a manager re-addressed while it ran.
 */

const running = (names: string[]): MachineListing[] =>
  names.map((name) => ({ name, role: /-manager-/.test(name) ? 'manager' : 'worker', state: 'running' }));
const lines = (p: ReturnType<typeof planCluster>) =>
  p.phases.flatMap((ph) =>
    ph.actions.map((a) => `${a.kind} ${'host' in a ? a.host : 'hostname' in a ? a.hostname : ''}`.trim()),
  );

describe('every node restarted at another address (restarted-moved)', () => {
  const { facts, prefix } = loadFixture('restarted-moved');
  const managers = facts.filter((f) => f.isManager);

  it('each manager is read as a member waiting for a leader whose address moved', () => {
    expect(managers).toHaveLength(3);
    for (const m of managers) {
      expect(m.state).toBe('pending');
      expect(waitingForLeader(m)).toBe(true);
      expect(movedAddress(m)).toEqual({ from: expect.any(String), to: m.advertiseAddress });
    }
  });

  it('refused as a swarm without a leader whose managers moved, offering recover --yes, never down', () => {
    const attempt = () => chooseSwarm(facts, 'recorded-cluster-id', true);
    expect(attempt).toThrow(QuorumLostError);
    expect(attempt).toThrow(/managers' addresses moved .*joined at .*now has .*swarmup recover --yes/s);
    expect(attempt).not.toThrow(/swarmup down|gone with their data/);
  });

  it('no wait for a leader helps: nothing is deferred, and status names the moves and recover', () => {
    const hosts = wantedNodes(prefix, 3, 2);
    expect(laterHosts({ hosts, listing: running(hosts.map((h) => h.name)), facts, unreadLater: [] })).toEqual(
      [],
    );
    const rows = hostStates({ hosts, listing: running(hosts.map((h) => h.name)), facts, unread: [] });
    expect(rows.filter((r) => r.swarm.startsWith('address moved'))).toHaveLength(5);
    expect(repairCommand(rows, true)).toBe('swarmup recover --yes');
  });
});

describe("two of three managers' engines stopped (engines-stopped)", () => {
  const { facts, prefix, stopped } = loadFixture('engines-stopped');
  const hosts = wantedNodes(prefix, 3, 2);
  const down = [...stopped.keys()];
  const unread = down.map((host) => ({
    host,
    engine: 'down' as const,
    reason: 'Cannot connect to the Docker daemon',
  }));

  it('their engine facts say installed and stopped: the engine step starts them, their swarm is read after', () => {
    expect(down).toHaveLength(2);
    const plans = down.map((h) => planEngine(stopped.get(h)!, { source: 'distro' }));
    expect(plans.map((p) => p.steps.map((s) => s.title))).toEqual([
      ['start the engine (dockerd)'],
      ['start the engine (dockerd)'],
    ]);
    const verdict = judgeUnread(unread, stopped, new Set(down));
    expect(verdict).toEqual({ later: down, fresh: [], refused: [] });
  });

  it('the plan starts the engines and plans the swarm once they answer: no host planned as fresh, nothing removed', () => {
    const input: ClusterFacts = {
      hosts,
      createsMachines: true,
      listing: running(hosts.map((h) => h.name)),
      facts,
      engines: down.map((host) => ({ host, steps: ['start the engine (dockerd)'] })),
      managers: 3,
      knownClusterId: facts.find((f) => f.clusterId)!.clusterId!,
      recordedNodeIds: Object.fromEntries(facts.find((f) => f.nodes)!.nodes!.map((n) => [n.hostname, n.id])),
      later: laterHosts({ hosts, listing: running(hosts.map((h) => h.name)), facts, unreadLater: down }),
    };
    const p = planCluster(input);
    expect(p.deferred).toBe(true);
    expect(lines(p)).toEqual(down.map((h) => `engine ${h}`));
  });

  it('status: those engines not answering, the survivor and workers members; the repair is up', () => {
    const rows = hostStates({ hosts, listing: running(hosts.map((h) => h.name)), facts, unread });
    expect(rows.filter((r) => r.engine === 'not answering').map((r) => r.name)).toEqual(down);
    expect(repairCommand(rows, true)).toBe('swarmup up');
  });
});

describe('a manager re-addressed while it ran (manager-moved)', () => {
  const { facts, prefix, nodes } = loadFixture('manager-moved');
  const hosts = wantedNodes(prefix, 3, 2);
  const moved = facts.find((f) => movedAddress(f))!;

  it('only the moved manager is read as moved; the others are members at their addresses', () => {
    expect(facts.filter((f) => movedAddress(f)).map((f) => f.host)).toEqual([moved.host]);
    expect(moved.isManager).toBe(true);
  });

  it('planned as: it leaves, its old node is removed (demoted first), it joins again as a manager; through the leader', () => {
    const p = planCluster({
      hosts,
      createsMachines: true,
      listing: running(hosts.map((h) => h.name)),
      facts,
      engines: [],
      managers: 3,
      knownClusterId: facts.find((f) => f.clusterId)!.clusterId!,
      recordedNodeIds: Object.fromEntries(nodes.map((n) => [n.hostname, n.id])),
    });
    expect(lines(p)).toEqual([
      `leave ${moved.host}`,
      `remove-node ${moved.host}`,
      `join ${moved.host}`,
      'rotate-tokens',
    ]);
    const actions = p.phases.flatMap((x) => x.actions);
    expect(actions[0]).toMatchObject({
      reason: `its address moved from ${movedAddress(moved)!.from} to ${moved.advertiseAddress}`,
    });
    expect(actions[1]).toMatchObject({ nodeId: moved.nodeId, demoteFirst: true });
    expect(actions[2]).toMatchObject({ role: 'manager' });
    const leader = nodes.find((n) => n.leader)!.hostname;
    expect(p.swarm.entry).toBe(leader);
  });
});

describe("a follower's engine restarted while the others kept their leader (manager-restarted)", () => {
  const { facts } = loadFixture('manager-restarted');
  const restarted = facts.find((f) => f.state === 'pending')!;

  it('it says "pending" and that its swarm has no leader, while the leader lists its node', () => {
    expect(restarted.isManager).toBe(true);
    expect(restarted.swarmError).toMatch(/does not have a leader/);
    const leader = facts.find((f) => f.nodes?.some((n) => n.leader))!;
    expect(leader.nodes!.map((n) => n.id)).toContain(restarted.nodeId);
  });

  it('read as a member coming back (watched until it is active), not as a join or an election', () => {
    expect([...settlingOf(facts)]).toEqual([[restarted.host, 'restarting']]);
  });

  it('a pending join whose node no leader lists is a join going on; a settled or leaderless swarm waits for nothing', () => {
    const pending = loadFixture('pending-join').facts;
    expect([...settlingOf(pending)]).toEqual([[pending.find((f) => f.state === 'pending')!.host, 'joining']]);
    for (const state of ['converged', 'quorum-lost-settled', 'engines-stopped', 'restarted-moved'])
      expect(settlingOf(loadFixture(state).facts).size, state).toBe(0);
  });
});
