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

/**
 * The most workers a config may ask for. Why 1000: it is what swarmup was measured and tested at. 1000 EC2
 * instances (3 managers + 997 workers) were launched, re-run with no change and removed against an EC2 emulator
 * (moto; test/ec2/large-cluster.test.ts), with batched launches and AWS's throttling backed off; 100 nodes were
 * brought up for real here (ssh inventory of node containers, bench/). Swarm itself goes further (Docker's Swarm2k
 * test ran 2,384 nodes under 3 managers), but past 1000 nothing of swarmup's own is proven: a bigger count is
 * refused as bad input (exit 2) rather than tried blind.
 */
export const MAX_WORKERS = 1000;

/** Why MAX_WORKERS, in a line: the schema's error message and the config's description say it. */
export const MAX_WORKERS_WHY =
  `at most ${MAX_WORKERS}: the count swarmup was tested at (${MAX_WORKERS} EC2 instances launched against an ` +
  "emulator, 100 nodes brought up for real); Swarm goes further (Docker's Swarm2k: 2,384 nodes under 3 managers)";

/** Quorum: the number of managers that must be reachable for the swarm to accept changes. */
export function quorum(managers: number): number {
  return Math.floor(managers / 2) + 1;
}
