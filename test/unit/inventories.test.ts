import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { loadConfigFile } from '../../src/config/load.ts';

/** The example inventories in the repository stay valid as the schema changes. */
describe('example inventories', () => {
  const dir = resolve(import.meta.dirname, '../../inventories');
  it.each(readdirSync(dir).filter((f) => /\.(yaml|yml|ini)$/.test(f)))('%s is valid', (file) => {
    const path = join(dir, file);
    const spec = resolveCluster(loadConfigFile(path), {}, path);
    expect([1, 3, 5, 7]).toContain(spec.managers);
  });
});

describe('docs/config.md', () => {
  it('the config format example in the documentation is a valid config file', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseConfig } = await import('../../src/config/load.ts');
    const page = readFileSync(resolve(import.meta.dirname, '../../docs/config.md'), 'utf8');
    expect(page).toContain('\n## Config / inventory file\n');
    const section = page.slice(page.indexOf('## Config / inventory file'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const spec = resolveCluster(parseConfig(yaml, 'docs/config.md'), {}, 'docs/config.md');
    expect(spec.hosts).toHaveLength(5);
    expect(spec.hosts[0]!.jump).toBeUndefined();
  });
});

describe('docs/providers/ssh.md', () => {
  it('"Coming from Ansible" shows inventories/seeds-lab.ini as it is', async () => {
    const { readFileSync } = await import('node:fs');
    const page = readFileSync(resolve(import.meta.dirname, '../../docs/providers/ssh.md'), 'utf8');
    const section = page.slice(page.indexOf('## Coming from Ansible'));
    const ini = /```ini\n([\s\S]*?)```/.exec(section)![1]!;
    expect(ini).toBe(readFileSync(resolve(import.meta.dirname, '../../inventories/seeds-lab.ini'), 'utf8'));
  });
});
