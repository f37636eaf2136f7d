import type { Action, Phase } from './actions.ts';
import type { Role } from '../config/cluster.ts';
import type { HostFacts } from './facts.ts';
import { adoptionNotices, adoptionOf, chooseOrRenew, type Adoption } from './plan-adoption.ts';
import { guardPlan } from './plan-guard.ts';
import { hostsToLeave, leaveActions, leftBehindNodes, retireActions } from './plan-retire.ts';
import {
  assignRoles,
  chooseEntry,
  movedMembers,
  sortHosts,
  type Membership,
  type Problem,
} from './plan-roles.ts';
import { staleNodes } from './stale.ts';
import { labelAction, labelChange, wantedLabels, type LabelsWanted } from './plan-labels.ts';
import type { Labels } from '../config/labels.ts';

export { PlanError, QuorumLostError } from './choose-swarm.ts';
export type { Problem } from './plan-roles.ts';

export interface SwarmPlan {
  /** The swarm being converged, when one exists already. */
  clusterId?: string;
  /** Host through which joins, promotions and removals go (a manager that stays, the leader if it can). */
  entry: string;
  roles: Record<string, Role>;
  phases: Phase[];
  problems: Problem[];
  /** Adopting a swarm swarmup did not make: the NodeIDs it had before (never made to leave by down). */
  adopted?: string[];
  /** The swarm part waits until these hosts answer (they are started first): no swarm phase is planned yet. */
  deferred?: string[];
  /** Worth saying about the plan (an adopted swarm's join tokens are left as they are). */
  notices?: string[];
}

export interface PlanInput {
  /** The hosts the cluster keeps, in inventory order (the first manager initialises a fresh swarm). */
  hosts: ReadonlyArray<{ name: string; role: Role | 'auto' }>;
  /** Hosts taken out of the cluster; `machine`: their machine is destroyed once they left the swarm. */
  retire?: ReadonlyArray<{ name: string; machine: boolean }>;
  managers: number;
  /** What each host says; a kept host without facts is planned as fresh (a machine about to be created). */
  facts: HostFacts[];
  /** The cluster ID recorded by an earlier run, if any. */
  knownClusterId?: string;
  /** NodeID each machine had when it last joined (from the state). */
  recordedNodeIds?: Record<string, string>;
  /** The hosts are machines made for this cluster (docker, ec2), not the user's own (ssh). */
  ownMachines?: boolean;
  /** Join a swarm that existed before swarmup (else refused with AdoptionRequired). */
  adopt?: boolean;
  /** The NodeIDs an adopted swarm had before swarmup joined it (state): the swarm is someone else's. */
  preexisting?: string[];
  /** `--new-swarm`: the recorded swarm is gone (no host is a member of it); plan a new one in its place. */
  newSwarm?: boolean;
  /**
   * Hosts whose swarm is read only once the run has started them (machine or engine stopped, or busy): until they
   * answer nothing about the swarm is decided (it may be theirs), so the swarm part is deferred.
   */
  later?: string[];
  /** Wanted autolock; an existing swarm whose setting differs is updated (a fresh one gets it at init). */
  autolock?: boolean;
  /** The node labels the config declares (per role, per host). */
  labels?: LabelsWanted;
  /** The labels swarmup set on each host's node before (state): only these are ever removed. */
  recordedLabels?: Record<string, Labels>;
  /**
   * Hosts left out of this run (not reached over SSH), and why: neither joined, changed nor removed, their recorded
   * node never taken for a stale one; each is a problem of the plan.
   */
  leftOut?: Array<{ host: string; reason: string }>;
  /** Hosts a run joined drained (to get their labels first) and had not activated yet when it stopped (state). */
  joinedDrained?: string[];
}

export function countChanges(plan: SwarmPlan): number {
  return plan.phases.reduce((n, p) => n + p.actions.length, 0);
}

const fresh = (host: string): HostFacts => ({
  host,
  advertiseAddress: '',
  hostname: '',
  engineVersion: '',
  state: 'inactive',
  nodeId: '',
  isManager: false,
});

/**
 * The swarm part of the cluster plan: pure, from facts. Refuses (PlanError) what cannot be done safely: a swarm
 * that lost quorum, or a membership change that would leave fewer reachable managers than quorum.
 */
