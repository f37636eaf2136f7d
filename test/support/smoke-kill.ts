import { resolve } from 'node:path';
import { execa } from 'execa';
import { childEnv, inNode } from './cli.ts';

const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

/** The names of the smoke services a manager's engine lists (read in the node container, not through swarmup). */
export async function smokeServices(manager: string): Promise<string[]> {
  const out = await inNode(manager, [
    'docker',
    'service',
    'ls',
    '--filter',
    'label=swarmup.smoke',
    '--format',
    '{{.Name}}',
  ]);
  return out.split('\n').filter(Boolean);
}

/**
 * Start `swarmup <args>` (a smoke test) as a child process and SIGKILL it once the manager's engine lists its
 * service: nothing of swarmup's own cleanup runs. Throws, naming what never came, when the service does not appear
 * within `withinMs` (or the child ends first). Returns the service's name, still there.
 */
export async function killSmokeOnceItsServiceRuns(
  args: string[],
  env: Record<string, string>,
  manager: string,
  withinMs = 120_000,
): Promise<string> {
  const child = execa('node', [BIN, ...args], {
    env: childEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: withinMs + 60_000,
  });
  let ended = false;
  void child.then(() => (ended = true));
  const deadline = Date.now() + withinMs;
  try {
    for (;;) {
      const found = await smokeServices(manager);
      if (found.length > 0) {
        child.kill('SIGKILL');
        const r = await child;
        if (r.signal !== 'SIGKILL') throw new Error(`swarmup ${args.join(' ')} ended before it was killed`);
        return found[0]!;
      }
      if (ended) {
        const r = await child;
        throw new Error(
          `swarmup ${args.join(' ')} ended (exit ${r.exitCode}) before ${manager} listed its smoke service:\n` +
            `${String(r.stdout).slice(-2000)}\n${String(r.stderr).slice(-2000)}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(
          `${manager} listed no smoke service within ${withinMs / 1000} s of swarmup ${args.join(' ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (!ended) child.kill('SIGKILL');
  }
}
