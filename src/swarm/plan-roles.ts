import type { Action } from './actions.ts';
import type { Role } from '../config/cluster.ts';
import { PlanError } from './choose-swarm.ts';
import { movedAddress, type ClusterNode, type HostFacts } from './facts.ts';

/** A host that is reported and left alone. */
export interface Problem {
  host: string;
  message: string;
}

/** The swarm being converged, as the plan's steps read it: its nodes and what each host says. */
export interface Membership {
  clusterId?: string;
  nodes: ClusterNode[];
  memberIds: Set<string>;
  nodeById: Map<string, ClusterNode>;
  /** What a host says; a host without facts is fresh (a machine about to be created). */
  factsOf: (host: string) => HostFacts;
  /** Whether the host is an active member of this swarm. */
  isMember: (host: string) => boolean;
}

/** A member whose machine's address moved since it joined: from where to where. */
export type Moved = Map<string, { from: string; to: string }>;

/**
 * The kept hosts the plan may change (in inventory order), and those left alone, said why: a locked swarm, or a
 * host that belongs to a different swarm, or one left out of the run (not reached over SSH).
 */
export function sortHosts(
  hosts: ReadonlyArray<{ name: string }>,
  m: Membership,
  leftOut: ReadonlyArray<{ host: string; reason: string }> = [],
): { eligible: string[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const eligible: string[] = [];
  for (const h of hosts) {
    const f = m.factsOf(h.name);
    const out = leftOut.find((l) => l.host === h.name);
    if (out) {
      problems.push({ host: h.name, message: out.reason });
    } else if (f.state === 'locked') {
      problems.push({
        host: h.name,
        message: 'the swarm on this host is locked (autolock): run swarmup unlock; left alone',
      });
    } else if (f.state === 'active' && !m.memberIds.has(f.nodeId) && (f.clusterId || !f.isManager)) {
      const other = f.clusterId ? ` ${f.clusterId}` : '';
      problems.push({
        host: h.name,
        message: `belongs to a different swarm${other} (node ${f.nodeId}); left alone: run "docker swarm leave" on it or remove it from the inventory`,
      });
    } else {
      eligible.push(h.name);
    }
  }
  return { eligible, problems };
}

/**
 * Roles: explicit roles are kept; auto hosts fill the remaining manager seats, current managers first (no churn),
 * then in inventory order. Hosts left alone take no seat.
 */
export function assignRoles(
  hosts: ReadonlyArray<{ name: string; role: Role | 'auto' }>,
  managers: number,
  facts: HostFacts[],
  eligible: string[],
  nodeById: Map<string, ClusterNode>,
): Record<string, Role> {
  const roles: Record<string, Role> = {};
  const spec = new Map(hosts.map((h) => [h.name, h]));
  let seats = managers;
  for (const h of hosts) {
    if (h.role === 'manager') {
      roles[h.name] = 'manager';
      if (eligible.includes(h.name)) seats--;
    } else if (h.role === 'worker') {
      roles[h.name] = 'worker';
    }
  }
  const auto = eligible.filter((h) => spec.get(h)!.role === 'auto');
  const isCurrentManager = (h: string) => {
    const f = facts.find((x) => x.host === h);
    return !!f && nodeById.get(f.nodeId)?.role === 'manager';
  };
  const ranked = [...auto.filter(isCurrentManager), ...auto.filter((h) => !isCurrentManager(h))];
  for (const h of ranked) {
    roles[h] = seats > 0 ? 'manager' : 'worker';
    if (seats > 0) seats--;
  }
  for (const h of hosts) roles[h.name] ??= 'worker';
  return roles;
}

/**
 * A member whose machine's address moved since it joined: its engine still advertises the old one, which its
 * peers dial in vain (raft cannot reach a manager there). It leaves, its old node is removed (a manager demoted
 * first, quorum guarded), and it joins again at the address it has now; managers one at a time.
 */
export function movedMembers(eligible: string[], m: Membership): Moved {
  return new Map(
    eligible.flatMap((h) => {
      const f = m.factsOf(h);
      const moved = movedAddress(f);
      return moved && (m.isMember(h) || f.state === 'pending') ? [[h, moved] as const] : [];
    }),
  );
}

/**
 * The entry: the leader if it stays, else a manager that stays; for a fresh swarm, the first manager (and `init`,
 * the action that makes the swarm there).
 */
export function chooseEntry(
  m: Membership,
  eligible: string[],
  roles: Record<string, Role>,
  moved: Moved,
  facts: HostFacts[],
): { entry: string; init?: Action } {
  const { clusterId, factsOf } = m;
  if (!clusterId) {
    const entry = eligible.find((h) => roles[h] === 'manager');
    if (!entry) throw new PlanError('no host can be the first manager (every host is left alone)');
    return { entry, init: { kind: 'init', host: entry } };
  }
  const leaderId = m.nodes.find((n) => n.leader)?.id;
  const managerHosts = eligible.filter(
    (h) => m.isMember(h) && !moved.has(h) && m.nodeById.get(factsOf(h).nodeId)?.role === 'manager',
  );
  const entry = managerHosts.find((h) => factsOf(h).nodeId === leaderId) ?? managerHosts[0];
  if (entry) return { entry };
  const anyManager = facts.find(
    (f) => f.isManager && f.nodes && m.memberIds.has(f.nodeId) && !moved.has(f.host),
  );
  if (!anyManager)
    throw new PlanError(
      moved.size > 0
        ? `swarm ${clusterId}: every manager that answers has moved (${describeMoved(moved)}); nothing was ` +
            'changed. "swarmup recover --yes" forces a new cluster on one of them at its current address'
        : `swarm ${clusterId}: no manager of it in the inventory answered`,
    );
  return { entry: anyManager.host };
}

function describeMoved(moved: Moved): string {
  return [...moved].map(([h, m]) => `${h}: ${m.from} -> ${m.to}`).join(', ');
}
