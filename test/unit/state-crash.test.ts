import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempHome } from '../support/cli.ts';

/**
 * A write cut off in the middle (here by the file-size limit, as a full disk or a crash would) leaves the state
 * every later command reads as it was: the new state goes to a temporary file renamed over it, never into it.
 */
describe('state written whole or not at all', () => {
  it('a write cut off midway leaves the previous state readable', async () => {
    const home = tempHome();
    const store = resolve(import.meta.dirname, '../../src/state/store.ts');
    const writer = `
      const { StateStore } = await import(${JSON.stringify(store)});
      const s = new StateStore('cut');
      s.write({ name: 'cut', provider: 'docker', managers: 3 });
      const nodeIds = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => ['node-' + i, 'x'.repeat(25)]));
      s.write({ name: 'cut', provider: 'docker', managers: 5, nodeIds });
    `;
    // 64 blocks of 512 bytes: the first record fits, the second (~200 KB) is cut off while it is written.
    const r = await execa(
      'bash',
      ['-c', 'ulimit -f 64; exec node --import tsx --input-type=module -e "$0"', writer],
      { env: { SWARMUP_HOME: home }, reject: false },
    );
    expect(r.exitCode).not.toBe(0); // the second write did fail
    const state = JSON.parse(readFileSync(join(home, 'cut', 'state.json'), 'utf8')) as { managers: number };
    expect(state.managers).toBe(3);
  });
});
