import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { diagnoseArchive, safePart } from '../../src/diagnose/archive.ts';

/** The diagnose archive: one folder per node, and no join token or unlock key in any file, whatever was read. */
describe('diagnose archive', () => {
  it('redacts SWMTKN- and SWMKEY- in every file, at the top and in node folders', async () => {
    const token = `SWMTKN-1-${'0fake'.repeat(10)}-${'0fake'.repeat(5)}`; /* obviously fake: the shape of a join token */
    const key = `SWMKEY-1-${'FakeKey0'.repeat(5)}`; /* obviously fake */
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-diag-'));
    const file = join(dir, 'd.tar.gz');
    writeFileSync(
      file,
      diagnoseArchive(
        {
          top: { 'summary.txt': `token ${token}\n` },
          nodes: {
            'lab-manager-1': {
              'engine.log': `join with ${token} and unlock with${key}\n`,
              'nodes.json': '[]\n',
            },
            'lab-worker-1': { 'docker-info.json': JSON.stringify({ JoinTokens: { Worker: token } }) },
          },
        },
        'swarmup-diagnose-lab',
      ),
    );
    const list = String((await execa('tar', ['-tzf', file])).stdout).split('\n');
    expect(list).toEqual([
      'swarmup-diagnose-lab/',
      'swarmup-diagnose-lab/summary.txt',
      'swarmup-diagnose-lab/lab-manager-1/',
      'swarmup-diagnose-lab/lab-manager-1/engine.log',
      'swarmup-diagnose-lab/lab-manager-1/nodes.json',
      'swarmup-diagnose-lab/lab-worker-1/',
      'swarmup-diagnose-lab/lab-worker-1/docker-info.json',
    ]);
    const text = String((await execa('tar', ['-xzOf', file])).stdout);
    expect(text).not.toMatch(/SWMTKN-1-[0-9a-z]/);
    expect(text).not.toMatch(/SWMKEY-1-[0-9A-Za-z]/);
    expect(text).toContain('join with SWMTKN-<redacted> and unlock withSWMKEY-<redacted>');
  });

  it('node names become one safe path part', () => {
    expect(safePart('../etc')).toBe('__etc');
    expect(safePart('lab-manager-1')).toBe('lab-manager-1');
    expect(safePart('')).toBe('_');
  });
});
