import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drainRequest } from '../../src/cli/drain-flags.ts';
import { InputError } from '../../src/errors.ts';
import { describeProgress, drainProgress, type SwarmTaskJson } from '../../src/swarm/drain-wait.ts';
import {
  constraintsOf,
  drainPlacementCheck,
  nodeVerdict,
  serviceName,
  type SwarmNodeJson,
  type SwarmServiceJson,
} from '../../src/swarm/placement.ts';

/**
 * Drain's pure parts over what a real Docker 20.10 swarm answered (test/fixtures/engines/drain-placement.json, made
 * by test/support/capture-engine-fixtures.ts): a 1+2 cluster running services of every placement kind, read before
 * fx-drain-worker-1 was drained, right after (tasks moving) and once the scheduler had settled.
 */
interface Snapshot {
  nodes: SwarmNodeJson[];
  services: SwarmServiceJson[];
  tasks: SwarmTaskJson[];
}
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/engines/drain-placement.json'), 'utf8'),
) as { drained: { host: string; nodeId: string }; before: Snapshot; moving: Snapshot; after: Snapshot };
const { before, moving, after } = fixture;
const idOf = (s: Snapshot, host: string) => s.nodes.find((n) => n.Description?.Hostname === host)!.ID;
const w1 = fixture.drained.nodeId;
const w2 = idOf(before, 'fx-drain-worker-2');
const m1 = idOf(before, 'fx-drain-manager-1');
const service = (s: Snapshot, name: string) => s.services.find((x) => serviceName(x) === name)!;
const without = (s: Snapshot, ...names: string[]): Snapshot => ({
  ...s,
  services: s.services.filter((x) => !names.includes(serviceName(x))),
});

describe('placement constraints, as the scheduler reads them', () => {
  const verdicts = (name: string) =>
    Object.fromEntries(
      before.nodes.map((n) => [
        n.Description!.Hostname!.replace('fx-drain-', ''),
        nodeVerdict(constraintsOf(service(before, name)), n),
      ]),
    );

  it('node.role, node.hostname, node.labels (with spaces, and !=) and engine.labels, == and !=', () => {
    expect(verdicts('web')).toEqual({ 'manager-1': 'no-match', 'worker-1': 'match', 'worker-2': 'match' });
    expect(verdicts('pinned')).toEqual({
      'manager-1': 'no-match',
      'worker-1': 'match',
      'worker-2': 'no-match',
    });
    expect(verdicts('zone-a')).toEqual({
      'manager-1': 'no-match',
      'worker-1': 'no-match',
      'worker-2': 'match',
    });
    expect(verdicts('nowhere')).toEqual({
      'manager-1': 'no-match',
      'worker-1': 'no-match',
      'worker-2': 'no-match',
    });
    // A label the engine does not have reads as "": != holds everywhere.
    expect(verdicts('no-engine-label')).toEqual({
      'manager-1': 'match',
      'worker-1': 'match',
      'worker-2': 'match',
    });
    // node.platform.* is not evaluated here: may match.
    expect(verdicts('on-linux')).toEqual({
      'manager-1': 'unknown',
      'worker-1': 'unknown',
      'worker-2': 'unknown',
    });
  });

  it('node.id, compared without case as the scheduler does', () => {
    const n = before.nodes.find((x) => x.ID === w2)!;
    expect(nodeVerdict([`node.id==${w2}`], n)).toBe('match');
    expect(nodeVerdict([`node.id!=${w2}`], n)).toBe('no-match');
    expect(nodeVerdict(['node.role==WORKER'], n)).toBe('match');
    expect(nodeVerdict(['node.role==WORKER', 'node.platform.arch==x86_64'], n)).toBe('unknown');
    expect(nodeVerdict(['not a constraint'], n)).toBe('unknown');
  });

  it('agrees with the real scheduler: every running task is on a node its constraints allow', () => {
    const running = before.tasks.filter((t) => t.Status?.State === 'running');
    expect(running.length).toBeGreaterThan(8);
    for (const t of running) {
      const s = before.services.find((x) => x.ID === t.ServiceID)!;
      const n = before.nodes.find((x) => x.ID === t.NodeID)!;
      expect(nodeVerdict(constraintsOf(s), n), `${serviceName(s)} on ${n.Description?.Hostname}`).not.toBe(
        'no-match',
      );
    }
    // And the service the scheduler could place nowhere is no-match everywhere.
    expect(before.tasks.find((t) => t.ServiceID === service(before, 'nowhere').ID)?.Status?.Err).toMatch(
      /no suitable node/,
    );
  });
});

