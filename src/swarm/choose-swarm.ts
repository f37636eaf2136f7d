import { quorum } from '../config/policy.ts';
import { movedAddress, raftManagers, waitingForLeader, type ClusterNode, type HostFacts } from './facts.ts';

/** Thrown when no plan can make progress (quorum lost, no host can lead). Nothing has been changed. */
export class PlanError extends Error {
  override name = 'PlanError';
}

/** The swarm has no working raft majority: nothing may change until `swarmup recover` is asked for. */
export class QuorumLostError extends PlanError {
  override name = 'QuorumLostError';
}

/**
 * The swarm recorded for this cluster has no member among the hosts that answer: its managers left it, or their
 * machines are gone with their disks. Only `--new-swarm` makes another one in its place.
 */
export class SwarmGoneError extends PlanError {
  override name = 'SwarmGoneError';
}

/** A swarm swarmup did not make runs on the hosts: it is joined only when the user says so. Exit code 2. */
export class AdoptionRequired extends PlanError {
  override name = 'AdoptionRequired';
  readonly exitCode = 2;
  constructor(
    message: string,
    /** What to ask on a terminal instead of refusing. */
    readonly question: string,
  ) {
    super(message);
  }
}

/** The swarm being converged, as its healthy managers list it; none for a fresh cluster. */
export interface ChosenSwarm {
  clusterId?: string;
  nodes: ClusterNode[];
}

const RECOVER_HINT =
  'nothing was changed. Bring the lost managers back if you can (their machines and disks), or run ' +
  '"swarmup recover --yes" to force a new cluster from a surviving manager (same cluster ID, workers kept)';

/**
 * Which swarm are we converging? The one recorded for this cluster, else the one most hosts belong to. A swarm is
 * seen through a manager whose node list answers; when hosts are members of a swarm but no manager of it answers,
 * the swarm has lost quorum (or every manager is gone) and this refuses: a new swarm is never started beside an
 * old one.
 */
export function chooseSwarm(
  facts: HostFacts[],
  knownClusterId?: string,
  /** The hosts are machines swarmup made for this cluster: a member of any swarm is a member of ours. */
  ownMachines = false,
  /** The user said to join a swarm that existed before (else one is refused). */
  adopt = false,
): ChosenSwarm {
  const healthy = facts.filter((f) => f.state === 'active' && f.isManager && f.nodes && f.clusterId);
  const byCluster = new Map<string, HostFacts[]>();
  for (const m of healthy) byCluster.set(m.clusterId!, [...(byCluster.get(m.clusterId!) ?? []), m]);
  // A manager waiting for a leader (LocalNodeState "pending" once its engine restarted) is a member all the same,
  // though it reports no cluster ID.
  const members = facts.filter((f) => f.state === 'active' || waitingForLeader(f));
  const headless = members.filter((f) => f.isManager && !f.nodes);

  if (knownClusterId) {
    const mine = byCluster.get(knownClusterId);
    if (mine) return withQuorum({ clusterId: knownClusterId, nodes: mine[0]!.nodes! }, members);
    if (byCluster.size > 0) {
      throw new PlanError(
        `this cluster's swarm is ${knownClusterId}, but its hosts answer for swarm ${[...byCluster.keys()].join(', ')}; ` +
          'nothing was changed: swarmup joins hosts only to the swarm recorded for the cluster. See what runs there ' +
          '(swarmup ssh NODE -- docker info)',
      );
    }
    if (members.length > 0) throw quorumLost(knownClusterId, members, headless);
    throw new SwarmGoneError(
      `swarm ${knownClusterId} was recorded for this cluster, but ` +
        (facts.length === 0
          ? 'none of its hosts answers'
          : `none of the ${facts.length} hosts that answer is a member of it (${facts.map((f) => `${f.host}: ${f.state === 'inactive' ? 'in no swarm' : f.state}`).join(', ')})`) +
        '; nothing was changed. If its managers left it for good (or are gone with their disks), ' +
        '"swarmup up --new-swarm" makes a new swarm on these hosts',
    );
  }
  if (byCluster.size === 0) {
    // Members but no manager that answers: a swarm without its majority. On machines of the user's own (ssh) a
    // worker may belong to a swarm managed elsewhere; on machines made for this cluster it can only be ours.
    if (headless.length > 0 || (ownMachines && members.length > 0))
      throw quorumLost(undefined, members, headless);
    return { nodes: [] };
  }
  // Most hosts as members wins; ties go to the swarm of the earliest manager in inventory order.
  const score = (id: string) => {
    const ids = new Set(byCluster.get(id)!.flatMap((m) => (m.nodes ?? []).map((n) => n.id)));
    return facts.filter((f) => ids.has(f.nodeId)).length;
  };
  const chosen = [...byCluster.keys()].reduce((best, id) => (score(id) > score(best) ? id : best));
  if (!ownMachines && !adopt) {
    const nodes = byCluster.get(chosen)![0]!.nodes!;
    const managers = byCluster.get(chosen)!.map((m) => m.host);
    const what =
      `${managers.join(', ')} already ${managers.length === 1 ? 'manages' : 'manage'} swarm ${chosen} ` +
      `(${nodes.length} node${nodes.length === 1 ? '' : 's'}), which swarmup did not make`;
    throw new AdoptionRequired(
      `${what}; nothing was changed. ` +
        'Pass --adopt to join the other hosts to it (its own nodes are never made to leave by swarmup down), ' +
        'or make those hosts leave it, or take them out of the inventory',
      `${what}. Join the other hosts to it (swarmup down will never make its own nodes leave)?`,
    );
  }
  return withQuorum({ clusterId: chosen, nodes: byCluster.get(chosen)![0]!.nodes! }, members);
}

