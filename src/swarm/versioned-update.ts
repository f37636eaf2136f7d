import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';

/**
 * swarmkit's answer to an update sent with a version that is not the object's any more: another update (the
 * swarm's own: a node's status or description, a leader change) went first. Seen on Docker 20.10 for node and
 * swarm updates alike (test/fixtures/engines/update-out-of-sequence.json).
 */
export function isSequenceConflict(err: unknown): boolean {
  return /update out of sequence/i.test(errorMessage(err));
}

/**
 * An update of a versioned swarm object (a node, the swarm itself): read it, then write the change at the version
 * read. When another update went first, the object is read again and the change written again (the change is a
 * whole spec, so writing it twice is the same as once), a few times with a growing pause; any other error, or the
 * last conflict, is thrown.
 */
export async function updateVersioned<T>(
  read: () => Promise<T>,
  write: (current: T) => Promise<unknown>,
  attempts = 5,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    try {
      await write(current);
      return;
    } catch (err) {
      if (!isSequenceConflict(err) || attempt >= attempts) throw err;
      await sleep(100 * attempt);
    }
  }
}
