import { describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/swarm/facts.ts';
import {
  atVersion,
  guardManagerUpgrade,
  majorOf,
  nodeBack,
  planUpgrade,
  renderUpgradePlan,
  type UpgradeMember,
} from '../../src/swarm/upgrade-plan.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { swarmup, tempHome } from '../support/cli.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/** The members of a captured swarm (test/fixtures/engines): each host with its entry in the leader's node list. */
function members(state: string, edit: (n: ClusterNode) => ClusterNode = (n) => n): UpgradeMember[] {
  const { facts, nodes } = loadFixture(state);
  // Every node the leader lists (a manager whose host did not answer too), by its host's name.
  return nodes.map((n) => ({
    host: facts.find((f) => f.nodeId === n.id)?.host ?? n.hostname,
    node: edit(n),
  }));
}
const short = (h: string) => h.replace(/^fx-[a-z-]+?-(manager|worker)/, '$1');
const order = (p: ReturnType<typeof planUpgrade>) =>
  p.ok ? p.batches.map((b) => b.nodes.map((n) => short(n.host)).join('+')) : p.why;

describe('atVersion and majorOf', () => {
  it('a prefix matches at a version boundary only, epochs and Debian suffixes allowed', () => {
    expect(atVersion('26.1.5+dfsg1', '26.1')).toBe(true);
    expect(atVersion('26.1.5+dfsg1', '26.1.5')).toBe(true);
    expect(atVersion('26.10.0', '26.1')).toBe(false);
    expect(atVersion('5:27.3.1-1~debian.12~bookworm', '27.3')).toBe(true);
    expect(atVersion('20.10.24+dfsg1', '26.1')).toBe(false);
    expect(majorOf('28.5.2+dfsg4')).toBe(28);
    expect(majorOf('5:27.3.1-1')).toBe(27);
    expect(majorOf('')).toBeUndefined();
  });
});

describe('planUpgrade (a 3+2 swarm captured from real engines)', () => {
  it('orders workers in batches, then managers one at a time, the leader last', () => {
    const all = members('converged');
    expect(order(planUpgrade(all, { target: '26.1', batch: 1, force: false }))).toEqual([
      'worker-1',
      'worker-2',
      'manager-2',
      'manager-3',
      'manager-1',
    ]);
    const p = planUpgrade(all, { target: '26.1', batch: 2, force: false });
    expect(order(p)).toEqual(['worker-1+worker-2', 'manager-2', 'manager-3', 'manager-1']);
    if (!p.ok) return;
    expect(p.batches.at(-1)!.nodes[0]).toMatchObject({ leader: true, role: 'manager', restore: 'active' });
    expect(renderUpgradePlan(p, '26.1')[0]).toMatch(
      /^1\. workers .*worker-1 \(20\.10\.24\+dfsg1\).*-> 26\.1/,
    );
  });

  it('skips nodes at the version already: an interrupted upgrade is finished by running it again', () => {
    const done = new Set(['worker-1', 'worker-2', 'manager-2']);
    const all = members('converged', (n) =>
      done.has(short(n.hostname)) ? { ...n, engineVersion: '26.1.5+dfsg1' } : n,
    );
    const p = planUpgrade(all, { target: '26.1', batch: 1, force: false });
    expect(order(p)).toEqual(['manager-3', 'manager-1']);
    if (p.ok) expect(p.skipped.map((s) => short(s.host)).sort()).toEqual([...done].sort());
    const finished = members('converged', (n) => ({ ...n, engineVersion: '26.1.5+dfsg1' }));
    expect(order(planUpgrade(finished, { target: '26.1', batch: 1, force: false }))).toEqual([]);
  });

  it('a drained node is drained again and stays drained; a paused one comes back paused', () => {
    const all = members('converged', (n) =>
      short(n.hostname) === 'worker-1'
        ? { ...n, availability: 'drain' }
        : short(n.hostname) === 'worker-2'
          ? { ...n, availability: 'pause' }
          : n,
    );
    const p = planUpgrade(all, { target: '26.1', batch: 2, force: false });
    if (!p.ok) throw new Error(p.why);
    const [w1, w2] = p.batches[0]!.nodes;
    expect(w1!.restore).toBeUndefined();
    expect(w2!.restore).toBe('pause');
  });

  it('a node an earlier upgrade drained (and failed after) gets its availability back, upgraded or not', () => {
    const drained = members('converged', (n) =>
      ['worker-1', 'worker-2'].includes(short(n.hostname))
        ? {
            ...n,
            availability: 'drain',
            engineVersion: short(n.hostname) === 'worker-1' ? '28.5.2+dfsg4' : n.engineVersion,
          }
        : n,
    ).map((m) => (m.node.availability === 'drain' ? { ...m, drainedFrom: 'active' as const } : m));
    const p = planUpgrade(drained, { target: '28.5', batch: 1, force: false });
    if (!p.ok) throw new Error(p.why);
    expect(p.giveBack.map((g) => [short(g.host), g.availability])).toEqual([['worker-1', 'active']]);
    expect(p.batches[0]!.nodes[0]).toMatchObject({ restore: 'active' });
    expect(short(p.batches[0]!.nodes[0]!.host)).toBe('worker-2');
  });

  it('refuses a downgrade across a major version unless forced, saying why (raft and store formats)', () => {
    const all = members('converged', (n) => ({ ...n, engineVersion: '26.1.5+dfsg1' }));
    const p = planUpgrade(all, { target: '20.10', batch: 1, force: false });
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.why).toMatch(
        /runs engine 26\.1\.5\+dfsg1, and 20\.10 is an older major version: the raft log/,
      );
      expect(p.todo).toMatch(/--force/);
    }
    const forced = planUpgrade(all, { target: '20.10', batch: 1, force: true });
    expect(forced.ok && forced.warnings[0]).toMatch(/older major version/);
    // Within one major, older is allowed (a bad patch release rolled back).
    expect(planUpgrade(all, { target: '26.0', batch: 1, force: false }).ok).toBe(true);
  });

  it('refuses when a manager is unreachable (captured: a manager gone), before anything changes', () => {
    const p = planUpgrade(members('manager-gone'), {
      target: '26.1',
      batch: 1,
      force: true,
    });
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.why).toMatch(/manager-2 is (down|unreachable)/);
  });

  it('refuses a swarm of fewer than 3 managers unless forced: its control plane stops meanwhile', () => {
    const { facts, nodes } = loadFixture('engine-versions');
    const one = facts
      .filter((f) => f.host.startsWith('fx-v-bookworm'))
      .map((f) => ({ host: f.host, node: nodes.find((n) => n.id === f.nodeId) ?? f.nodes![0]! }));
    const p = planUpgrade(one, { target: '26.1', batch: 1, force: false });
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.why).toMatch(/1 manager: while it is stopped .* the raft has no quorum/);
    const forced = planUpgrade(one, { target: '26.1', batch: 1, force: true });
    expect(forced.ok && forced.warnings).toHaveLength(1);
  });
});

