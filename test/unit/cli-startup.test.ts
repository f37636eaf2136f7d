import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { swarmup, tempHome } from '../support/cli.ts';

const root = resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const recorder = pathToFileURL(join(root, 'test/support/record-modules.mjs')).href;

/** The packages only some commands need; `--help` and `--version` must load none of them. */
const HEAVY = [
  '@aws-sdk',
  '@smithy',
  '@inquirer',
  'dockerode',
  'ssh2',
  'listr2',
  'yaml',
  'zod',
  'execa',
  'tsx',
  'esbuild',
  'typescript',
];

/** Every module a `swarmup ARGS` process loaded, through the real binary (test/support/record-modules.mjs). */
async function modulesLoadedBy(args: string[]): Promise<{ code: number; stdout: string; modules: string[] }> {
  const home = tempHome('swarmup-startup-');
  const out = join(home, 'modules.txt');
  const r = await swarmup(args, {
    SWARMUP_HOME: join(home, 'state'),
    SWARMUP_TEST_MODULES: out,
    NODE_OPTIONS: `--import=${recorder}`,
  });
  const modules = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  return { code: r.code, stdout: r.stdout, modules };
}

const packagesIn = (modules: string[]) =>
  [...new Set(modules.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []))].sort();

describe('command line start-up', () => {
  it.each([['--version'], ['-V']])(
    'swarmup %s prints the version of package.json and exits 0',
    async (flag) => {
      const r = await swarmup([flag], {});
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    },
  );

  it.each([[['--help']], [['--version']], [['up', '--help']]])(
    'swarmup %j runs the compiled code and loads no package beyond commander',
    async (args) => {
      const { code, stdout, modules } = await modulesLoadedBy(args);
      expect(code).toBe(0);
      if (args.includes('--help')) expect(stdout).toContain('Usage: swarmup');
      // The recorder saw the run: the compiled entry point and commander are there (else the check below is empty).
      expect(modules.some((m) => m.endsWith('/dist/src/cli/main.js'))).toBe(true);
      expect(modules.some((m) => m.endsWith('.ts'))).toBe(false);
      const packages = packagesIn(modules);
      expect(packages).toContain('commander');
      expect(packages.filter((p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`)))).toEqual([]);
    },
  );
});
