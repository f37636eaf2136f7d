import type { Role } from '../config/cluster.ts';
import type { Machine } from './provider.ts';

export interface NodeWanted {
  name: string;
  role: Role;
}

/** Names of created machines: `<cluster>-manager-N`, `<cluster>-worker-N` (container names, hostnames, Name tags). */
export function wantedNodes(cluster: string, managers: number, workers: number): NodeWanted[] {
  return [
    ...Array.from({ length: managers }, (_, i) => ({
      name: `${cluster}-manager-${i + 1}`,
      role: 'manager' as const,
    })),
    ...Array.from({ length: workers }, (_, i) => ({
      name: `${cluster}-worker-${i + 1}`,
      role: 'worker' as const,
    })),
  ];
}

/** For `plan`: which wanted machines exist already and which `provision` would create. */
export function splitPlanned(
  existing: Machine[],
  wanted: NodeWanted[],
): { existing: Machine[]; missing: NodeWanted[] } {
  const have = new Set(existing.map((m) => m.name));
  return { existing, missing: wanted.filter((n) => !have.has(n.name)) };
}

/** Inventory order of created machines: managers first, then workers, each by their number. */
export function byRoleThenNumber(a: NodeWanted, b: NodeWanted): number {
  if (a.role !== b.role) return a.role === 'manager' ? -1 : 1;
  return a.name.localeCompare(b.name, undefined, { numeric: true });
}
