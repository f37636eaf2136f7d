import { describe, expect, it } from 'vitest';
import type { ClusterNode, HostFacts } from '../../src/swarm/facts.ts';
import { phasesAfterFailure, type Action } from '../../src/swarm/actions.ts';
import { AdoptionRequired } from '../../src/swarm/choose-swarm.ts';
import { countChanges, planSwarm as planSwarmOf, PlanError, type PlanInput } from '../../src/swarm/plan.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/**
 * These hosts' swarm "C1" is this cluster's, recorded as swarmup records the swarm it made (an adopted swarm, with
 * no stale removal by hostname and no token rotation, is tested in adopted-swarm.test.ts); refusal tested below.
 */
const planSwarm = (input: PlanInput) =>
  planSwarmOf({
    adopt: true,
    ...(input.facts.some((f) => f.clusterId === 'C1') ? { knownClusterId: 'C1' } : {}),
    ...input,
  });

const names = ['m1', 'm2', 'm3', 'w1', 'w2'];
const hosts = names.map((name, i) => ({ name, advertiseAddress: `10.0.0.${i + 1}`, role: 'auto' as const }));

function fresh(name: string): HostFacts {
  const i = names.indexOf(name);
  return {
    host: name,
    advertiseAddress: `10.0.0.${i + 1}`,
    hostname: name,
    engineVersion: '20.10.24',
    state: 'inactive',
    nodeId: '',
    isManager: false,
  };
}

function node(
  id: string,
  hostname: string,
  role: 'manager' | 'worker',
  extra: Partial<ClusterNode> = {},
): ClusterNode {
  return {
    id,
    hostname,
    role,
    state: 'ready',
    availability: 'active',
    leader: false,
    reachability: role === 'manager' ? 'reachable' : null,
    addr: `10.0.0.${names.indexOf(hostname) + 1}`,
    engineVersion: '20.10.24',
    ...extra,
  };
}

/** A converged 3+2 swarm "C1": every host active, m1 the leader. */
function converged(): HostFacts[] {
  const nodes = names.map((n, i) =>
    node(`id-${n}`, n, i < 3 ? 'manager' : 'worker', i === 0 ? { leader: true } : {}),
  );
  return names.map((n, i) => ({
    ...fresh(n),
    state: 'active' as const,
    nodeId: `id-${n}`,
    ...(i < 3 ? { clusterId: 'C1', isManager: true, nodes } : {}),
  }));
}

/**
 * A state captured from real engines (test/fixtures/engines): every host's facts as swarmup reads them, and the
 * hosts of a docker-provider cluster of these counts (a host without facts is a machine about to be made again).
 */
function captured(state: string, managers: number, workers: number) {
  const { facts, nodes, prefix } = loadFixture(state);
  return { facts, nodes, prefix, hosts: wantedNodes(prefix, managers, workers) };
}
/** The cluster ID the managers that answered report (recorded by the run that made the cluster). */
const clusterOf = (facts: HostFacts[]) => facts.find((f) => f.clusterId)!.clusterId!;

const kinds = (actions: Action[]) => actions.map((a) => `${a.kind}${'host' in a ? ':' + a.host : ''}`);

