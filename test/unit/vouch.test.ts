import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/swarm/facts.ts';
import { vouchedWorkers } from '../../src/swarm/vouch.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/**
 * Which workers a no-change run may take from the managers' node list instead of connecting to them, judged over
 * node lists captured from real engines (test/fixtures/engines).
 */
function inputOf(state: string, over: { addresses?: Record<string, string> } = {}) {
  const { facts } = loadFixture(state);
  const managers = facts.filter((f) => /-manager-\d+$/.test(f.host));
  const workers = facts.filter((f) => /-worker-\d+$/.test(f.host));
  // What the state recorded: each host's NodeID as it last joined (the leader's list names them by hostname).
  const listed = facts.find((f) => f.nodes)?.nodes ?? [];
  const recordedNodeIds = Object.fromEntries(
    facts.map((f) => [f.host, f.nodeId || listed.find((n) => n.hostname === f.host)?.id || '']),
  );
  const addressOf = (w: HostFacts) =>
    over.addresses?.[w.host] ?? listed.find((n) => n.id === recordedNodeIds[w.host])?.addr ?? '';
  return {
    workers,
    input: {
      candidates: workers.map((w) => ({ name: w.host, advertiseAddress: addressOf(w) })),
      recordedNodeIds,
      knownClusterId: managers.find((m) => m.clusterId)?.clusterId ?? '',
      managerFacts: managers,
    },
  };
}

describe('workers vouched for by the node list (captured engines)', () => {
  it('converged: every worker, with the facts its own engine gave', () => {
    const { workers, input } = inputOf('converged');
    const vouched = vouchedWorkers(input);
    expect([...vouched.keys()].sort()).toEqual(workers.map((w) => w.host).sort());
    for (const w of workers) {
      const v = vouched.get(w.host)!;
      // The fields the plan reads of a worker are what the worker's own GET /info said.
      for (const k of [
        'host',
        'hostname',
        'engineVersion',
        'state',
        'nodeId',
        'clusterId',
        'isManager',
      ] as const)
        expect(v[k], `${w.host} ${k}`).toEqual(w[k]);
      expect(v.nodeAddr).toBe(w.nodeAddr);
    }
  });

  it('a worker that left and is listed down is read from its host; the other worker is vouched for', () => {
    const { input } = inputOf('worker-left');
    const vouched = vouchedWorkers(input);
    expect([...vouched.keys()]).toEqual([input.candidates[1]!.name]);
    expect(input.candidates[0]!.name).toMatch(/worker-1$/);
  });

  it('a worker whose address is not the one the swarm sees it at (moved) is read from its host', () => {
    const { input, workers } = inputOf('converged', {
      addresses: { [loadFixture('converged').prefix + '-worker-1']: '172.25.0.99' },
    });
    const vouched = vouchedWorkers(input);
    expect([...vouched.keys()]).toEqual(workers.map((w) => w.host).filter((h) => !h.endsWith('-worker-1')));
  });

  it('nothing is vouched for by a swarm of another ID, or for a worker with no recorded NodeID', () => {
    const { input } = inputOf('converged');
    expect(vouchedWorkers({ ...input, knownClusterId: 'another-swarm' }).size).toBe(0);
    const noRecord = { ...input.recordedNodeIds, [input.candidates[0]!.name]: '' };
    expect(vouchedWorkers({ ...input, recordedNodeIds: noRecord }).has(input.candidates[0]!.name)).toBe(
      false,
    );
  });

  it('no list a raft can answer for, nothing vouched: managers stopped, quorum lost, everything restarted and moved', () => {
    for (const state of ['engines-stopped', 'quorum-lost-settled', 'restarted-moved'])
      expect(vouchedWorkers(inputOf(state).input).size, state).toBe(0);
  });
});
