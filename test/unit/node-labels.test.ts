import { describe, expect, it } from 'vitest';
import type { ClusterNode, HostFacts } from '../../src/swarm/facts.ts';
import { planSwarm, countChanges } from '../../src/swarm/plan.ts';
import { labelChange, recordAfter, wantedLabels } from '../../src/swarm/plan-labels.ts';
import { describeAction } from '../../src/swarm/actions.ts';
import { parseConfig, parseInput } from '../../src/config/load.ts';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { inputError } from '../support/input-error.ts';
import { renderNodeTable } from '../../src/swarm/verify.ts';

// The pure part of node labels as configuration: which labels a node gets, what up changes, what is recorded.

describe('labelChange', () => {
  it('adds a missing label and changes one with another value', () => {
    expect(labelChange({ zone: 'a', disk: 'ssd' }, { zone: 'b' }, {})).toEqual({
      set: { zone: 'a', disk: 'ssd' },
      remove: [],
    });
  });

  it('nothing when the node has the declared labels already', () => {
    expect(labelChange({ zone: 'a' }, { zone: 'a', other: 'x' }, { zone: 'a' })).toEqual({
      set: {},
      remove: [],
    });
  });

  it('removes a label swarmup set and the config no longer declares', () => {
    expect(labelChange({}, { zone: 'a', disk: 'ssd' }, { zone: 'a', disk: 'ssd' })).toEqual({
      set: {},
      remove: ['disk', 'zone'],
    });
  });

  it('never removes a label set by someone else (not recorded)', () => {
    expect(labelChange({}, { zone: 'a', byhand: 'yes' }, {})).toEqual({ set: {}, remove: [] });
  });

  it('leaves a recorded label someone changed since (theirs now), and one already gone', () => {
    expect(labelChange({}, { zone: 'b' }, { zone: 'a', gone: 'x' })).toEqual({ set: {}, remove: [] });
  });

  it('the record after an action: less what was removed, plus what was set', () => {
    expect(recordAfter({ zone: 'a', disk: 'ssd' }, { set: { rack: '3' }, remove: ['disk'] })).toEqual({
      zone: 'a',
      rack: '3',
    });
  });
});

describe('wantedLabels', () => {
  it('per role, with a host label winning over the role one', () => {
    const w = {
      managers: { tier: 'control' },
      workers: { tier: 'app', zone: 'a' },
      hosts: { w2: { zone: 'b' } },
    };
    expect(wantedLabels('m1', 'manager', w)).toEqual({ tier: 'control' });
    expect(wantedLabels('w1', 'worker', w)).toEqual({ tier: 'app', zone: 'a' });
    expect(wantedLabels('w2', 'worker', w)).toEqual({ tier: 'app', zone: 'b' });
    expect(wantedLabels('w3', 'worker', undefined)).toEqual({});
  });
});

const names = ['m1', 'w1', 'w2'];
const hosts = names.map((name) => ({ name, role: name.startsWith('m') ? 'manager' : 'worker' }) as const);

function fresh(host: string): HostFacts {
  return {
    host,
    advertiseAddress: '',
    hostname: host,
    engineVersion: '20.10.24',
    state: 'inactive',
    nodeId: '',
    isManager: false,
  };
}

/** A converged 1+2 swarm "C1" whose nodes carry these labels. */
function converged(labels: Record<string, Record<string, string>>): HostFacts[] {
  const nodes: ClusterNode[] = names.map((n) => ({
    id: `id-${n}`,
    hostname: n,
    role: n.startsWith('m') ? 'manager' : 'worker',
    state: 'ready',
    availability: 'active',
    leader: n === 'm1',
    reachability: n.startsWith('m') ? 'reachable' : null,
    addr: '',
    engineVersion: '20.10.24',
    labels: labels[n] ?? {},
  }));
  return names.map((n) => ({
    ...fresh(n),
    state: 'active' as const,
    nodeId: `id-${n}`,
    ...(n === 'm1' ? { clusterId: 'C1', isManager: true, nodes } : {}),
  }));
}

describe('planSwarm with node labels', () => {
  const labels = { workers: { zone: 'a' }, hosts: { m1: { tier: 'control' }, w2: { zone: 'b' } } };

  it('a fresh swarm: the first manager gets its labels with init, each worker joins with its own', () => {
    const plan = planSwarm({ hosts, managers: 1, facts: names.map(fresh), labels });
    const actions = plan.phases.flatMap((p) => p.actions);
    expect(actions.filter((a) => a.kind !== 'rotate-tokens')).toEqual([
      { kind: 'init', host: 'm1', labels: { tier: 'control' } },
      { kind: 'join', host: 'w1', role: 'worker', labels: { zone: 'a' } },
      { kind: 'join', host: 'w2', role: 'worker', labels: { zone: 'b' } },
    ]);
    expect(describeAction(actions[1]!)).toBe('w1: join as worker, drained until its labels zone=a are set');
  });

  it('no labels declared: joins as before (not drained)', () => {
    const plan = planSwarm({ hosts, managers: 1, facts: names.map(fresh) });
    expect(plan.phases.flatMap((p) => p.actions).find((a) => a.kind === 'join')).toEqual({
      kind: 'join',
      host: 'w1',
      role: 'worker',
    });
  });

  it('members: declared labels set, recorded ones no longer declared removed, hand-set ones kept', () => {
    const facts = converged({ m1: { tier: 'control' }, w1: { zone: 'a', old: 'x', byhand: 'y' }, w2: {} });
    const plan = planSwarm({
      hosts,
      managers: 1,
      facts,
      knownClusterId: 'C1',
      labels,
      recordedLabels: { w1: { zone: 'a', old: 'x' } },
    });
    expect(plan.phases.map((p) => p.title)).toEqual(['set node labels']);
    expect(plan.phases[0]!.actions).toEqual([
      { kind: 'label', host: 'w1', nodeId: 'id-w1', set: {}, remove: ['old'] },
      { kind: 'label', host: 'w2', nodeId: 'id-w2', set: { zone: 'b' }, remove: [] },
    ]);
    expect(plan.phases[0]!.actions.map(describeAction)).toEqual([
      'w1: labels: remove old',
      'w2: labels: set zone=b',
    ]);
  });

  it('labels as declared: no change (a no-change up stays one)', () => {
    const facts = converged({ m1: { tier: 'control' }, w1: { zone: 'a', byhand: 'y' }, w2: { zone: 'b' } });
    const plan = planSwarm({
      hosts,
      managers: 1,
      facts,
      knownClusterId: 'C1',
      labels,
      recordedLabels: { w1: { zone: 'a' } },
    });
    expect(countChanges(plan)).toBe(0);
  });
});

