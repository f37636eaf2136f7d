import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slotsNotRunning, slotsOn } from '../../src/swarm/task-moves.ts';

/** Task lists captured from a real swarm (test/fixtures/tasks/node.json says how) around one worker's drain. */
const load = (name: string): unknown[] =>
  JSON.parse(
    readFileSync(resolve(import.meta.dirname, `../fixtures/tasks/${name}.json`), 'utf8'),
  ) as unknown[];
const { node } = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/tasks/node.json'), 'utf8'),
) as { node: string };

describe("a drained node's replicated tasks, running elsewhere", () => {
  it('reads the slots the node ran before its drain', () => {
    const slots = slotsOn(load('before'), node);
    expect(slots).toHaveLength(1);
    expect(slots[0]!.slot).toBe(3);
    // After the drain it runs none (its task is to shut down).
    expect(slotsOn(load('settled'), node)).toEqual([]);
  });

  it('1 s after the drain the slot is not running elsewhere yet (its new task is "ready"): not done', () => {
    const moved = slotsOn(load('before'), node);
    const left = slotsNotRunning(moved, load('just-drained'), node);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/slot 3 \(ready\)/);
  });

  it('once the replacement runs on another node: done', () => {
    const moved = slotsOn(load('before'), node);
    expect(slotsNotRunning(moved, load('settled'), node)).toEqual([]);
  });
});
