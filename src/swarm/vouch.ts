import { ledWithQuorum, type ClusterNode, type HostFacts } from './facts.ts';

/** A worker host whose facts may come from the leader's node list instead of its own engine. */
export interface VouchCandidate {
  name: string;
  advertiseAddress: string;
}

/**
 * The workers the swarm itself vouches for, with the facts their engines would give (pure). On a swarm that
 * swarmup made and that is in order, the managers' node list already says all `up` needs of a worker: its NodeID,
 * role, engine version, labels and the address it is seen at. Reading that list once instead of opening an SSH
 * connection to each of 100 workers is what makes a no-change run cost what it must (the handshakes dominate it).
 *
 * A worker is vouched for only when a manager of the recorded swarm lists the nodes with a leader and a majority
 * of its managers reachable (a raft that can answer for its members), and lists the worker's recorded NodeID as a
 * Ready worker at the worker's own advertise address: the node's agent holds a session with the managers from
 * there, heartbeating every few seconds. Anything else (not listed, Down, Unknown, another address, a manager, no
 * record) is read from the host as before.
 */
export function vouchedWorkers(input: {
  candidates: readonly VouchCandidate[];
  recordedNodeIds: Readonly<Record<string, string>>;
  knownClusterId: string;
  managerFacts: readonly HostFacts[];
}): Map<string, HostFacts> {
  const out = new Map<string, HostFacts>();
  const lister = input.managerFacts.find(
    (f) =>
      f.isManager &&
      f.state === 'active' &&
      f.clusterId === input.knownClusterId &&
      f.nodes !== undefined &&
      ledWithQuorum(f.nodes),
  );
  if (!lister?.nodes) return out;
  const byId = new Map<string, ClusterNode>(lister.nodes.map((n) => [n.id, n]));
  for (const c of input.candidates) {
    const id = input.recordedNodeIds[c.name];
    const n = id ? byId.get(id) : undefined;
    if (!n || n.role !== 'worker' || n.state !== 'ready' || n.addr !== c.advertiseAddress) continue;
    // What the worker's own GET /info would say (a worker's answer carries no cluster ID: only managers know it).
    out.set(c.name, {
      host: c.name,
      advertiseAddress: c.advertiseAddress,
      hostname: n.hostname,
      engineVersion: n.engineVersion,
      state: 'active',
      nodeId: n.id,
      isManager: false,
      nodeAddr: n.addr,
    });
  }
  return out;
}
