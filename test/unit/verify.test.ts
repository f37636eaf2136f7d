import { describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/swarm/facts.ts';
import { verifySwarm } from '../../src/swarm/verify.ts';

const node = (id: string, role: 'manager' | 'worker', extra: Partial<ClusterNode> = {}): ClusterNode => ({
  id,
  hostname: `host-of-${id}`,
  role,
  state: 'ready',
  availability: 'active',
  leader: false,
  reachability: role === 'manager' ? 'reachable' : null,
  addr: '10.0.0.1',
  engineVersion: '28.5.2',
  labels: {},
  ...extra,
});

/** A 1+2 swarm: m1 the leader, w1 Ready, w2's node Down (its machine is down). */
const nodes = [
  node('id-m1', 'manager', { leader: true }),
  node('id-w1', 'worker'),
  node('id-w2', 'worker', { state: 'down' }),
];
const hosts = [
  { name: 'm1', role: 'manager' as const, nodeId: 'id-m1' },
  { name: 'w1', role: 'worker' as const, nodeId: 'id-w1' },
];

describe('verifySwarm', () => {
  it('a Down node no host of the cluster is: a stale entry, named by its hostname', () => {
    const v = verifySwarm({ hosts, managers: 1, nodes });
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['host-of-id-w2 (node id-w2): is down and no host of the cluster is it']);
  });

  it('the node recorded for a host left out of the run is its node: named for it, not a stale entry', () => {
    const v = verifySwarm({ hosts, managers: 1, nodes, leftOut: [{ name: 'w2', nodeId: 'id-w2' }] });
    expect(v.problems).toEqual([]);
    expect(v.nodes.map((n) => [n.name, n.state])).toEqual([
      ['m1', 'ready'],
      ['w1', 'ready'],
      ['w2', 'down'],
    ]);
  });

  it('a host left out with no recorded node changes nothing of the check', () => {
    const v = verifySwarm({ hosts, managers: 1, nodes, leftOut: [{ name: 'w3', nodeId: '' }] });
    expect(v.problems).toHaveLength(1);
  });
});
