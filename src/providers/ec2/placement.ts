import type { LaunchSubnet } from './subnet-check.ts';

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

/**
 * Only subnets in zones that offer the instance type (DescribeInstanceTypeOfferings): e.g. t3.small is not offered
 * in us-east-1e, and a launch there fails with `Unsupported`. A string when no subnet is left (bad input).
 */
export function offeredSubnets(
  subnets: LaunchSubnet[],
  offered: Set<string>,
  instanceType: string,
): { subnets: LaunchSubnet[]; notes: string[] } | string {
  const kept = subnets.filter((s) => offered.has(s.zone));
  const left = [...new Set(subnets.filter((s) => !offered.has(s.zone)).map((s) => s.zone))].sort();
  if (kept.length === 0)
    return (
      `instance type ${instanceType} is not offered in ${left.length === 1 ? 'zone' : 'any of the zones'} ${left.join(', ')}` +
      ' of the subnets: pass --instance-type with a type offered there, or --subnets in other zones'
    );
  return {
    subnets: kept,
    notes:
      left.length > 0 ? [`${instanceType} is not offered in ${left.join(', ')}: no node goes there`] : [],
  };
}

/** AWS's answers to a launch that mean "not in this zone, now": another zone may take the node. */
export const ZONE_CAPACITY_ERRORS = new Set(['InsufficientInstanceCapacity', 'Unsupported']);

/** Zones to try for a node, its placed zone first, then the others in order (the retry after a capacity error). */
export function zonesToTry(placed: string, zones: string[]): string[] {
  const sorted = [...zones].sort();
  const i = sorted.indexOf(placed);
  return i < 0 ? sorted : [...sorted.slice(i), ...sorted.slice(0, i)];
}
