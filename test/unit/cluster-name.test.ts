import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { swarmup } from '../support/cli.ts';

describe('cluster names', () => {
  it('"owner" is refused with exit 2 before anything is made: its folder would be the state home\'s owner file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'swarmup-name-'));
    const r = await swarmup(['up', '--name', 'owner', '--yes'], { SWARMUP_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--name: "owner": .*not "owner"/);
    const cleanup = await swarmup(['cleanup', '--provider', 'docker', '--name', 'owner', '--dry-run'], {
      SWARMUP_HOME: home,
    });
    expect(cleanup.code).toBe(2);
    expect(readdirSync(home)).toEqual([]);
  });
});
