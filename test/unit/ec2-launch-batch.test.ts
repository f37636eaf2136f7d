import { describe, expect, it } from 'vitest';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { adopt, batchToken, launchBatches, nameLaunched } from '../../src/providers/ec2/launch-batch.ts';

const zones = ['eu-west-1c', 'eu-west-1a', 'eu-west-1b'];

describe('EC2 launches in batches (pure)', () => {
  it('3+997 nodes: one launch per zone and role (6, not 1000), every node once, managers 1-1-1, workers 333-332-332', () => {
    const wanted = wantedNodes('big', 3, 997);
    const batches = launchBatches(wanted, wanted, zones);
    expect(batches.map((b) => [b.role, b.zone, b.nodes.length])).toEqual([
      ['manager', 'eu-west-1a', 1],
      ['manager', 'eu-west-1b', 1],
      ['manager', 'eu-west-1c', 1],
      ['worker', 'eu-west-1a', 333],
      ['worker', 'eu-west-1b', 332],
      ['worker', 'eu-west-1c', 332],
    ]);
    const names = batches.flatMap((b) => b.nodes.map((n) => n.name));
    expect(names.sort()).toEqual(wanted.map((n) => n.name).sort());
    expect(batches.every((b) => b.nodes.every((n) => n.role === b.role))).toBe(true);
  });

  it('a replacement alone is launched in the zone of its slot', () => {
    const wanted = wantedNodes('lab', 3, 3);
    const w2 = wanted.find((n) => n.name === 'lab-worker-2')!;
    expect(launchBatches([w2], wanted, zones)).toEqual([{ zone: 'eu-west-1b', role: 'worker', nodes: [w2] }]);
  });

  it("a batch's token: the same for the same nodes and lives (any order), another for any other set, life or zone attempt; at most 64 characters", () => {
    const t = batchToken(['a#0', 'b#0'], 0);
    expect(t).toBe(batchToken(['b#0', 'a#0'], 0));
    expect(t).not.toBe(batchToken(['a#0'], 0));
    expect(t).not.toBe(batchToken(['a#0', 'b#1'], 0));
    expect(batchToken(['a#0', 'b#0'], 1)).toBe(`${t}-z1`);
    expect(batchToken(['a#0', 'b#0'], 1).length).toBeLessThanOrEqual(64);
    expect(t).toMatch(/^swarmup-[0-9a-f]{40}$/);
  });

  it('unnamed instances (a run stopped between launch and naming) are adopted by role, own zone first; the rest launch', () => {
    const n = (name: string, role: 'manager' | 'worker', zone: string) => ({ name, role, zone });
    const { adopted, left } = adopt(
      [
        { id: 'i-1', role: 'worker', zone: 'a' },
        { id: 'i-2', role: 'worker', zone: 'b' },
        { id: 'i-3', role: 'manager', zone: 'c' },
      ],
      [n('w1', 'worker', 'b'), n('w2', 'worker', 'c'), n('w3', 'worker', 'a'), n('m1', 'manager', 'a')],
    );
    expect(adopted.map((a) => [a.node.name, a.id])).toEqual([
      ['w1', 'i-2'],
      ['w3', 'i-1'],
      ['m1', 'i-3'],
    ]);
    expect(left.map((x) => x.name)).toEqual(['w2']);
    // A worker never takes a manager's instance (its role tag says manager), nor the other way round.
    expect(adopt([{ id: 'i-9', role: 'manager', zone: 'a' }], [n('w1', 'worker', 'a')]).left).toHaveLength(1);
  });

  it('launched instances are named in launch order; fewer launched than asked leaves the last nodes for the next zone', () => {
    expect(
      nameLaunched(
        [
          { id: 'i-b', index: 1 },
          { id: 'i-a', index: 0 },
        ],
        ['w1', 'w2', 'w3'],
      ),
    ).toEqual({
      named: [
        { node: 'w1', id: 'i-a' },
        { node: 'w2', id: 'i-b' },
      ],
      left: ['w3'],
    });
  });
});
