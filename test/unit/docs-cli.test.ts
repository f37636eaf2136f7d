// docs/cli.md is generated from the commander program (scripts/docs-cli.ts): a change to a command, an option, a
// description or a default without `npm run docs` leaves it stale, and this test says so.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliDocPath, renderCliDoc } from '../../scripts/docs-cli.ts';

describe('docs/cli.md', () => {
  it('is what `npm run docs` generates from the command line program', async () => {
    const written = readFileSync(cliDocPath, 'utf8');
    const generated = await renderCliDoc();
    if (written !== generated) {
      expect.fail('docs/cli.md is stale: run npm run docs (it is generated from src/cli/program.ts)');
    }
  });

  it('lists every visible command with its options', async () => {
    const doc = await renderCliDoc();
    for (const heading of [
      '## swarmup up',
      '## swarmup engine install',
      '## swarmup backup',
      '## swarmup ssh',
    ]) {
      expect(doc).toContain(heading);
    }
    expect(doc).toContain('`--smoke-timeout <seconds>`');
    expect(doc).not.toContain('complete-nodes');
  });
});
