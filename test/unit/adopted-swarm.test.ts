import { describe, expect, it } from 'vitest';
import { describeAction, type Action } from '../../src/swarm/actions.ts';
import { planCluster, type ClusterFacts } from '../../src/cluster/plan.ts';
import type { ClusterNode } from '../../src/swarm/facts.ts';
import { staleNodes, type StaleInput } from '../../src/swarm/stale.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/**
 * A swarm swarmup did not make, as an ssh inventory adopts it (test/fixtures/engines/adopted-down-namesake.json,
 * captured from real engines by test/support/capture-engine-fixtures.ts): a swarm made by hand on fx-adopt-manager-1
 * whose worker (hostname "debian") is gone and listed Down; fx-adopt-worker-2, in no swarm, is also called "debian";
 * fx-adopt-worker-3 is in no swarm.
 */
const fx = loadFixture('adopted-down-namesake');
const M = 'fx-adopt-manager-1';
const NAMESAKE = 'fx-adopt-worker-2';
const OTHER = 'fx-adopt-worker-3';
const clusterId = fx.facts.find((f) => f.host === M)!.clusterId!;
const managerId = fx.facts.find((f) => f.host === M)!.nodeId;
const downNode = fx.nodes.find((n) => n.state === 'down')!;

function input(extra: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    hosts: [
      { name: M, role: 'manager' },
      { name: NAMESAKE, role: 'worker' },
      { name: OTHER, role: 'worker' },
    ],
    createsMachines: false,
    listing: fx.facts.map((f) => ({ name: f.host, role: 'worker', state: 'running' })),
    facts: fx.facts,
    engines: [],
    managers: 1,
    ...extra,
  };
}

const actions = (p: ReturnType<typeof planCluster>): Action[] => p.phases.flatMap((ph) => ph.actions);
const kinds = (p: ReturnType<typeof planCluster>) =>
  actions(p).map((a) => `${a.kind}${'host' in a ? ` ${a.host}` : ''}`);

describe('an adopted swarm (captured): swarmup touches only what it joined', () => {
  it('the captured state is the one the tests need: a Down node named like a host about to join', () => {
    expect(downNode.hostname).toBe('debian');
    expect(fx.facts.find((f) => f.host === NAMESAKE)).toMatchObject({
      hostname: 'debian',
      state: 'inactive',
    });
  });

  it('adopting it: the Down node of the same hostname as a joining host is not removed; tokens are not rotated, and the plan says so', () => {
    const p = planCluster(input({ adopt: true }));
    expect(kinds(p)).toEqual([`join ${NAMESAKE}`, `join ${OTHER}`]);
    expect(actions(p).some((a) => a.kind === 'remove-node')).toBe(false);
    expect(actions(p).some((a) => a.kind === 'rotate-tokens')).toBe(false);
    expect(p.swarm.adopted?.sort()).toEqual([managerId, downNode.id].sort());
    expect(p.notices.join('\n')).toMatch(
      new RegExp(`swarm ${clusterId} was not made by swarmup \\(adopted\\): its join tokens are not rotated`),
    );
  });

  it('a later run (the adopted swarm recorded, with the nodes it had before): the same', () => {
    const p = planCluster(
      input({
        knownClusterId: clusterId,
        preexisting: [managerId, downNode.id],
        // up records every host's NodeID at its end: the owner's manager too.
        recordedNodeIds: { [M]: managerId },
      }),
    );
    expect(kinds(p)).toEqual([`join ${NAMESAKE}`, `join ${OTHER}`]);
    expect(p.notices.join('\n')).toContain('not rotated');
  });

  it('in a swarm swarmup made, a Down namesake of a joining host is its earlier life: removed, and tokens rotated after the joins', () => {
    // The same engines' answers, read as a swarm swarmup made (recorded, nothing from before): every node of it was
    // joined by swarmup, so the Down "debian" can only be the joining "debian" before it left.
    const p = planCluster(input({ knownClusterId: clusterId, recordedNodeIds: { [M]: managerId } }));
    expect(kinds(p)).toEqual(['remove-node', `join ${NAMESAKE}`, `join ${OTHER}`, 'rotate-tokens']);
    expect(actions(p)[0]).toMatchObject({ kind: 'remove-node', nodeId: downNode.id });
    expect(p.notices.join('\n')).not.toContain('not rotated');
  });
});

describe('staleNodes: the rule', () => {
  const node = (id: string, hostname: string, state = 'down'): ClusterNode => ({
    id,
    hostname,
    role: 'worker',
    state,
    availability: 'active',
    leader: false,
    reachability: null,
    addr: '10.0.0.9',
    engineVersion: '20.10.24',
  });
  const base = (over: Partial<StaleInput>): StaleInput => ({
    nodes: [],
    reported: new Set(),
    hosts: ['a', 'b'],
    hostnames: new Map([['b', 'web']]),
    joining: new Set(['b']),
    recorded: {},
    retiring: new Set(),
    adopted: false,
    preexisting: new Set(),
    ...over,
  });

  it('adopted: a Down node that swarmup never recorded is never removed, whatever its hostname', () => {
    expect(staleNodes(base({ adopted: true, nodes: [node('n1', 'web'), node('n2', 'b')] }))).toEqual([]);
  });

  it('adopted: a node swarmup recorded for a machine that now reports another NodeID is removed (by NodeID)', () => {
    const out = staleNodes(base({ adopted: true, nodes: [node('n1', 'web')], recorded: { b: 'n1' } }));
    expect(out.map((o) => o.node.id)).toEqual(['n1']);
  });

  it("adopted: a node the swarm had before swarmup is never removed, even when recorded (up records every host's NodeID)", () => {
    const input = base({
      adopted: true,
      nodes: [node('n1', 'web')],
      recorded: { a: 'n1' },
      preexisting: new Set(['n1']),
    });
    expect(staleNodes(input)).toEqual([]);
  });

  it('made by swarmup: a Down node named like a joining host is removed; a ready one is not', () => {
    const out = staleNodes(base({ nodes: [node('n1', 'web'), node('n2', 'web', 'ready')] }));
    expect(out.map((o) => o.node.id)).toEqual(['n1']);
  });
});

describe('smoke test leftovers in the plan', () => {
  it('removed first, before any swarm change, through the manager that listed the service', () => {
    const p = planCluster(
      input({
        adopt: true,
        smokeLeftovers: [
          {
            host: M,
            services: ['service swarmup-smoke-0a1b2c'],
            other: ['1 task container', '1 probe image'],
          },
          { host: OTHER, services: [], other: ['1 probe image'] },
        ],
      }),
    );
    const swarm = p.phases.filter((ph) => ph.stage === 'swarm');
    expect(swarm[0]!.title).toBe('remove smoke test leftovers');
    const a = swarm[0]!.actions[0]!;
    expect(a).toMatchObject({ kind: 'remove-smoke', manager: M, hosts: [M, OTHER] });
    expect(describeAction(a)).toBe(
      `remove what an interrupted smoke test left: service swarmup-smoke-0a1b2c, 1 task container on ${M}, ` +
        `1 probe image on ${M}, 1 probe image on ${OTHER}`,
    );
    expect(kinds(p).slice(1)).toEqual([`join ${NAMESAKE}`, `join ${OTHER}`]);
  });

  it('nothing found, nothing planned', () => {
    const p = planCluster(input({ adopt: true, smokeLeftovers: [] }));
    expect(p.phases.some((ph) => ph.title === 'remove smoke test leftovers')).toBe(false);
  });
});
