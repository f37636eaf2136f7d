import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeAction } from '../../src/swarm/actions.ts';
import { planCluster, type ClusterFacts } from '../../src/cluster/plan.ts';
import type { MachineListing } from '../../src/providers/provider.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { parseInfo, parseNodes, type HostFacts } from '../../src/swarm/facts.ts';
import { QuorumLostError } from '../../src/swarm/plan.ts';

/**
 * The planner over states captured from real engines (test/fixtures/engines, made by
 * test/support/capture-engine-fixtures.ts on Docker 20.10): each fixture holds what every node container that still
 * existed answered to GET /info and GET /nodes in that state.
 */
interface Fixture {
  hosts: Array<{ host: string; info: unknown; nodes: unknown[] | null; nodesError: string | null }>;
}

function load(state: string): { prefix: string; facts: HostFacts[]; nodes: ReturnType<typeof parseNodes> } {
  const path = resolve(import.meta.dirname, `../fixtures/engines/${state}.json`);
  const f = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const facts = f.hosts.map((h) => {
    const facts = parseInfo(h.host, '', h.info);
    if (facts.isManager) {
      if (h.nodes) facts.nodes = parseNodes(h.nodes);
      else facts.nodesError = h.nodesError ?? 'no answer';
    }
    return facts;
  });
  const prefix = f.hosts[0]!.host.replace(/-(manager|worker)-\d+$/, '');
  const nodes = facts.find((x) => x.nodes)?.nodes ?? [];
  return { prefix, facts, nodes };
}

/** The plan `up` makes for a docker-provider cluster of these counts, given the machines that still exist. */
function plan(state: string, managers: number, workers: number, opts: { recorded?: boolean } = {}) {
  const { prefix, facts, nodes } = load(state);
  const listing: MachineListing[] = facts.map((f) => ({
    name: f.host,
    role: /-manager-/.test(f.host) ? 'manager' : 'worker',
    state: 'running',
  }));
  // The state of the run that made the cluster records each machine's NodeID (by hostname, as it joined).
  const recordedNodeIds = Object.fromEntries(nodes.map((n) => [n.hostname, n.id]));
  const input: ClusterFacts = {
    hosts: wantedNodes(prefix, managers, workers),
    createsMachines: true,
    listing,
    facts,
    engines: [],
    managers,
    ...(facts.find((f) => f.clusterId) ? { knownClusterId: facts.find((f) => f.clusterId)!.clusterId! } : {}),
    ...(opts.recorded === false ? {} : { recordedNodeIds }),
  };
  return { prefix, nodes, result: () => planCluster(input) };
}

const lines = (p: ReturnType<typeof planCluster>) =>
  p.phases.flatMap((ph) =>
    ph.actions.map((a) => `${a.kind} ${'host' in a ? a.host : 'hostname' in a ? a.hostname : ''}`.trim()),
  );