describe('labels in the config', () => {
  const file = [
    'name: lab',
    'provider: ssh',
    'labels:',
    '  workers: { zone: a, rack: 3 }',
    'hosts:',
    '  - { name: n0, address: 10.0.0.1, role: manager }',
    '  - { name: n1, address: 10.0.0.2, labels: { zone: b, ssd: true } }',
    '',
  ].join('\n');

  it('per role and per host, values read as the strings Docker keeps', () => {
    const spec = resolveCluster(parseConfig(file, 'lab.yaml'), {}, 'lab.yaml');
    expect(spec.labels).toEqual({ workers: { zone: 'a', rack: '3' } });
    expect(spec.hosts[1]!.labels).toEqual({ zone: 'b', ssd: 'true' });
    expect(spec.hosts[0]!.labels).toBeUndefined();
  });

  it('a key Docker refuses names the file, the line and the field', () => {
    const bad = file.replace('{ zone: b, ssd: true }', '{ "my zone": b }');
    expect(inputError(() => parseConfig(bad, 'lab.yaml'))).toMatch(
      /^lab\.yaml:7: hosts\[1\]\.labels\.my zone: a label key: not empty, no whitespace/,
    );
    expect(inputError(() => parseConfig(file.replace('workers: {', 'worker: {'), 'lab.yaml'))).toMatch(
      /^lab\.yaml:4: labels\.worker: /,
    );
    expect(inputError(() => parseConfig(file.replace('rack: 3', 'rack: [1]'), 'lab.yaml'))).toMatch(
      /^lab\.yaml:4: labels\.workers\.rack: /,
    );
  });

  it('an Ansible inventory: host var swarmup_labels="k=v,k=v", a bad one named by its line', () => {
    const ini =
      '[managers]\nn0 ansible_host=10.0.0.1\n[workers]\nn1 ansible_host=10.0.0.2 swarmup_labels="zone=a,ssd=yes"\n';
    expect(parseInput(ini, 'hosts.ini').config.hosts![1]!.labels).toEqual({ zone: 'a', ssd: 'yes' });
    const bad = ini.replace('zone=a', '=a');
    expect(inputError(() => parseInput(bad, 'hosts.ini'))).toMatch(
      /hosts\.ini:4: swarmup_labels: "=a": a label key/,
    );
  });
});

describe('status --labels', () => {
  it('a LABELS column, sorted pairs, "-" for a node without labels; none without the flag', () => {
    const row = (name: string, labels: Record<string, string>) => ({
      name,
      role: 'worker' as const,
      state: 'ready',
      availability: 'active',
      leader: false,
      reachability: null,
      engineVersion: '20.10.24',
      labels,
    });
    const rows = [row('w1', { zone: 'a', disk: 'ssd' }), row('w2', {})];
    const table = renderNodeTable(rows, { labels: true }).split('\n');
    expect(table[0]).toMatch(/ENGINE VERSION\s+LABELS$/);
    expect(table[1]).toMatch(/20\.10\.24\s+disk=ssd,zone=a$/);
    expect(table[2]).toMatch(/20\.10\.24\s+-$/);
    expect(renderNodeTable(rows)).not.toMatch(/LABELS|zone/);
  });
});

describe('a node joined drained and never activated (a run stopped between the two)', () => {
  const labels = { workers: { zone: 'a' } };
  const drained = (facts: HostFacts[]) =>
    facts.map((f) =>
      f.nodes
        ? { ...f, nodes: f.nodes.map((n) => (n.id === 'id-w1' ? { ...n, availability: 'drain' } : n)) }
        : f,
    );

  it('is made active by the next up, with its labels, when swarmup recorded joining it drained', () => {
    const facts = drained(converged({ w1: {}, w2: { zone: 'a' } }));
    const plan = planSwarm({
      hosts,
      managers: 1,
      facts,
      knownClusterId: 'C1',
      labels,
      joinedDrained: ['w1'],
    });
    expect(plan.phases.flatMap((p) => p.actions)).toEqual([
      { kind: 'label', host: 'w1', nodeId: 'id-w1', set: { zone: 'a' }, remove: [], activate: true },
    ]);
  });

  it('a node drained by someone else stays drained', () => {
    const facts = drained(converged({ w1: { zone: 'a' }, w2: { zone: 'a' } }));
    const plan = planSwarm({ hosts, managers: 1, facts, knownClusterId: 'C1', labels });
    expect(countChanges(plan)).toBe(0);
  });
});
