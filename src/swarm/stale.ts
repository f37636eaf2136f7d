import type { ClusterNode } from './facts.ts';

export interface StaleInput {
  /** The swarm's node list. */
  nodes: ClusterNode[];
  /** NodeIDs some host reports as its own now: never stale. */
  reported: Set<string>;
  /** Every host of the run (kept and retiring). */
  hosts: string[];
  /** The hostname each host that answered reports. */
  hostnames: Map<string, string>;
  /** Hosts about to join (again). */
  joining: Set<string>;
  /** NodeID each machine had when it last joined (state). */
  recorded: Record<string, string>;
  /** Hosts being taken out: their node is removed by the retirement, not here. */
  retiring: Set<string>;
}

/**
 * Nodes left over from an earlier life of a machine: matched by NodeID, never one that a host reports as its own.
 *  - recorded: the node a machine of this cluster had, while the machine now reports another NodeID or is gone (a
 *    machine being created again), whatever the managers still think of it;
 *  - or, for nodes not recorded (an older state), a Down node whose hostname is that of a host about to join.
 * A reachable manager that is neither is never touched: it may be a live machine of someone else's.
 */
export function staleNodes(input: StaleInput): Array<{ node: ClusterNode; reason: string }> {
  const byId = new Map(Object.entries(input.recorded).map(([host, id]) => [id, host]));
  const out: Array<{ node: ClusterNode; reason: string }> = [];
  for (const n of input.nodes) {
    if (input.reported.has(n.id)) continue;
    const owner = byId.get(n.id);
    if (owner !== undefined) {
      if (input.retiring.has(owner)) continue;
      out.push({
        node: n,
        reason: input.hosts.includes(owner)
          ? `${owner} is no longer this node (it left or its machine was replaced)`
          : `its machine ${owner} is gone`,
      });
      continue;
    }
    const joiningHostnames = new Set(
      [...input.joining].flatMap((h) => [h, input.hostnames.get(h) ?? ''].filter(Boolean)),
    );
    if (n.state === 'down' && joiningHostnames.has(n.hostname)) {
      out.push({ node: n, reason: `${n.hostname} left the swarm; its old node is down` });
    }
  }
  return out;
}
