import type { Role } from '../config/cluster.ts';
import { quorum } from '../config/policy.ts';
import type { ClusterNode, HostFacts } from './facts.ts';

/** One change to the swarm. The plan is pure data; src/swarm/apply.ts carries it out. */
export type Action =
  | { kind: 'leave'; host: string; reason: string }
  | { kind: 'init'; host: string; advertiseAddress: string }
  | { kind: 'remove-node'; nodeId: string; hostname: string; demoteFirst: boolean; reason: string }
  | { kind: 'join'; host: string; role: Role; advertiseAddress: string }
  | { kind: 'promote'; host: string; nodeId: string }
  | { kind: 'demote'; host: string; nodeId: string }
  | { kind: 'rotate-tokens' };

/** Actions of one phase run one at a time (serial) or all at once (parallel); phases run in order. */
export interface Phase {
  title: string;
  mode: 'serial' | 'parallel';
  actions: Action[];
}

/** A host that is reported and left alone. */
export interface Problem {
  host: string;
  message: string;
}

export interface SwarmPlan {
  /** The swarm being converged, when one exists already. */
  clusterId?: string;
  /** Inventory host through which joins, promotions and token reads go (the leader, or the host to init). */
  entry: string;
  roles: Record<string, Role>;
  phases: Phase[];
  problems: Problem[];
}

export interface PlanInput {
  /** Inventory order matters: the first manager initialises a fresh swarm. */
  hosts: ReadonlyArray<{ name: string; advertiseAddress: string; role: Role | 'auto' }>;
  managers: number;
  facts: HostFacts[];
  /** The cluster ID recorded by an earlier run, if any. */
  knownClusterId?: string;
}

/** Thrown when no plan can make progress (quorum lost, no host can lead). Nothing has been changed. */
export class PlanError extends Error {
  override name = 'PlanError';
}

export function countChanges(plan: SwarmPlan): number {
  return plan.phases.reduce((n, p) => n + p.actions.length, 0);
}

export function planSwarm(input: PlanInput): SwarmPlan {
  const facts = new Map(input.facts.map((f) => [f.host, f]));
  const factsOf = (host: string): HostFacts => {
    const f = facts.get(host);
    if (!f) throw new PlanError(`${host}: no facts were read`);
    return f;
  };

  const { clusterId, nodes } = chooseSwarm(input);
  const memberIds = new Set(nodes.map((n) => n.id));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));

  const problems: Problem[] = [];
  const eligible: string[] = [];
  for (const h of input.hosts) {
    const f = factsOf(h.name);
    if (f.state === 'locked') {
      problems.push({
        host: h.name,
        message: 'the swarm on this host is locked (autolock); unlock it first, left alone',
      });
    } else if (f.state === 'active' && !memberIds.has(f.nodeId)) {
      const other = f.clusterId ? ` ${f.clusterId}` : '';
      problems.push({
        host: h.name,
        message: `belongs to a different swarm${other} (node ${f.nodeId}); left alone: run "docker swarm leave" on it or remove it from the inventory`,
      });
    } else {
      eligible.push(h.name);
    }
  }

  const roles = assignRoles(input, eligible, nodeById);

  if (clusterId) {
    const managerNodes = nodes.filter((n) => n.role === 'manager');
    const reachable = managerNodes.filter((n) => n.reachability === 'reachable').length;
    if (reachable < quorum(managerNodes.length)) {
      throw new PlanError(
        `swarm ${clusterId} has lost quorum: ${reachable} of ${managerNodes.length} managers reachable, ` +
          `${quorum(managerNodes.length)} needed; recover it by hand with "docker swarm init --force-new-cluster" on a surviving manager`,
      );
    }
  }

  const isMember = (host: string) => {
    const f = factsOf(host);
    return f.state === 'active' && memberIds.has(f.nodeId);
  };
  const needsLeave = eligible.filter((h) => ['error', 'pending'].includes(factsOf(h).state));
  const toJoin = eligible.filter((h) => !isMember(h));

  // The entry host: the leader if it is in the inventory, else any manager of the swarm in the inventory; for a
  // fresh swarm, the first host that should be a manager.
  let entry: string | undefined;
  let init: Action | undefined;
  if (clusterId) {
    const leaderId = nodes.find((n) => n.leader)?.id;
    entry =
      eligible.find((h) => factsOf(h).nodeId === leaderId && isMember(h)) ??
      eligible.find((h) => isMember(h) && factsOf(h).isManager);
    if (!entry) throw new PlanError(`swarm ${clusterId}: no manager of it in the inventory answered`);
  } else {
    entry = eligible.find((h) => roles[h] === 'manager');
    if (!entry) throw new PlanError('no host can be the first manager (every host is left alone)');
    init = { kind: 'init', host: entry, advertiseAddress: addressOf(input, entry) };
  }

  // Nodes the swarm still lists for a host that is about to (re)join: left over from an earlier life of that host.
  // The host itself says it is not a member, so the entry is stale even while the managers, which notice a departure
  // only after a few missed heartbeats, still show it ready. Same name and address, or either one and down.
  // They are removed (managers demoted first) before the host joins again.
  const stale: Action[] = [];
  for (const host of toJoin) {
    const f = factsOf(host);
    for (const n of nodes) {
      const sameName = f.hostname !== '' && n.hostname === f.hostname;
      const sameAddr = n.addr === f.advertiseAddress || n.managerAddr === `${f.advertiseAddress}:2377`;
      if (n.id !== f.nodeId && ((sameName && sameAddr) || (n.state === 'down' && (sameName || sameAddr)))) {
        stale.push({
          kind: 'remove-node',
          nodeId: n.id,
          hostname: n.hostname,
          demoteFirst: n.role === 'manager',
          reason: `${host} left the swarm; its old node is down`,
        });
      }
    }
  }

  const managerJoins: Action[] = [];
  const workerJoins: Action[] = [];
  const promotions: Action[] = [];
  const demotions: Action[] = [];
  for (const host of eligible) {
    if (host === entry && init) continue;
    const f = factsOf(host);
    const role = roles[host]!;
    if (!isMember(host)) {
      const join: Action = { kind: 'join', host, role, advertiseAddress: addressOf(input, host) };
      (role === 'manager' ? managerJoins : workerJoins).push(join);
    } else {
      const current = nodeById.get(f.nodeId)!.role;
      if (current === 'worker' && role === 'manager')
        promotions.push({ kind: 'promote', host, nodeId: f.nodeId });
      if (current === 'manager' && role === 'worker')
        demotions.push({ kind: 'demote', host, nodeId: f.nodeId });
    }
  }

  const phases: Phase[] = [
    {
      title: 'leave a broken swarm state',
      mode: 'parallel',
      actions: needsLeave.map((host): Action => ({
        kind: 'leave',
        host,
        reason: `swarm state is ${factsOf(host).state}`,
      })),
    },
    { title: 'initialise the swarm', mode: 'serial', actions: init ? [init] : [] },
    { title: 'remove stale nodes', mode: 'serial', actions: stale },
    // Raft membership changes one at a time: each manager is waited for until reachable before the next.
    { title: 'add managers one at a time', mode: 'serial', actions: [...managerJoins, ...promotions] },
    { title: 'demote surplus managers', mode: 'serial', actions: demotions },
    { title: 'join workers', mode: 'parallel', actions: workerJoins },
    {
      title: 'rotate join tokens',
      mode: 'serial',
      actions: managerJoins.length + workerJoins.length > 0 ? [{ kind: 'rotate-tokens' }] : [],
    },
  ].filter((p): p is Phase => p.actions.length > 0) as Phase[];

  return { ...(clusterId ? { clusterId } : {}), entry, roles, phases, problems };
}

