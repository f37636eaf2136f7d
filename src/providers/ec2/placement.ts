import { createHash } from 'node:crypto';

/**
 * Spread nodes over availability zones: managers first, round robin (3 -> 1-1-1, 5 -> 2-2-1), so losing one zone
 * never takes the raft majority; workers round robin after them.
 */
export function placeNodes<T extends { name: string; role: 'manager' | 'worker' }>(
  nodes: T[],
  zones: string[],
): Map<string, string> {
  const sorted = [...zones].sort();
  if (sorted.length === 0) throw new Error('no availability zone to place nodes in');
  const placement = new Map<string, string>();
  nodes
    .filter((n) => n.role === 'manager')
    .forEach((n, i) => placement.set(n.name, sorted[i % sorted.length]!));
  nodes
    .filter((n) => n.role === 'worker')
    .forEach((n, i) => placement.set(n.name, sorted[i % sorted.length]!));
  return placement;
}

/**
 * RunInstances' idempotency token for one node of one life of the cluster: a retry after a crash between the
 * launch and its recording gets the same instance back instead of a second one. The generation changes after
 * `down`, so a new cluster of the same name is never handed the old, terminated instances.
 */
export function clientToken(cluster: string, generation: string, node: string): string {
  return (
    'swarmup-' + createHash('sha256').update(`${cluster}/${generation}/${node}`).digest('hex').slice(0, 40)
  );
}
