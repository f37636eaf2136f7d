import type { Role } from '../config/cluster.ts';

/** A host as `stop` and `start` see it: its role in the swarm, and whether it leads. */
export interface RunningHost {
  name: string;
  role: Role;
  leader: boolean;
}

/**
 * The order `swarmup stop` stops hosts in: every worker at once, then the managers that do not lead, then the
 * leader, so the raft is not made to elect a new leader while it goes down. Empty batches are left out. Pure.
 */
export function stopBatches(hosts: RunningHost[]): Array<{ title: string; hosts: string[] }> {
  const workers = hosts.filter((h) => h.role === 'worker').map((h) => h.name);
  const followers = hosts.filter((h) => h.role === 'manager' && !h.leader).map((h) => h.name);
  const leader = hosts.filter((h) => h.role === 'manager' && h.leader).map((h) => h.name);
  return [
    { title: 'stop workers', hosts: workers },
    { title: 'stop managers', hosts: followers },
    { title: 'stop the leader', hosts: leader },
  ].filter((b) => b.hosts.length > 0);
}

/** The order `swarmup start` starts hosts in: managers first (they elect a leader), then the workers. Pure. */
export function startBatches(
  hosts: Array<{ name: string; role: Role }>,
): Array<{ role: Role; hosts: string[] }> {
  return (['manager', 'worker'] as const)
    .map((role) => ({ role, hosts: hosts.filter((h) => h.role === role).map((h) => h.name) }))
    .filter((b) => b.hosts.length > 0);
}
