/**
 * Spread nodes over availability zones: managers first, round robin (3 -> 1-1-1, 5 -> 2-2-1), so losing one zone
 * never takes the raft majority; workers round robin after them. Computed over the whole wanted list, so a node
 * created alone (a replacement) lands in the zone of its slot.
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
