import type { Action } from './actions.ts';
import type { ClusterNode, HostFacts } from './facts.ts';
import type { Membership, Moved } from './plan-roles.ts';

/**
 * The hosts that leave to join again: a broken local state (error/pending), a manager of this swarm that cannot
 * reach its raft (left behind when the others were recovered), a member whose address moved.
 */
export function hostsToLeave(eligible: string[], m: Membership, moved: Moved): string[] {
  return eligible.filter((h) => {
    const f = m.factsOf(h);
    return (
      ['error', 'pending'].includes(f.state) ||
      (f.state === 'active' && f.isManager && !f.nodes && !!m.clusterId && !m.memberIds.has(f.nodeId)) ||
      moved.has(h)
    );
  });
}

/** The leave action of each host that leaves to join again, with its reason. */
export function leaveActions(needsLeave: string[], m: Membership, moved: Moved): Action[] {
  return needsLeave.map((host): Action => {
    const to = moved.get(host);
    return {
      kind: 'leave',
      host,
      reason: to
        ? `its address moved from ${to.from} to ${to.to}`
        : m.factsOf(host).state === 'active'
          ? 'its manager lost its raft'
          : `swarm state is ${m.factsOf(host).state}`,
    };
  });
}

/** The node a leaving host had is removed once it left (it would stay in the list, Down, for good). */
export function leftBehindNodes(needsLeave: string[], m: Membership, moved: Moved, entry: string): Action[] {
  return needsLeave.flatMap((h): Action[] => {
    const n = m.nodeById.get(m.factsOf(h).nodeId);
    if (!n || h === entry) return [];
    const to = moved.get(h);
    return [
      {
        kind: 'remove-node',
        nodeId: n.id,
        hostname: n.hostname,
        demoteFirst: n.role === 'manager' && n.reachability !== null,
        reason: to ? `${h} moved from ${to.from} to ${to.to}: it joins again` : `${h} left to join again`,
      },
    ];
  });
}

/**
 * Taking nodes out: workers before managers, highest index first, the leader last. Each is drained (its tasks
 * move), demoted if a manager, made to leave (where its host answers), removed from the node list, and its machine
 * destroyed.
 */
export function retireActions(
  retire: ReadonlyArray<{ name: string; machine: boolean }>,
  factsOf: (h: string) => HostFacts,
  nodes: ClusterNode[],
  recorded: Record<string, string>,
  reported: Set<string>,
): Action[] {
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const entries = retire.map((r) => {
    const f = factsOf(r.name);
    const own = f.state === 'active' && nodeById.has(f.nodeId) ? f.nodeId : undefined;
    const rec = recorded[r.name];
    // A recorded node counts only while no other host reports it as its own.
    const nodeId = own ?? (rec && nodeById.has(rec) && !reported.has(rec) ? rec : undefined);
    return { ...r, node: nodeId ? nodeById.get(nodeId) : undefined, answered: !!own };
  });
  const rank = (e: (typeof entries)[number]) =>
    (e.node?.role === 'manager' ? 1 : 0) + (e.node?.leader ? 2 : 0);
  entries.sort((a, b) => rank(a) - rank(b) || b.name.localeCompare(a.name, undefined, { numeric: true }));
  return entries.flatMap((e): Action[] => {
    const out: Action[] = [];
    const n = e.node;
    if (n) {
      if (n.state === 'ready' && n.availability !== 'drain')
        out.push({ kind: 'drain', host: e.name, nodeId: n.id });
      if (n.role === 'manager') out.push({ kind: 'demote', host: e.name, nodeId: n.id });
      if (e.answered) out.push({ kind: 'leave', host: e.name, reason: 'taken out of the cluster' });
      out.push({
        kind: 'remove-node',
        nodeId: n.id,
        hostname: n.hostname,
        demoteFirst: false,
        reason: `${e.name} is taken out of the cluster`,
      });
    } else if (e.answered === false && factsOf(e.name).state !== 'inactive' && factsOf(e.name).nodeId) {
      out.push({ kind: 'leave', host: e.name, reason: 'taken out of the cluster' });
    }
    if (e.machine) out.push({ kind: 'remove-machine', host: e.name });
    return out;
  });
}