describe('guardManagerUpgrade (before each manager step, over the node list then)', () => {
  it('allows a manager when every other manager is reachable (captured 3+2)', () => {
    const { nodes } = loadFixture('converged');
    for (const m of nodes.filter((n) => n.role === 'manager'))
      expect(guardManagerUpgrade(nodes, m.id)).toEqual({ ok: true });
  });

  it('refuses every manager step while another manager is unreachable (captured: one manager gone)', () => {
    const { nodes } = loadFixture('manager-gone');
    const up = nodes.filter((n) => n.role === 'manager' && n.reachability === 'reachable');
    expect(up).toHaveLength(2);
    for (const m of up) {
      const v = guardManagerUpgrade(nodes, m.id, true);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.why).toMatch(/manager-2 \(unreachable, down\) is not reachable/);
    }
  });

  it('refuses the one manager of a swarm unless forced', () => {
    const { nodes } = loadFixture('engine-versions');
    const one = nodes.filter((n) => n.hostname.startsWith('fx-v-bookworm'));
    expect(guardManagerUpgrade(one, one[0]!.id).ok).toBe(false);
    expect(guardManagerUpgrade(one, one[0]!.id, true).ok).toBe(true);
  });

  it('nodeBack: ready at the version, reachable with a leader for a manager', () => {
    const { nodes } = loadFixture('converged');
    const m2 = nodes.find((n) => n.hostname.endsWith('manager-2'))!;
    expect(nodeBack(nodes, m2.id, '20.10')).toBe(true);
    expect(nodeBack(nodes, m2.id, '26.1')).toBe(false);
    const leaderless = nodes.map((n) => ({ ...n, leader: false }));
    expect(nodeBack(leaderless, m2.id, '20.10')).toBe(false);
    const gone = loadFixture('manager-gone').nodes;
    expect(nodeBack(gone, gone.find((n) => n.hostname.endsWith('manager-2'))!.id, '20.10')).toBe(false);
  });
});

describe('swarmup upgrade: bad input through the real binary (exit 2, nothing touched)', () => {
  const state = join(tempHome(), 'state');
  it.each([
    [['upgrade', '--batch', '0'], /--batch: "0" is not a whole number of at least 1/],
    [['upgrade', '--name', 'nope'], /upgrade to which version\? give --engine-version or engine\.version/],
    [['upgrade', '--name', 'nope', '--engine-version', '28.5'], /no cluster "nope" recorded/],
  ])('swarmup %j exits 2', async (args, message) => {
    const r = await swarmup(args as string[], { SWARMUP_HOME: state });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    // No cluster state is made (the state home itself may be: every command that opens a cluster makes it).
    expect(existsSync(join(state, 'nope'))).toBe(false);
  });
});