describe('planner over captured engine states', () => {
  it('converged 3+2: nothing to do', () => {
    const p = plan('converged', 3, 2).result();
    expect(p.phases).toEqual([]);
    expect(p.swarm.entry).toBe('fx-converged-manager-1');
  });

  it('a manager whose machine is gone (Down, unreachable): recreated, its old node demoted and removed, then joined', () => {
    const { result, nodes } = plan('manager-gone', 3, 2);
    const p = result();
    const m2 = 'fx-manager-gone-manager-2';
    expect(lines(p)).toEqual([`create-machine ${m2}`, `remove-node ${m2}`, `join ${m2}`, 'rotate-tokens']);
    const removal = p.phases.flatMap((x) => x.actions).find((a) => a.kind === 'remove-node')!;
    expect(removal).toMatchObject({ nodeId: nodes.find((n) => n.hostname === m2)!.id, demoteFirst: true });
  });

  it('a worker that left: its Down node removed by the recorded NodeID, then joined again', () => {
    const p = plan('worker-left', 3, 2).result();
    expect(lines(p)).toEqual([
      'remove-node fx-worker-left-worker-1',
      'join fx-worker-left-worker-1',
      'rotate-tokens',
    ]);
  });

  it('a worker that left, with no NodeIDs recorded (older state): matched as a Down node of its hostname', () => {
    const p = plan('worker-left', 3, 2, { recorded: false }).result();
    expect(lines(p)).toContain('remove-node fx-worker-left-worker-1');
  });

  it('a join still pending in the background: the host leaves, its old Down node goes, and it joins again', () => {
    const p = plan('pending-join', 3, 3).result();
    expect(lines(p)).toEqual([
      'leave fx-pending-worker-3',
      'remove-node fx-pending-worker-3',
      'join fx-pending-worker-3',
      'rotate-tokens',
    ]);
  });

  for (const state of ['quorum-lost-early', 'quorum-lost-early-leader', 'quorum-lost-settled']) {
    it(`lost quorum (${state}): refused before any change, naming swarmup recover`, () => {
      const { result } = plan(state, 3, 1);
      expect(result).toThrow(QuorumLostError);
      expect(result).toThrow(/lost quorum.*swarmup recover --yes/s);
    });
  }

  it('the worker alone (every manager gone) is not taken for a fresh cluster: refused as well', () => {
    const { facts, prefix } = load('quorum-lost-settled');
    const workerOnly = facts.filter((f) => !f.isManager);
    const input: ClusterFacts = {
      hosts: wantedNodes(prefix, 3, 1),
      createsMachines: true,
      listing: workerOnly.map((f) => ({ name: f.host, role: 'worker', state: 'running' })),
      facts: workerOnly,
      engines: [],
      managers: 3,
    };
    expect(() => planCluster(input)).toThrow(QuorumLostError);
  });

  for (const state of ['recovered', 'recovered-settled']) {
    it(`after a forced new cluster (${state}): dead managers removed without demotion, machines recreated, joined one at a time`, () => {
      const p = plan(state, 3, 1).result();
      const actions = p.phases.flatMap((x) => x.actions);
      expect(lines(p)).toEqual([
        'create-machine fx-quorum-manager-1',
        'create-machine fx-quorum-manager-2',
        'remove-node fx-quorum-manager-1',
        'remove-node fx-quorum-manager-2',
        'join fx-quorum-manager-1',
        'join fx-quorum-manager-2',
        'rotate-tokens',
      ]);
      for (const a of actions.filter((x) => x.kind === 'remove-node'))
        expect(a, describeAction(a)).toMatchObject({ demoteFirst: false });
      expect(p.swarm.entry).toBe('fx-quorum-manager-3');
    });
  }

  it('scale 3+2 -> 3+1 on the converged state: the last worker drained, left, removed, its machine destroyed', () => {
    const p = plan('converged', 3, 1).result();
    expect(lines(p)).toEqual([
      'drain fx-converged-worker-2',
      'leave fx-converged-worker-2',
      'remove-node fx-converged-worker-2',
      'remove-machine fx-converged-worker-2',
    ]);
  });

  it('scale 3+2 -> 1+2 on the converged state: managers 3 then 2 go, each drained and demoted before it leaves, then their machines', () => {
    const p = plan('converged', 1, 2).result();
    expect(lines(p)).toEqual([
      ...['manager-3', 'manager-2'].flatMap((m) => [
        `drain fx-converged-${m}`,
        `demote fx-converged-${m}`,
        `leave fx-converged-${m}`,
        `remove-node fx-converged-${m}`,
      ]),
      'remove-machine fx-converged-manager-3',
      'remove-machine fx-converged-manager-2',
    ]);
    expect(p.phases.map((x) => [x.title, x.mode])).toEqual([
      ['take nodes out one at a time', 'serial'],
      ['remove their machines', 'parallel'],
    ]);
  });
});