export function planSwarm(input: PlanInput): SwarmPlan {
  const later = input.later ?? [];
  if (later.length > 0) {
    // What the stopped machines and engines hold is read once they run again; then the swarm is planned.
    return { entry: '', roles: {}, phases: [], problems: [], deferred: [...later] };
  }
  const m = membershipOf(input);
  const { clusterId, nodes, factsOf } = m;
  const { eligible, problems } = sortHosts(input.hosts, m, input.leftOut ?? []);
  const roles = assignRoles(input.hosts, input.managers, input.facts, eligible, m.nodeById);
  const moved = movedMembers(eligible, m);
  const { entry, init } = chooseEntry(m, eligible, roles, moved, input.facts);
  const needsLeave = hostsToLeave(eligible, m, moved);
  const joinsAgain = (h: string) => !m.isMember(h) || moved.has(h);
  const adoption = adoptionOf(input, clusterId, nodes);
  // A host left out says nothing now: the node it was recorded with counts as reported (never stale).
  const reported = new Set(
    [
      ...input.facts.map((f) => f.nodeId),
      ...(input.leftOut ?? []).map((l) => input.recordedNodeIds?.[l.host] ?? ''),
    ].filter(Boolean),
  );
  const stale = [
    ...leftBehindNodes(needsLeave, m, moved, entry),
    ...staleRemovals(input, m, reported, eligible.filter(joinsAgain), adoption),
  ];
  const labelsOf = (host: string) => wantedLabels(host, roles[host]!, input.labels);
  const changes = membershipChanges(m, eligible, roles, joinsAgain, init ? entry : undefined, labelsOf);
  const labels = labelActions(m, eligible, joinsAgain, init ? entry : undefined, labelsOf, input);
  const retirements = retireActions(
    input.retire ?? [],
    factsOf,
    nodes,
    input.recordedNodeIds ?? {},
    reported,
  );
  const phases = swarmPhases({
    leaves: leaveActions(needsLeave, m, moved),
    ...(init ? { init: withLabels(init, labelsOf(entry)) } : {}),
    labels,
    stale,
    changes,
    retirements,
    autolock: autolockChange(input.autolock, clusterId ? factsOf(entry).autolock : undefined),
    rotate: changes.managerJoins.length + changes.workerJoins.length > 0 && !adoption.adoptedSwarm,
  });
  if (clusterId) guardPlan(nodes, phases);
  const adopted = adoption.adoptingNow ? nodes.map((n) => n.id) : undefined;
  const joins = changes.managerJoins.length + changes.workerJoins.length;
  const notices = adoptionNotices(adoption, clusterId, joins);
  return {
    ...(clusterId ? { clusterId } : {}),
    entry,
    roles,
    phases,
    problems,
    ...(adopted ? { adopted } : {}),
    ...(notices.length > 0 ? { notices } : {}),
  };
}

/** The swarm chosen (or none: a fresh one), with what each host says about it. */
function membershipOf(input: PlanInput): Membership {
  const facts = new Map(input.facts.map((f) => [f.host, f]));
  const factsOf = (host: string): HostFacts => facts.get(host) ?? fresh(host);
  const { clusterId, nodes } = chooseOrRenew(input);
  const memberIds = new Set(nodes.map((n) => n.id));
  return {
    ...(clusterId ? { clusterId } : {}),
    nodes,
    memberIds,
    nodeById: new Map(nodes.map((n) => [n.id, n])),
    factsOf,
    isMember: (host: string) => {
      const f = factsOf(host);
      return f.state === 'active' && memberIds.has(f.nodeId);
    },
  };
}

/** Nodes of the swarm no kept host is (stale.ts), removed; a manager demoted first where it is a raft member. */
function staleRemovals(
  input: PlanInput,
  m: Membership,
  reported: Set<string>,
  toJoin: string[],
  adoption: Adoption,
): Action[] {
  const retire = input.retire ?? [];
  return staleNodes({
    nodes: m.nodes,
    reported,
    hosts: [...input.hosts.map((h) => h.name), ...retire.map((r) => r.name)],
    hostnames: new Map(input.facts.map((f) => [f.host, f.hostname])),
    joining: new Set(toJoin),
    recorded: input.recordedNodeIds ?? {},
    retiring: new Set(retire.map((r) => r.name)),
    adopted: adoption.adoptedSwarm,
    preexisting: adoption.preexisting,
  }).map((n): Action => ({
    kind: 'remove-node',
    nodeId: n.node.id,
    hostname: n.node.hostname,
    // A manager entry that is no raft member any more (after a forced new cluster) is removed without demotion.
    demoteFirst: n.node.role === 'manager' && n.node.reachability !== null,
    reason: n.reason,
  }));
}

interface MembershipChanges {
  managerJoins: Action[];
  workerJoins: Action[];
  promotions: Action[];
  demotions: Action[];
}

/**
 * Joins (of hosts not members, or joining again), promotions and demotions; initEntry: the host that inits. A host
 * with labels to get joins with them (drained until they are set).
 */
