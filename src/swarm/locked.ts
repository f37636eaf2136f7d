import type { HostFacts } from './facts.ts';

/**
 * Managers of an autolocked swarm whose engine restarted wait, locked, for the unlock key (Swarm.LocalNodeState
 * "locked"): nothing else can be done with them until `swarmup unlock`. Pure.
 */
export function lockedHosts(facts: readonly HostFacts[]): string[] {
  return facts.filter((f) => f.state === 'locked').map((f) => f.host);
}

/** The message `up` and `status` stop with when a manager is locked; undefined when none is. */
export function lockedMessage(facts: readonly HostFacts[]): string | undefined {
  const locked = lockedHosts(facts);
  if (locked.length === 0) return undefined;
  return locked.length === 1
    ? `manager ${locked[0]} is locked: run swarmup unlock`
    : `managers ${locked.join(', ')} are locked: run swarmup unlock`;
}

/** An error (exit 1) naming every locked manager, for the commands that cannot go on with one. */
export class LockedError extends Error {
  override name = 'LockedError';
  readonly exitCode = 1;
}

export function refuseLocked(facts: readonly HostFacts[]): void {
  const message = lockedMessage(facts);
  if (message) throw new LockedError(message);
}
