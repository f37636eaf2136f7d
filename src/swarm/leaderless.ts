import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';

/**
 * Node-list calls right after a leader change can fail for the seconds an election takes ("no leader", "rpc
 * error"). Retried for up to 20 s; any other error at once.
 */
export async function retryLeaderless<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const m = errorMessage(err);
      if (!/leader|raft|context deadline|Unavailable|transport is closing/i.test(m) || Date.now() > deadline)
        throw err;
      await sleep(300);
    }
  }
}