/**
 * A manager may still list the nodes for a few seconds after the majority is gone (until its leader steps down):
 * the reachability it lists tells the same.
 */
function withQuorum(swarm: Required<ChosenSwarm>, members: HostFacts[]): Required<ChosenSwarm> {
  const { total, reachable } = raftManagers(swarm.nodes);
  if (reachable >= quorum(total)) return swarm;
  const lost = swarm.nodes
    .filter((n) => n.role === 'manager' && n.reachability !== null && n.reachability !== 'reachable')
    .map((n) => n.hostname);
  throw new QuorumLostError(
    `swarm ${swarm.clusterId} has lost quorum: ${reachable} of ${total} managers reachable, ` +
      `${quorum(total)} needed (unreachable: ${lost.join(', ')}; ${members.length} hosts answer); ${RECOVER_HINT}`,
  );
}

function quorumLost(
  clusterId: string | undefined,
  members: HostFacts[],
  headless: HostFacts[],
): QuorumLostError {
  const said = headless.map((f) => `${f.host}: ${f.nodesError ?? f.swarmError ?? 'no node list'}`);
  const what =
    headless.length > 0
      ? `no manager can list the nodes (${said.join('; ')})`
      : `${members.map((f) => f.host).join(', ')} ${members.length === 1 ? 'is a member' : 'are members'} but no manager answers`;
  const moved = members.flatMap((f) => {
    const m = f.isManager ? movedAddress(f) : undefined;
    return m ? [`${f.host} joined at ${m.from}, now has ${m.to}`] : [];
  });
  if (moved.length > 0) {
    const first = members.find((f) => f.isManager)!.host;
    return new QuorumLostError(
      `swarm ${clusterId ?? '(cluster ID not reported)'} has no leader: ${what}. The managers' addresses moved ` +
        `(${moved.join('; ')}), so raft cannot find its members where they joined; nothing was changed. ` +
        `"swarmup recover --yes" forces a new cluster on ${first} at its current address (same cluster ID, ` +
        'services and workers kept) and makes the other managers leave and join again',
    );
  }
  return new QuorumLostError(
    `swarm ${clusterId ?? '(cluster ID not reported)'} has lost quorum: ${what}; ${RECOVER_HINT}`,
  );
}