describe('planSwarm', () => {
  it('fresh hosts: init on the first manager, two managers one at a time, workers in parallel, then rotate', () => {
    const plan = planSwarm({ hosts, managers: 3, facts: names.map(fresh) });
    expect(plan.entry).toBe('m1');
    expect(plan.roles).toEqual({ m1: 'manager', m2: 'manager', m3: 'manager', w1: 'worker', w2: 'worker' });
    expect(plan.phases.map((p) => [p.title, p.mode, kinds(p.actions)])).toEqual([
      ['initialise the swarm', 'serial', ['init:m1']],
      ['add managers one at a time', 'serial', ['join:m2', 'join:m3']],
      ['join workers', 'parallel', ['join:w1', 'join:w2']],
      ['rotate join tokens', 'serial', ['rotate-tokens']],
    ]);
    expect(plan.phases[0]!.actions[0]).toEqual({ kind: 'init', host: 'm1' });
    expect(countChanges(plan)).toBe(6);
  });

  it('a failed worker join still lets the tokens rotate; any other failed phase stops the run there', () => {
    const plan = planSwarm({ hosts, managers: 3, facts: names.map(fresh) });
    const at = (title: string) => plan.phases.findIndex((p) => p.title === title);
    expect(phasesAfterFailure(plan.phases, at('join workers')).map((p) => p.title)).toEqual([
      'rotate join tokens',
    ]);
    expect(phasesAfterFailure(plan.phases, at('add managers one at a time'))).toEqual([]);
    expect(phasesAfterFailure(plan.phases, at('initialise the swarm'))).toEqual([]);
  });

  it('converged cluster: nothing to do', () => {
    const plan = planSwarm({ hosts, managers: 3, facts: converged(), knownClusterId: 'C1' });
    expect(plan.phases).toEqual([]);
    expect(countChanges(plan)).toBe(0);
    expect(plan.clusterId).toBe('C1');
    expect(plan.entry).toBe('m1');
    expect(plan.problems).toEqual([]);
  });

  it('partial join: only the hosts that never joined join, through the leader, and tokens rotate', () => {
    const facts = converged();
    const nodes = facts[0]!.nodes!.filter((n) => n.hostname !== 'm3' && n.hostname !== 'w2');
    for (const f of facts) if (f.nodes) f.nodes = nodes;
    facts[2] = fresh('m3');
    facts[4] = fresh('w2');
    // The leader moved to m2: joins go through it.
    nodes[0]!.leader = false;
    nodes[1]!.leader = true;
    const plan = planSwarm({ hosts, managers: 3, facts });
    expect(plan.entry).toBe('m2');
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([['join:m3'], ['join:w2'], ['rotate-tokens']]);
  });

  it('a join that timed out but went on in the background and succeeded: the host is a member, not joined again', () => {
    // The last run recorded no NodeID for w2 (its join call timed out); the join finished on its own since.
    const facts = converged();
    const recordedNodeIds = { m1: 'id-m1', m2: 'id-m2', m3: 'id-m3', w1: 'id-w1' };
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: 'C1', recordedNodeIds });
    expect(countChanges(plan)).toBe(0);
    // Still pending when read: it leaves and joins again (test/unit/plan-fixtures.test.ts, captured from an engine).
  });

  it('a host whose join is pending (captured: a join going on in the background) leaves first, then joins again', () => {
    const { facts, nodes, hosts, prefix } = captured('pending-join', 3, 3);
    const w3 = `${prefix}-worker-3`;
    expect(facts.find((f) => f.host === w3)!.state).toBe('pending');
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: clusterOf(facts) });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([
      [`leave:${w3}`],
      ['remove-node'],
      [`join:${w3}`],
      ['rotate-tokens'],
    ]);
    // Its old node, Down since it left, goes before it joins again.
    expect(plan.phases[1]!.actions[0]).toMatchObject({
      nodeId: nodes.find((n) => n.hostname === w3 && n.state === 'down')!.id,
    });
  });

  it('Down node (captured: a worker that left): re-joined, its old node removed first', () => {
    const { facts, nodes, hosts, prefix } = captured('worker-left', 3, 2);
    const w1 = `${prefix}-worker-1`;
    expect(nodes.find((n) => n.hostname === w1)!.state).toBe('down');
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: clusterOf(facts) });
    expect(plan.phases.map((p) => [p.title, kinds(p.actions)])).toEqual([
      ['remove stale nodes', ['remove-node']],
      ['join workers', [`join:${w1}`]],
      ['rotate join tokens', ['rotate-tokens']],
    ]);
    expect(plan.phases[0]!.actions[0]).toMatchObject({
      nodeId: nodes.find((n) => n.hostname === w1)!.id,
      demoteFirst: false,
    });
  });

  it('a host that left a moment ago (the swarm still lists it ready) has its recorded node removed, then joins again', () => {
    const facts = converged();
    facts[4] = fresh('w2');
    const plan = planSwarm({ hosts, managers: 3, facts, recordedNodeIds: { w2: 'id-w2' } });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([
      ['remove-node'],
      ['join:w2'],
      ['rotate-tokens'],
    ]);
    expect(plan.phases[0]!.actions[0]).toMatchObject({ nodeId: 'id-w2', hostname: 'w2' });
  });

  it('a node of the same name at another address that is still ready is not taken for stale', () => {
    const facts = converged();
    facts[4] = { ...fresh('w2'), advertiseAddress: '10.9.9.9' };
    const plan = planSwarm({
      hosts: hosts.map((h) => (h.name === 'w2' ? { ...h, advertiseAddress: '10.9.9.9' } : h)),
      managers: 3,
      facts,
    });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([['join:w2'], ['rotate-tokens']]);
  });

  it('Down manager (captured: its machine gone): demoted and removed before its new machine joins as a manager', () => {
    const { facts, nodes, hosts, prefix } = captured('manager-gone', 3, 2);
    const m2 = `${prefix}-manager-2`;
    expect(nodes.find((n) => n.hostname === m2)).toMatchObject({
      state: 'down',
      reachability: 'unreachable',
    });
    // Its machine is made again: a fresh host (no facts yet) of the same name.
    expect(facts.map((f) => f.host)).not.toContain(m2);
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: clusterOf(facts) });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([
      ['remove-node'],
      [`join:${m2}`],
      ['rotate-tokens'],
    ]);
    expect(plan.phases[0]!.actions[0]).toMatchObject({
      nodeId: nodes.find((n) => n.hostname === m2)!.id,
      demoteFirst: true,
    });
    expect(plan.roles[m2]).toBe('manager');
  });

  it('foreign swarm: a worker of another swarm is reported and left alone', () => {
    const facts = converged();
    facts[4] = { ...fresh('w2'), state: 'active', nodeId: 'alien' };
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: 'C1' });
    expect(plan.problems).toEqual([
      { host: 'w2', message: expect.stringContaining('belongs to a different swarm') },
    ]);
    expect(plan.phases.flatMap((p) => p.actions).some((a) => 'host' in a && a.host === 'w2')).toBe(false);
  });

  it('foreign manager in the inventory: the swarm most hosts belong to wins; the other manager is left alone', () => {
    const facts = converged();
    facts[2] = {
      ...fresh('m3'),
      state: 'active',
      nodeId: 'x',
      clusterId: 'OTHER',
      isManager: true,
      nodes: [node('x', 'm3', 'manager', { leader: true })],
    };
    for (const f of facts) if (f.clusterId === 'C1') f.nodes = f.nodes!.filter((n) => n.hostname !== 'm3');
    const plan = planSwarm({ hosts, managers: 3, facts });
    expect(plan.clusterId).toBe('C1');
    expect(plan.problems.map((p) => p.host)).toEqual(['m3']);
    // m3's manager seat goes to w1, promoted; w2 stays a worker.
    expect(plan.roles).toMatchObject({ m1: 'manager', m2: 'manager', w1: 'manager', w2: 'worker' });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([['promote:w1']]);
  });

  it('explicit roles are kept; auto hosts fill the remaining seats', () => {
    const input: PlanInput = {
      hosts: hosts.map((h) =>
        h.name === 'w2'
          ? { ...h, role: 'manager' as const }
          : h.name === 'm1'
            ? { ...h, role: 'worker' as const }
            : h,
      ),
      managers: 3,
      facts: names.map(fresh),
    };
    const plan = planSwarm(input);
    expect(plan.roles).toEqual({ m1: 'worker', m2: 'manager', m3: 'manager', w1: 'worker', w2: 'manager' });
    expect(plan.entry).toBe('m2');
  });

  it('lost quorum (captured: the leader still lists its two lost managers): refuses to plan, says how to recover', () => {
    const { facts, hosts } = captured('quorum-lost-early-leader', 3, 1);
    const plan = () => planSwarm({ hosts, managers: 3, facts, knownClusterId: clusterOf(facts) });
    expect(plan).toThrow(PlanError);
    expect(plan).toThrow(/1 of 3 managers reachable, 2 needed.*swarmup recover --yes/s);
  });

  it('a manager whose node list cannot be read (captured: no leader) stops the plan', () => {
    const { facts, hosts } = captured('quorum-lost-settled', 3, 1);
    expect(facts.filter((f) => f.isManager).map((f) => f.nodesError)).toEqual([
      expect.stringContaining('does not have a leader'),
    ]);
    // Without a leader the survivor reports no cluster ID: the machines are this cluster's all the same.
    expect(facts.some((f) => f.clusterId)).toBe(false);
    expect(() => planSwarm({ hosts, managers: 3, facts, ownMachines: true })).toThrow(
      /no manager can list the nodes.*does not have a leader/,
    );
  });

  it('a worker left out of the run (not reached over SSH): the others are joined, it is a problem, nothing done to it', () => {
    const facts = names.filter((n) => n !== 'w2').map(fresh);
    const leftOut = [{ host: 'w2', reason: 'not reached over SSH (ECONNREFUSED): left out of this run' }];
    const plan = planSwarm({ hosts, managers: 3, facts, leftOut });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([
      ['init:m1'],
      ['join:m2', 'join:m3'],
      ['join:w1'],
      ['rotate-tokens'],
    ]);
    expect(plan.problems).toEqual([{ host: 'w2', message: leftOut[0]!.reason }]);
  });

  it('a member left out of the run: its recorded node is not taken for a stale one (not removed, not joined again)', () => {
    const facts = converged().filter((f) => f.host !== 'w2');
    const recordedNodeIds = { m1: 'id-m1', m2: 'id-m2', m3: 'id-m3', w1: 'id-w1', w2: 'id-w2' };
    const input = { hosts, managers: 3, facts, knownClusterId: 'C1', recordedNodeIds };
    const plan = planSwarm({ ...input, leftOut: [{ host: 'w2', reason: 'not reached over SSH' }] });
    expect(countChanges(plan)).toBe(0);
    expect(plan.problems.map((p) => p.host)).toEqual(['w2']);
    // Without it, the same facts read as a host that left: its node removed and a join (what must not happen).
    expect(kinds(planSwarm(input).phases.flatMap((p) => p.actions))).toContain('join:w2');
  });

  it('a locked manager (captured: autolock, its machine restarted) is reported and left alone', () => {
    const { facts, hosts, prefix } = captured('manager-locked', 3, 1);
    const locked = facts.filter((f) => f.state === 'locked').map((f) => f.host);
    expect(locked).toHaveLength(1);
    expect(locked[0]).toMatch(new RegExp(`^${prefix}-manager-`));
    const plan = planSwarm({ hosts, managers: 3, facts, knownClusterId: clusterOf(facts) });
    expect(plan.problems).toEqual([{ host: locked[0], message: expect.stringContaining('swarmup unlock') }]);
    expect(plan.phases.flatMap((p) => p.actions)).toEqual([]);
  });

  it('one manager: a single init, no joins, no token rotation', () => {
    const plan = planSwarm({ hosts: hosts.slice(0, 1), managers: 1, facts: [fresh('m1')] });
    expect(plan.phases.map((p) => kinds(p.actions))).toEqual([['init:m1']]);
  });

  it("a swarm swarmup did not make (no cluster recorded, the user's own hosts) is refused without adopt, exit 2", () => {
    const input: PlanInput = { hosts, managers: 3, facts: converged() };
    expect(() => planSwarmOf(input)).toThrow(AdoptionRequired);
    expect(() => planSwarmOf(input)).toThrow(/m1, m2, m3 already manage swarm C1 \(5 nodes\).*--adopt/);
    expect(planSwarmOf({ ...input, adopt: true }).adopted).toHaveLength(5);
    expect(planSwarmOf({ ...input, knownClusterId: 'C1' }).adopted).toBeUndefined();
    expect(planSwarmOf({ ...input, ownMachines: true }).adopted).toBeUndefined();
  });
});
