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
  /**
   * The swarm is one swarmup adopted (it existed before swarmup joined hosts to it): only nodes swarmup joined, by
   * NodeID, are ever removed from it.
   */
  adopted: boolean;
  /** NodeIDs the adopted swarm had before swarmup joined anything to it (its owner's nodes): never removed. */
  preexisting: Set<string>;
}

/**
 * Nodes left over from an earlier life of a machine: matched by NodeID, never one that a host reports as its own,
 * never one of the nodes an adopted swarm had before swarmup joined it.
 *  - recorded: the node a machine of this cluster had, while the machine now reports another NodeID or is gone (a
 *    machine being created again), whatever the managers still think of it;
 *  - or, only in a swarm swarmup made, for nodes not recorded (an older state, or a run stopped between a join and
 *    its record), a Down node whose hostname is that of a host about to join. Every node of such a swarm was joined
 *    by swarmup, so a Down namesake of a joining host is that host's earlier life. In an adopted swarm a hostname
 *    proves nothing (the owner's machines may share a name with ours: "ubuntu", "debian"...): its nodes that
 *    swarmup did not record are the owner's, and are never touched.
 * A reachable manager that is neither is never touched: it may be a live machine of someone else's.
 */
export function staleNodes(input: StaleInput): Array<{ node: ClusterNode; reason: string }> {
  const byId = new Map(Object.entries(input.recorded).map(([host, id]) => [id, host]));
  const joiningHostnames = new Set(
    [...input.joining].flatMap((h) => [h, input.hostnames.get(h) ?? ''].filter(Boolean)),
  );
  const out: Array<{ node: ClusterNode; reason: string }> = [];
  for (const n of input.nodes) {
    if (input.reported.has(n.id) || input.preexisting.has(n.id)) continue;
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
    if (input.adopted) continue;
    if (n.state === 'down' && joiningHostnames.has(n.hostname)) {
      out.push({ node: n, reason: `${n.hostname} left the swarm; its old node is down` });
    }
  }
  return out;
}
