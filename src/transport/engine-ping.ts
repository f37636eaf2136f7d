import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { withDeadline } from './deadline.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until the engine answers /_ping (an engine still starting on a fresh machine, or just started): asked over
 * the connection, so nothing on the host is needed for it (no docker CLI).
 */
export async function waitForEngine(docker: Docker, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Each ping has a deadline of its own: a frozen engine accepts the connection and never answers.
      await withDeadline(docker.ping(), Math.max(1_000, Math.min(5_000, deadline - Date.now())), 'ping');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the Docker engine does not answer: ${errorMessage(err)}`);
      await sleep(100);
    }
  }
}
