import type { Action, Phase } from './actions.ts';
import type { Role } from '../config/cluster.ts';
import { chooseSwarm, PlanError, SwarmGoneError } from './choose-swarm.ts';
import { movedAddress, raftManagers, type ClusterNode, type HostFacts } from './facts.ts';
import { guardStep, type ManagerCount } from './quorum.ts';
import { staleNodes } from './stale.ts';

export { PlanError, QuorumLostError } from './choose-swarm.ts';

/** A host that is reported and left alone. */
export interface Problem {
  host: string;
  message: string;
}

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
  const facts = new Map(input.facts.map((f) => [f.host, f]));
  const factsOf = (host: string): HostFacts => facts.get(host) ?? fresh(host);
  const retire = input.retire ?? [];
  const later = input.later ?? [];
  if (later.length > 0) {
    // What the stopped machines and engines hold is read once they run again; then the swarm is planned.
    return { entry: '', roles: {}, phases: [], problems: [], deferred: [...later] };
  }

  const { clusterId, nodes } = chooseOrRenew(input);
  const memberIds = new Set(nodes.map((n) => n.id));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const isMember = (host: string) => {
    const f = factsOf(host);
    return f.state === 'active' && memberIds.has(f.nodeId);
  };

  const problems: Problem[] = [];
  const eligible: string[] = [];
  for (const h of input.hosts) {
    const f = factsOf(h.name);
    if (f.state === 'locked') {
      problems.push({
        host: h.name,
        message: 'the swarm on this host is locked (autolock): run swarmup unlock; left alone',
      });
    } else if (f.state === 'active' && !memberIds.has(f.nodeId) && (f.clusterId || !f.isManager)) {
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

  // A member whose machine's address moved since it joined: its engine still advertises the old one, which its
  // peers dial in vain (raft cannot reach a manager there). It leaves, its old node is removed (a manager demoted
  // first, quorum guarded), and it joins again at the address it has now; managers one at a time.
  const moved = new Map(
    eligible.flatMap((h) => {
      const f = factsOf(h);
      const m = movedAddress(f);
      return m && (isMember(h) || f.state === 'pending') ? [[h, m] as const] : [];
    }),
  );

  // The entry: the leader if it stays, else a manager that stays; for a fresh swarm, the first manager.
  const retiring = new Set(retire.map((r) => r.name));
  let entry: string | undefined;
  let init: Action | undefined;
  if (clusterId) {
    const leaderId = nodes.find((n) => n.leader)?.id;
    const managerHosts = eligible.filter(
      (h) => isMember(h) && !moved.has(h) && nodeById.get(factsOf(h).nodeId)?.role === 'manager',
    );
    entry = managerHosts.find((h) => factsOf(h).nodeId === leaderId) ?? managerHosts[0];
    if (!entry) {
      const anyManager = input.facts.find(
        (f) => f.isManager && f.nodes && memberIds.has(f.nodeId) && !moved.has(f.host),
      );
      if (!anyManager)
        throw new PlanError(
          moved.size > 0
            ? `swarm ${clusterId}: every manager that answers has moved (${describeMoved(moved)}); nothing was ` +
                'changed. "swarmup recover --yes" forces a new cluster on one of them at its current address'
            : `swarm ${clusterId}: no manager of it in the inventory answered`,
        );
      entry = anyManager.host;
    }
  } else {
    entry = eligible.find((h) => roles[h] === 'manager');
    if (!entry) throw new PlanError('no host can be the first manager (every host is left alone)');
    init = { kind: 'init', host: entry };
  }

  const needsLeave = eligible.filter((h) => {
    const f = factsOf(h);
    // error/pending: a broken local state; a manager of this swarm that cannot reach its raft (left behind when
    // the others were recovered) leaves and joins again; so does a member whose address moved.
    return (
      ['error', 'pending'].includes(f.state) ||
      (f.state === 'active' && f.isManager && !f.nodes && !!clusterId && !memberIds.has(f.nodeId)) ||
      moved.has(h)
    );
  });
  const joinsAgain = (h: string) => !isMember(h) || moved.has(h);
  const toJoin = eligible.filter(joinsAgain);
  // The node a leaving host had is removed once it left (it would stay in the list, Down, for good).
  const leftBehind: Action[] = needsLeave.flatMap((h): Action[] => {
    const n = nodeById.get(factsOf(h).nodeId);
    if (!n || h === entry) return [];
    const m = moved.get(h);
    return [
      {
        kind: 'remove-node',
        nodeId: n.id,
        hostname: n.hostname,
        demoteFirst: n.role === 'manager' && n.reachability !== null,
        reason: m ? `${h} moved from ${m.from} to ${m.to}: it joins again` : `${h} left to join again`,
      },
    ];
  });

  // A swarm swarmup did not make: adopted in this run (no swarm recorded, machines not ours) or in an earlier one
  // (its nodes from before are recorded). Only what swarmup joined is ever removed from it, and its join tokens,
  // which its owner's automation may use, are never rotated by up.
  const adoptingNow = !!clusterId && !input.knownClusterId && !input.ownMachines;
  const adoptedSwarm =
    adoptingNow ||
    (!!clusterId && clusterId === input.knownClusterId && (input.preexisting?.length ?? 0) > 0);
  const preexisting = new Set(adoptingNow ? nodes.map((n) => n.id) : (input.preexisting ?? []));

  const reported = new Set(input.facts.map((f) => f.nodeId).filter(Boolean));
  const stale: Action[] = [
    ...leftBehind,
    ...staleNodes({
      nodes,
      reported,
      hosts: [...input.hosts.map((h) => h.name), ...retire.map((r) => r.name)],
      hostnames: new Map(input.facts.map((f) => [f.host, f.hostname])),
      joining: new Set(toJoin),
      recorded: input.recordedNodeIds ?? {},
      retiring,
      adopted: adoptedSwarm,
      preexisting,
    }).map((n): Action => ({
      kind: 'remove-node',
      nodeId: n.node.id,
      hostname: n.node.hostname,
      // A manager entry that is no raft member any more (after a forced new cluster) is removed without demotion.
      demoteFirst: n.node.role === 'manager' && n.node.reachability !== null,
      reason: n.reason,
    })),
  ];

  const managerJoins: Action[] = [];
  const workerJoins: Action[] = [];
  const promotions: Action[] = [];
  const demotions: Action[] = [];
  for (const host of eligible) {
    if (host === entry && init) continue;
    const f = factsOf(host);
    const role = roles[host]!;
    if (joinsAgain(host)) {
      (role === 'manager' ? managerJoins : workerJoins).push({ kind: 'join', host, role });
    } else {
      const current = nodeById.get(f.nodeId)!.role;
      if (current === 'worker' && role === 'manager')
        promotions.push({ kind: 'promote', host, nodeId: f.nodeId });
      if (current === 'manager' && role === 'worker')
        demotions.push({ kind: 'demote', host, nodeId: f.nodeId });
    }
  }

  const retirements = retireActions(retire, factsOf, nodes, input.recordedNodeIds ?? {}, reported);

  const phases: Phase[] = (
    [
      {
        title: 'leave a broken swarm state',
        mode: 'parallel',
        actions: needsLeave.map((host): Action => ({
          kind: 'leave',
          host,
          reason: moved.has(host)
            ? `its address moved from ${moved.get(host)!.from} to ${moved.get(host)!.to}`
            : factsOf(host).state === 'active'
              ? 'its manager lost its raft'
              : `swarm state is ${factsOf(host).state}`,
        })),
      },
      { title: 'initialise the swarm', mode: 'serial', actions: init ? [init] : [] },
      { title: 'remove stale nodes', mode: 'serial', actions: stale },
      // Raft membership changes one at a time: each manager is waited for until reachable before the next.
      { title: 'add managers one at a time', mode: 'serial', actions: [...managerJoins, ...promotions] },
      { title: 'demote surplus managers', mode: 'serial', actions: demotions },
      { title: 'join workers', mode: 'parallel', actions: workerJoins },
      {
        title: 'take nodes out one at a time',
        mode: 'serial',
        actions: retirements.filter((a) => a.kind !== 'remove-machine'),
      },
      // Once out of the swarm, their machines go all at once.
      {
        title: 'remove their machines',
        mode: 'parallel',
        actions: retirements.filter((a) => a.kind === 'remove-machine'),
      },
      {
        title: 'set autolock',
        mode: 'serial',
        actions: autolockChange(input.autolock, clusterId ? factsOf(entry).autolock : undefined),
      },
      {
        title: 'rotate join tokens',
        mode: 'serial',
        actions:
          managerJoins.length + workerJoins.length > 0 && !adoptedSwarm
            ? [{ kind: 'rotate-tokens' } as Action]
            : [],
      },
    ] satisfies Array<Omit<Phase, 'stage' | 'actions'> & { actions: Action[] }>
  )
    .filter((p) => p.actions.length > 0)
    .map((p) => ({ stage: 'swarm' as const, title: p.title, mode: p.mode, actions: [...p.actions] }));

  if (clusterId) guardPlan(nodes, phases);
  const adopted = adoptingNow ? nodes.map((n) => n.id) : undefined;
  const joins = managerJoins.length + workerJoins.length;
  const notices =
    adoptedSwarm && joins > 0
      ? [
          `swarm ${clusterId} was not made by swarmup (adopted): its join tokens are not rotated after ` +
            `${joins === 1 ? 'the join' : 'the joins'} (its owner's automation may use them); ` +
            '"swarmup rotate-tokens" rotates them when you want',
        ]
      : [];
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

/**
 * The swarm to converge; with `--new-swarm`, a new one in place of a recorded swarm that is gone, and only then
 * (no host is a member of it, nor of another swarm that answers): a swarm that is there is converged as it is, so
 * the same command run again after the new swarm was made goes on with that one.
 */
function chooseOrRenew(input: PlanInput): ReturnType<typeof chooseSwarm> {
  try {
    return chooseSwarm(input.facts, input.knownClusterId, input.ownMachines, input.adopt);
  } catch (err) {
    if (!(err instanceof SwarmGoneError) || !input.newSwarm) throw err;
    return chooseSwarm(input.facts, undefined, input.ownMachines, input.adopt);
  }
}

/** An existing swarm's autolock is changed only where the entry manager said what it is and it differs. */
function autolockChange(wanted: boolean | undefined, current: boolean | undefined): Action[] {
  if (wanted === undefined || current === undefined || wanted === current) return [];
  return [{ kind: 'autolock', enable: wanted }];
}

/**
 * Taking nodes out: workers before managers, highest index first, the leader last. Each is drained (its tasks
 * move), demoted if a manager, made to leave (where its host answers), removed from the node list, and its machine
 * destroyed.
 */
function retireActions(
  retire: NonNullable<PlanInput['retire']>,
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

/**
 * Every manager membership change, in the order the plan makes them, asks the quorum guard; the first one that
 * would leave fewer reachable managers than quorum refuses the whole plan, before anything is changed.
 */
function guardPlan(nodes: ClusterNode[], phases: Phase[]): void {
  let count: ManagerCount = raftManagers(nodes);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const a of phases.flatMap((p) => p.actions)) {
    let step: Parameters<typeof guardStep>[1] | undefined;
    if ((a.kind === 'join' && a.role === 'manager') || a.kind === 'promote') step = { kind: 'add' };
    if (a.kind === 'demote' || (a.kind === 'remove-node' && a.demoteFirst)) {
      const n = byId.get(a.nodeId);
      // A manager entry that is no raft member any more (after a forced new cluster) changes no quorum.
      if (n?.role === 'manager' && n.reachability !== null)
        step = { kind: 'remove', reachable: n.reachability === 'reachable' };
    }
    if (!step) continue;
    const verdict = guardStep(count, step);
    if (!verdict.ok) throw new PlanError(`refused: ${describeStep(a)}: ${verdict.why}; ${verdict.todo}`);
    // A joining manager is waited for until it is reachable before the next step.
    count =
      step.kind === 'add' ? { ...verdict.after, reachable: verdict.after.reachable + 1 } : verdict.after;
  }
}

function describeStep(a: Action): string {
  if (a.kind === 'join') return `${a.host} joining as a manager`;
  if (a.kind === 'promote') return `promoting ${a.host}`;
  if (a.kind === 'demote') return `demoting ${a.host}`;
  if (a.kind === 'remove-node') return `removing manager node ${a.hostname}`;
  return a.kind;
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

function describeMoved(moved: Map<string, { from: string; to: string }>): string {
  return [...moved].map(([h, m]) => `${h}: ${m.from} -> ${m.to}`).join(', ');
}
