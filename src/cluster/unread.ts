import type { EngineFacts } from '../engine/host-facts.ts';
import type { MachineListing } from '../providers/provider.ts';
import { movedAddress, waitingForLeader, type HostFacts } from '../swarm/facts.ts';

/** A running host whose swarm could not be read (src/swarm/read-facts.ts), and why. */
export interface UnreadSwarm {
  host: string;
  /** `down`: no engine answered at all; `silent`: it answered its ping, not about its swarm. */
  engine: 'down' | 'silent';
  reason: string;
}

/** What becomes of each unread host. */
export interface UnreadVerdict {
  /** Their engine is installed and stopped (started by the engine step), or busy (read again after a wait). */
  later: string[];
  /** No engine at all: a host to install, planned as a fresh one. */
  fresh: string[];
  /** Their engine runs, but swarmup cannot read its swarm: planned around never, refused with the reason. */
  refused: Array<{ host: string; reason: string }>;
}

/**
 * A running host without swarm facts is never taken for a fresh one while its engine may hold a swarm: its engine
 * facts (read over SSH, as root through sudo where needed) and the engine step planned for it tell which it is.
 * `engineWork`: the hosts the engine step changes (installs, starts, or gives the user the docker group). Pure.
 */
export function judgeUnread(
  unread: UnreadSwarm[],
  engines: Map<string, EngineFacts>,
  engineWork: Set<string>,
): UnreadVerdict {
  const verdict: UnreadVerdict = { later: [], fresh: [], refused: [] };
  for (const u of unread) {
    const e = engines.get(u.host);
    if (u.engine === 'silent') {
      // The engine is up; its swarm holds the read (a manager waiting for a leader): read again later.
      verdict.later.push(u.host);
    } else if (!e) {
      verdict.refused.push({ host: u.host, reason: `its engine does not answer (${u.reason})` });
    } else if (!e.dockerd && e.dockerdVersion === '' && e.serverVersion === '') {
      verdict.fresh.push(u.host); // no engine at all: installed by the engine step, a fresh host
    } else if (engineWork.has(u.host)) {
      // Stopped (started by the engine step), or its user not yet in the docker group: read once that is done.
      verdict.later.push(u.host);
    } else if (e.serverVersion !== '' && !e.directAccess) {
      verdict.refused.push({
        host: u.host,
        reason:
          `its engine ${e.serverVersion} answers only through sudo: ${e.user} cannot open /var/run/docker.sock, ` +
          `through which swarmup reads and changes the swarm (${u.reason}). Give the socket back to the docker ` +
          `group (ls -l /var/run/docker.sock; systemctl restart docker.socket), or log in as root`,
      });
    } else {
      verdict.refused.push({
        host: u.host,
        reason: `its engine ${e.serverVersion || 'is installed but'} does not answer swarmup's reads (${u.reason})`,
      });
    }
  }
  return verdict;
}

/**
 * A silent host (its engine answers, but its swarm holds GET /info: a manager cut off from its raft does this for
 * a while) whose recorded node a manager with a node list shows at an address that is not the host's any more: its
 * address moved. It is read as the swarm sees it, so the plan repairs it (it leaves and joins again) instead of
 * waiting for an answer that may not come. Other unread hosts stay unread. Pure.
 */
export function movedSilent(
  unread: UnreadSwarm[],
  facts: HostFacts[],
  recordedNodeIds: Record<string, string>,
  advertiseAddress: (host: string) => string | undefined,
): { facts: HostFacts[]; unread: UnreadSwarm[] } {
  const lister = facts.find((f) => f.isManager && f.nodes && f.clusterId);
  const found: HostFacts[] = [];
  const rest: UnreadSwarm[] = [];
  for (const u of unread) {
    const node = lister?.nodes?.find((n) => n.id === recordedNodeIds[u.host]);
    const now = advertiseAddress(u.host);
    const was = node ? (node.managerAddr ?? node.addr).replace(/:\d+$/, '') : undefined;
    if (u.engine !== 'silent' || !node || !now || !was || was === now) {
      rest.push(u);
      continue;
    }
    found.push({
      host: u.host,
      advertiseAddress: now,
      hostname: node.hostname,
      engineVersion: node.engineVersion,
      state: 'active',
      nodeId: node.id,
      clusterId: lister!.clusterId!,
      isManager: node.role === 'manager',
      nodeAddr: was,
      swarmError: u.reason,
    });
  }
  return { facts: found, unread: rest };
}

/**
 * The hosts whose swarm is read only once this run has started or waited for them, in inventory order: machines
 * stopped (or starting), engines to start (or busy: `unreadLater`), and managers whose engine restarted and wait
 * for their peers to elect a leader (LocalNodeState "pending") while no manager has one; not those whose address
 * moved (no wait helps them). Pure.
 */
export function laterHosts(input: {
  hosts: ReadonlyArray<{ name: string }>;
  listing: MachineListing[];
  facts: HostFacts[];
  unreadLater: string[];
}): string[] {
  const kept = new Set(input.hosts.map((h) => h.name));
  const led = input.facts.some((f) => f.isManager && f.nodes?.some((n) => n.leader));
  const electing = led
    ? []
    : input.facts.filter((f) => f.state === 'pending' && waitingForLeader(f) && !movedAddress(f));
  const later = new Set([
    ...input.listing
      .filter((m) => (m.state === 'stopped' || m.state === 'starting') && kept.has(m.name))
      .map((m) => m.name),
    ...input.unreadLater,
    ...electing.map((f) => f.host),
  ]);
  return input.hosts.map((h) => h.name).filter((n) => later.has(n));
}
