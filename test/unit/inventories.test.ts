import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/config/cluster.ts';
import { loadConfigFile } from '../../src/config/load.ts';

/** The example inventories in the repository stay valid as the schema changes. */
describe('example inventories', () => {
  const dir = resolve(import.meta.dirname, '../../inventories');
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is valid', (file) => {
    const path = join(dir, file);
    const spec = resolveCluster(loadConfigFile(path), {}, path);
    expect([1, 3, 5, 7]).toContain(spec.managers);
  });
});