function addressOf(input: PlanInput, host: string): string {
  return input.hosts.find((h) => h.name === host)!.advertiseAddress;
}

/** Which existing swarm are we converging? The recorded one, else the one most of the inventory belongs to. */
function chooseSwarm(input: PlanInput): { clusterId?: string; nodes: ClusterNode[] } {
  const managers = input.hosts
    .map((h) => input.facts.find((f) => f.host === h.name))
    .filter((f): f is HostFacts => !!f && f.state === 'active' && f.isManager && !!f.clusterId);
  if (managers.length === 0) return { nodes: [] };

  const byCluster = new Map<string, HostFacts[]>();
  for (const m of managers) byCluster.set(m.clusterId!, [...(byCluster.get(m.clusterId!) ?? []), m]);

  const viewOf = (id: string) => {
    const withNodes = byCluster.get(id)!.find((m) => m.nodes);
    if (!withNodes) {
      const why = byCluster.get(id)!.find((m) => m.nodesError)?.nodesError ?? 'no manager answered';
      throw new PlanError(
        `swarm ${id}: cannot list its nodes (${why}); it may have lost quorum: recover it by hand with ` +
          `"docker swarm init --force-new-cluster" on a surviving manager`,
      );
    }
    return withNodes.nodes!;
  };

  let chosen: string;
  if (input.knownClusterId && byCluster.has(input.knownClusterId)) {
    chosen = input.knownClusterId;
  } else {
    // Most inventory hosts as members wins; ties go to the swarm of the earliest manager in inventory order.
    const score = (id: string) => {
      const ids = new Set(byCluster.get(id)!.flatMap((m) => (m.nodes ?? []).map((n) => n.id)));
      return input.facts.filter((f) => ids.has(f.nodeId)).length;
    };
    chosen = [...byCluster.keys()].reduce((best, id) => (score(id) > score(best) ? id : best));
  }
  return { clusterId: chosen, nodes: viewOf(chosen) };
}

/**
 * Roles: explicit roles are kept; auto hosts fill the remaining manager seats, current managers first (no churn),
 * then in inventory order. Hosts left alone take no seat.
 */
function assignRoles(
  input: PlanInput,
  eligible: string[],
  nodeById: Map<string, ClusterNode>,
): Record<string, Role> {
  const roles: Record<string, Role> = {};
  const spec = new Map(input.hosts.map((h) => [h.name, h]));
  let seats = input.managers;
  for (const h of input.hosts) {
    if (h.role === 'manager') {
      roles[h.name] = 'manager';
      if (eligible.includes(h.name)) seats--;
    } else if (h.role === 'worker') {
      roles[h.name] = 'worker';
    }
  }
  const auto = eligible.filter((h) => spec.get(h)!.role === 'auto');
  const isCurrentManager = (h: string) => {
    const f = input.facts.find((x) => x.host === h);
    return !!f && nodeById.get(f.nodeId)?.role === 'manager';
  };
  const ranked = [...auto.filter(isCurrentManager), ...auto.filter((h) => !isCurrentManager(h))];
  for (const h of ranked) {
    roles[h] = seats > 0 ? 'manager' : 'worker';
    if (seats > 0) seats--;
  }
  for (const h of input.hosts) roles[h.name] ??= 'worker';
  return roles;
}
