import { execa } from 'execa';
import { startScript } from '../../src/engine/service.ts';
import { waitUntil } from './wait.ts';

/**
 * A node container's engine stopped and started the way a crash and the machine's init would, for the e2e files
 * that need it (an engine restart, a manager that comes back locked, a stopped engine to repair). PID 1 of a node
 * container is no init: a dockerd that exited stays a zombie, so only running ones count.
 */

/** SIGTERM to dockerd (as a crash or an operator would: no swarm leave); returns once none runs (60 s at most). */
export async function stopNodeEngine(container: string): Promise<void> {
  const r = await execa(
    'docker',
    [
      'exec',
      container,
      'sh',
      '-c',
      'pkill -x dockerd; for i in $(seq 600); do pgrep -r R,S,D -x dockerd >/dev/null || exit 0; sleep 0.1; done; exit 1',
    ],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`${container}: dockerd still runs 60 s after SIGTERM ${r.stderr}`);
}

/** Whether a dockerd runs in the node container (an exited one, a zombie under PID 1, does not count). */
export async function nodeEngineRuns(container: string): Promise<boolean> {
  const r = await execa('docker', ['exec', container, 'pgrep', '-r', 'R,S,D', '-x', 'dockerd'], {
    reject: false,
  });
  return r.exitCode === 0;
}

/**
 * Start dockerd as the node container started it (its command line, kept at boot), detached; returns once its
 * socket is there (60 s at most). Its swarm may still be coming back: see waitSwarmState.
 */
export async function startNodeEngine(container: string): Promise<void> {
  const r = await execa('docker', ['exec', container, 'sh', '-c', startScript(false)], { reject: false });
  if (r.exitCode !== 0) throw new Error(`${container}: the engine did not start: ${r.stderr}`);
}

/** Wait until the node's engine says its swarm state (LocalNodeState) is `state`; fails loudly with what it said. */
export async function waitSwarmState(container: string, state: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `${container}: swarm state ${state} after its engine started`,
    timeoutMs,
    async (seen) => {
      const r = await execa(
        'docker',
        ['exec', container, 'docker', 'info', '-f', '{{.Swarm.LocalNodeState}}'],
        {
          reject: false,
        },
      );
      const now = String(r.stdout).trim() || String(r.stderr).trim();
      seen(now);
      return now === state ? true : undefined;
    },
    200,
  );
}

/** Stop the node's engine and start it again; with `state`, wait until its swarm says so. */
export async function restartNodeEngine(container: string, state?: string): Promise<void> {
  await stopNodeEngine(container);
  await startNodeEngine(container);
  if (state) await waitSwarmState(container, state);
}