function membershipChanges(
  m: Membership,
  eligible: string[],
  roles: Record<string, Role>,
  joinsAgain: (h: string) => boolean,
  initEntry: string | undefined,
  labelsOf: (host: string) => Labels,
): MembershipChanges {
  const out: MembershipChanges = { managerJoins: [], workerJoins: [], promotions: [], demotions: [] };
  for (const host of eligible) {
    if (host === initEntry) continue;
    const f = m.factsOf(host);
    const role = roles[host]!;
    if (joinsAgain(host)) {
      const join: Action = withLabels({ kind: 'join', host, role }, labelsOf(host));
      (role === 'manager' ? out.managerJoins : out.workerJoins).push(join);
    } else {
      const current = m.nodeById.get(f.nodeId)!.role;
      if (current === 'worker' && role === 'manager')
        out.promotions.push({ kind: 'promote', host, nodeId: f.nodeId });
      if (current === 'manager' && role === 'worker')
        out.demotions.push({ kind: 'demote', host, nodeId: f.nodeId });
    }
  }
  return out;
}

/** An init or join action with the labels its node gets (none: the action as it was). */
function withLabels<A extends Action>(a: A, labels: Labels): A {
  return Object.keys(labels).length > 0 ? { ...a, labels } : a;
}

/**
 * Label changes of the members that stay (hosts joining in this run get theirs with the join; the host that inits,
 * right after init): declared labels compared with the node's own and with what swarmup set before.
 */
function labelActions(
  m: Membership,
  eligible: string[],
  joinsAgain: (h: string) => boolean,
  initEntry: string | undefined,
  labelsOf: (host: string) => Labels,
  input: PlanInput,
): Action[] {
  return eligible.flatMap((host) => {
    if (host === initEntry || joinsAgain(host)) return [];
    const nodeId = m.factsOf(host).nodeId;
    const node = m.nodeById.get(nodeId);
    const change = labelChange(labelsOf(host), node?.labels ?? {}, input.recordedLabels?.[host] ?? {});
    // Drained by swarmup's own join, never by someone else: only then does up make it active.
    const activate = !!input.joinedDrained?.includes(host) && node?.availability === 'drain';
    const a = labelAction(host, nodeId, change, activate);
    return a ? [a] : [];
  });
}

/** The swarm's phases in the order they run; empty ones dropped. */
function swarmPhases(p: {
  leaves: Action[];
  init?: Action;
  labels: Action[];
  stale: Action[];
  changes: MembershipChanges;
  retirements: Action[];
  autolock: Action[];
  rotate: boolean;
}): Phase[] {
  const { managerJoins, workerJoins, promotions, demotions } = p.changes;
  return (
    [
      { title: 'leave a broken swarm state', mode: 'parallel', actions: p.leaves },
      { title: 'initialise the swarm', mode: 'serial', actions: p.init ? [p.init] : [] },
      { title: 'remove stale nodes', mode: 'serial', actions: p.stale },
      // Raft membership changes one at a time: each manager is waited for until reachable before the next.
      { title: 'add managers one at a time', mode: 'serial', actions: [...managerJoins, ...promotions] },
      { title: 'demote surplus managers', mode: 'serial', actions: demotions },
      { title: 'join workers', mode: 'parallel', actions: workerJoins },
      { title: 'set node labels', mode: 'parallel', actions: p.labels },
      {
        title: 'take nodes out one at a time',
        mode: 'serial',
        actions: p.retirements.filter((a) => a.kind !== 'remove-machine'),
      },
      // Once out of the swarm, their machines go all at once.
      {
        title: 'remove their machines',
        mode: 'parallel',
        actions: p.retirements.filter((a) => a.kind === 'remove-machine'),
      },
      { title: 'set autolock', mode: 'serial', actions: p.autolock },
      {
        title: 'rotate join tokens',
        mode: 'serial',
        actions: p.rotate ? [{ kind: 'rotate-tokens' } as Action] : [],
      },
    ] satisfies Array<Omit<Phase, 'stage' | 'actions'> & { actions: Action[] }>
  )
    .filter((ph) => ph.actions.length > 0)
    .map((ph) => ({ stage: 'swarm' as const, title: ph.title, mode: ph.mode, actions: [...ph.actions] }));
}

/** An existing swarm's autolock is changed only where the entry manager said what it is and it differs. */
function autolockChange(wanted: boolean | undefined, current: boolean | undefined): Action[] {
  if (wanted === undefined || current === undefined || wanted === current) return [];
  return [{ kind: 'autolock', enable: wanted }];
}
