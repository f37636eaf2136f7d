import type { Role } from '../config/cluster.ts';
import type { ChosenSwarm } from './choose-swarm.ts';
import type { HostFacts } from './facts.ts';

/** How the hosts stand in a swarm as read: the manager to read through, each host's role, each one's NodeID. */
export interface SwarmView {
  entry: string;
  roles: Record<string, Role>;
  nodeIds: Map<string, string>;
}

/**
 * The swarm as the hosts' facts show it: the leader's host as entry (else a manager that listed the nodes, else
 * the first host), each host's role from the node list (else from its inventory role). Pure.
 */
export function swarmView(
  hosts: ReadonlyArray<{ name: string; role: Role | 'auto' }>,
  facts: HostFacts[],
  swarm: ChosenSwarm,
): SwarmView {
  const leaderId = swarm.nodes.find((n) => n.leader)?.id;
  const managers = facts.filter((f) => f.isManager && f.nodes);
  const entry = (facts.find((f) => f.nodeId === leaderId) ?? managers[0] ?? facts[0])?.host ?? '';
  const nodeIds = new Map(facts.map((f) => [f.host, f.nodeId]));
  const roles = Object.fromEntries(
    hosts.map((h) => [
      h.name,
      swarm.nodes.find((n) => n.id === nodeIds.get(h.name))?.role ??
        (h.role === 'manager' ? 'manager' : 'worker'),
    ]),
  ) as Record<string, Role>;
  return { entry, roles, nodeIds };
}
