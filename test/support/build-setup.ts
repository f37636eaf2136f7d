import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const key = Symbol.for('swarmup.test.build');

/**
 * The tests that run the command line spawn bin/swarmup.mjs, which runs the compiled dist/ — what a user who
 * installed swarmup runs, not the sources through tsx. So dist/ is rebuilt from the current sources once per test
 * run, before any test: tsc with its incremental build info, a second or two when little changed. (Spawning the
 * sources through tsx instead would test something no user runs, and miss what only compiled code gets wrong: an
 * import tsc did not rewrite, a module the lazy loading forgot, the `swarmup` specifier of user playbooks.)
 * Every project lists this setup; the projects of one run share one build.
 */
export default async function setup(): Promise<void> {
  const g = globalThis as { [key]?: Promise<unknown> };
  g[key] ??= promisify(execFile)(
    process.execPath,
    [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', resolve(root, 'tsconfig.build.json')],
    { cwd: root, timeout: 300_000 },
  ).catch((err: Error & { stdout?: string }) => {
    throw new Error(`npm run build failed, the CLI tests cannot run:\n${err.stdout ?? ''}${err.message}`);
  });
  await g[key];
}