describe('drain refuses to leave a service no node', () => {
  it('draining worker-1 would leave pinned nowhere: refused, web (worker-2 left) and the rest are not', () => {
    const c = drainPlacementCheck(w1, before.nodes, before.services);
    expect(c.refusals).toEqual([{ service: 'pinned', constraints: ['node.hostname==fx-drain-worker-1'] }]);
    expect(c.notes).toEqual([
      'service on-linux: swarmup cannot evaluate "node.platform.os==linux"; counted as may match on ' +
        'fx-drain-worker-2, fx-drain-manager-1',
    ]);
  });

  it('with worker-1 drained, draining worker-2 leaves web and zone-a no node: both refused', () => {
    const c = drainPlacementCheck(w2, after.nodes, after.services);
    expect(c.refusals.map((r) => r.service).sort()).toEqual(['web', 'zone-a']);
  });

  it('a drained node drained again, and the manager: nothing refused (a service no node takes is not named)', () => {
    expect(drainPlacementCheck(w1, after.nodes, after.services).refusals).toEqual([]);
    expect(drainPlacementCheck(m1, before.nodes, before.services).refusals).toEqual([]);
  });
});

describe('drain progress: tasks left on the node, replicas not yet elsewhere', () => {
  it('before the drain: web.1, web.3 and pinned.1 run on worker-1 (the global service is not waited for)', () => {
    const p = drainProgress(w1, before.services, before.tasks);
    expect(p.onNode.map((t) => t.task.replace(/ \(.*/, '')).sort()).toEqual(['pinned.1', 'web.1', 'web.3']);
    expect(p.done).toBe(false);
  });

  it('moving: the old tasks shut down, web runs 2 of 4 elsewhere, pinned none (no suitable node)', () => {
    const p = drainProgress(w1, moving.services, moving.tasks);
    expect(p.onNode.map((t) => t.state)).toEqual([
      'running, shutting down',
      'running, shutting down',
      'running, shutting down',
    ]);
    expect(p.short.map((s) => [s.service, s.running, s.wanted])).toEqual(
      expect.arrayContaining([
        ['web', 2, 4],
        ['pinned', 0, 1],
      ]),
    );
    expect(p.short.find((s) => s.service === 'pinned')?.why).toMatch(
      /^no suitable node \(scheduling constraints/,
    );
    const lines = describeProgress(p);
    expect(lines).toContain(`still on the node: ${p.onNode[0]!.task}, running, shutting down`);
    expect(lines.find((l) => l.startsWith('pinned:'))).toMatch(
      /^pinned: 0 of 1 replicas run elsewhere \(no suitable node .*\) \[constraints: node.hostname==fx-drain-worker-1\]$/,
    );
  });

  it('settled: nothing on the node; web runs 4 elsewhere; pinned, watched since it was seen there, is still short', () => {
    const moved = drainProgress(w1, moving.services, moving.tasks);
    const p = drainProgress(w1, after.services, after.tasks, moved.watched);
    expect(p.onNode).toEqual([]);
    expect(p.short.map((s) => s.service)).toEqual(['pinned']);
    expect(p.done).toBe(false);
    const withoutPinned = without(after, 'pinned');
    expect(drainProgress(w1, withoutPinned.services, withoutPinned.tasks, moved.watched).done).toBe(true);
  });

  it('a node drained before (run again): done at once', () => {
    expect(drainProgress(w1, after.services, after.tasks).done).toBe(true);
  });
});

describe('drain flags', () => {
  it('the words after -- are the command, with --for only; deadlines in whole seconds', () => {
    expect(drainRequest(['sudo', 'apt-get', '-y', 'upgrade'], { for: true, commandTimeout: '600' })).toEqual({
      command: ['sudo', 'apt-get', '-y', 'upgrade'],
      commandTimeoutMs: 600_000,
    });
    expect(drainRequest([], { drainTimeout: '30' })).toEqual({ drainTimeoutMs: 30_000 });
    expect(() => drainRequest([], { for: true })).toThrow(InputError);
    expect(() => drainRequest(['reboot'], {})).toThrow(/given with --for -- CMD/);
    expect(() => drainRequest([], { commandTimeout: '5' })).toThrow(
      /--command-timeout is for the command of --for/,
    );
    expect(() => drainRequest([], { drainTimeout: '1.5' })).toThrow(
      /--drain-timeout: "1.5" is not a whole number/,
    );
  });
});
