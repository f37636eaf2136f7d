import type { HostFacts } from '../swarm/facts.ts';

/**
 * Which hosts `up` installs or starts an engine on. A host whose engine does not answer, or answers at another
 * version than `engine.version` while it is in no swarm, is read further and planned. A swarm member at another
 * version is held: `up` would reinstall every such engine at once (apt restarts each), which on managers loses the
 * raft's quorum; `swarmup upgrade` changes them one node at a time with quorum held. Pure.
 */
export function engineWork(
  hosts: readonly string[],
  facts: readonly HostFacts[],
  pin: string | undefined,
): { need: string[]; held: Array<{ host: string; version: string }> } {
  const need: string[] = [];
  const held: Array<{ host: string; version: string }> = [];
  for (const host of hosts) {
    const f = facts.find((x) => x.host === host);
    if (!f) need.push(host);
    else if (pin !== undefined && !f.engineVersion.startsWith(pin)) {
      if (f.state === 'inactive') need.push(host);
      else held.push({ host, version: f.engineVersion });
    }
  }
  return { need, held };
}

/** The plan's note for held engines: what runs, what is wanted, and the command that changes it safely. */
export function heldEngineNotice(
  held: ReadonlyArray<{ host: string; version: string }>,
  pin: string | undefined,
): string[] {
  if (held.length === 0 || pin === undefined) return [];
  const which = held.map((h) => `${h.host} (${h.version})`).join(', ');
  return [
    `engine.version ${pin} is wanted, but ${which} ${held.length === 1 ? 'is a swarm member' : 'are swarm members'} ` +
      "at another version: up does not reinstall a swarm member's engine (every engine restarting at once would " +
      `lose the managers' quorum); "swarmup upgrade --engine-version ${pin}" changes them one node at a time, ` +
      'quorum held',
  ];
}
