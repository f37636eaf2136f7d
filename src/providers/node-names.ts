import type { NodeWanted } from './provider.ts';

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

/** Inventory order of created machines: managers first, then workers, each by their number. */
export function byRoleThenNumber(a: NodeWanted, b: NodeWanted): number {
  if (a.role !== b.role) return a.role === 'manager' ? -1 : 1;
  return a.name.localeCompare(b.name, undefined, { numeric: true });
}
