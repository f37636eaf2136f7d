/**
 * Manager count policy. Raft needs a majority of managers to agree, so an even count adds a machine without adding
 * fault tolerance: 3 managers survive 1 loss, 5 survive 2, 7 survive 3. More than 7 slows every write.
 */
export const allowedManagerCounts = [1, 3, 5, 7] as const;

/** 1 manager below 3 nodes, 3 for 3 to 6 nodes, 5 for 7 or more. */
export function defaultManagerCount(nodes: number): number {
  if (nodes < 3) return 1;
  if (nodes < 7) return 3;
  return 5;
}

/** Returns a message explaining why the count is refused, or undefined when it is allowed. */
export function managerCountProblem(managers: number, nodes: number): string | undefined {
  if (!(allowedManagerCounts as readonly number[]).includes(managers)) {
    return (
      `managers must be 1, 3, 5 or 7, not ${managers}: Swarm's raft needs a majority of managers, ` +
      `so an even count adds no fault tolerance (3 survive 1 loss, 5 survive 2, 7 survive 3)`
    );
  }
  if (managers > nodes) {
    return `managers is ${managers}, more than the ${nodes} node${nodes === 1 ? '' : 's'} there ${nodes === 1 ? 'is' : 'are'}`;
  }
  return undefined;
}

/** Quorum: the number of managers that must be reachable for the swarm to accept changes. */
export function quorum(managers: number): number {
  return Math.floor(managers / 2) + 1;
}
