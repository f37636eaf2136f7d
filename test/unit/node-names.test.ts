import { describe, expect, it } from 'vitest';
import { byRoleThenNumber, wantedNodes } from '../../src/providers/node-names.ts';

describe('created machine names', () => {
  it('managers then workers, numbered from 1', () => {
    expect(wantedNodes('lab', 3, 1).map((n) => n.name)).toEqual([
      'lab-manager-1',
      'lab-manager-2',
      'lab-manager-3',
      'lab-worker-1',
    ]);
  });

  it('sorted managers first, by number (10 after 2)', () => {
    const shuffled = [...wantedNodes('lab', 3, 12)].reverse();
    expect(shuffled.sort(byRoleThenNumber).map((n) => n.name)).toEqual(
      wantedNodes('lab', 3, 12).map((n) => n.name),
    );
  });
});
