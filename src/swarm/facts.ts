import { isIP } from 'node:net';
import type { Role } from '../config/cluster.ts';
import { parseInitSettings, type SeenNetwork, type SwarmInitSettings } from './addr-pool.ts';

/** Swarm.LocalNodeState as the engine reports it. */
export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

/** One node as a manager sees it (`docker node ls`). */
export interface ClusterNode {
  id: string;
  hostname: string;
  role: Role;
  state: string; // ready | down | unknown | disconnected
  availability: string; // active | pause | drain
  leader: boolean;
  reachability: string | null; // reachable | unreachable | unknown, null for workers
  /** Address the managers see the node at (Status.Addr). */
  addr: string;
  /** host:port a manager listens on for raft (ManagerStatus.Addr). */
  managerAddr?: string;
  engineVersion: string;
  /** When the node's entry last changed (its status among others), ms since the epoch. */
  updatedAt?: number;
  /** The node's labels (Spec.Labels), as `docker node update --label-add` sets them. */
  labels?: Record<string, string>;
}

/** What one host says about itself, plus the node list when it is a manager that could answer. */
export interface HostFacts {
  host: string;
  advertiseAddress: string;
  hostname: string;
  engineVersion: string;
  state: LocalNodeState;
  nodeId: string;
  clusterId?: string;
  isManager: boolean;
  swarmError?: string;
  /**
   * The address the node advertises to the swarm, as its engine keeps it (Swarm.NodeAddr): the one it joined with,
   * whatever address the machine has now. Differs from `advertiseAddress` when the machine's address moved.
   */
  nodeAddr?: string;
  /** GET /nodes from this host: present only for a manager whose raft answered. */
  nodes?: ClusterNode[];
  /** Why /nodes failed on a manager (no leader, quorum lost...). */
  nodesError?: string;
  /** A manager's view of the swarm's autolock setting (Spec.EncryptionConfig.AutoLockManagers). */
  autolock?: boolean;
  /** The engine's clock (SystemTime), ms since the epoch. */
  systemTime?: number;
  /** Host clock minus this machine's clock (s), estimated at the middle of the round trip that read it. */
  clockOffset?: number;
  /** A manager's view of what `swarm init` fixed (address pool, subnet size, data path port). */
  initSettings?: SwarmInitSettings;
  /** The engine's firewall backend (FirewallBackend.Driver, reported from Docker 28 on): iptables or nftables. */
  firewallBackend?: string;
  /** The host's IPv4 routes (read when a swarm may be initialised: the address pool must overlap none). */
  routes?: SeenNetwork[];
}

/** A node list with a leader and a majority of its managers reachable. Pure. */
export function ledWithQuorum(nodes: readonly ClusterNode[]): boolean {
  const managers = nodes.filter((n) => n.role === 'manager');
  const reachable = managers.filter((n) => n.reachability === 'reachable').length;
  return nodes.some((n) => n.leader) && reachable > managers.length / 2;
}

/** Facts of a host that has never been in a swarm (a machine `plan` has not created yet, or no engine yet). */
export function freshFacts(host: string, advertiseAddress: string): HostFacts {
  return {
    host,
    advertiseAddress,
    hostname: host,
    engineVersion: '',
    state: 'inactive',
    nodeId: '',
    isManager: false,
  };
}

interface InfoJson {
  Name?: string;
  SystemTime?: string;
  ServerVersion?: string;
  FirewallBackend?: { Driver?: string } | null;
  Swarm?: {
    NodeID?: string;
    NodeAddr?: string;
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    Error?: string;
    Cluster?: {
      ID?: string;
      Spec?: { EncryptionConfig?: { AutoLockManagers?: boolean } };
      DefaultAddrPool?: string[] | null;
      SubnetSize?: number;
      DataPathPort?: number;
    } | null;
  };
}

/** Parse the engine's GET /info answer (pure). */
export function parseInfo(host: string, advertiseAddress: string, info: unknown): HostFacts {
  const i = (info ?? {}) as InfoJson;
  const swarm = i.Swarm ?? {};
  const state = (swarm.LocalNodeState || 'inactive') as LocalNodeState;
  const initSettings = swarm.Cluster?.ID ? parseInitSettings(swarm.Cluster) : undefined;
  return {
    host,
    advertiseAddress,
    hostname: i.Name ?? '',
    engineVersion: i.ServerVersion ?? '',
    state,
    nodeId: swarm.NodeID ?? '',
    ...(swarm.Cluster?.ID ? { clusterId: swarm.Cluster.ID } : {}),
    isManager: swarm.ControlAvailable === true,
    ...(swarm.Error ? { swarmError: swarm.Error } : {}),
    ...(swarm.NodeAddr && state !== 'inactive' ? { nodeAddr: swarm.NodeAddr } : {}),
    ...(swarm.Cluster?.Spec
      ? { autolock: swarm.Cluster.Spec.EncryptionConfig?.AutoLockManagers === true }
      : {}),
    ...(initSettings ? { initSettings } : {}),
    ...(i.FirewallBackend?.Driver ? { firewallBackend: i.FirewallBackend.Driver } : {}),
    ...(i.SystemTime && Number.isFinite(Date.parse(i.SystemTime))
      ? { systemTime: Date.parse(i.SystemTime) }
      : {}),
  };
}

interface NodeJson {
  ID?: string;
  UpdatedAt?: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> | null };
  Description?: { Hostname?: string; Engine?: { EngineVersion?: string } };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
}

/** Parse the engine's GET /nodes answer (pure). */
export function parseNodes(nodes: unknown): ClusterNode[] {
  return ((nodes ?? []) as NodeJson[]).map((n) => ({
    id: n.ID ?? '',
    hostname: n.Description?.Hostname ?? '',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'active',
    leader: n.ManagerStatus?.Leader === true,
    reachability: n.ManagerStatus ? (n.ManagerStatus.Reachability ?? 'unknown') : null,
    addr: n.Status?.Addr ?? '',
    ...(n.ManagerStatus?.Addr ? { managerAddr: n.ManagerStatus.Addr } : {}),
    engineVersion: n.Description?.Engine?.EngineVersion ?? '',
    ...(n.UpdatedAt && Number.isFinite(Date.parse(n.UpdatedAt))
      ? { updatedAt: Date.parse(n.UpdatedAt) }
      : {}),
    labels: { ...n.Spec?.Labels },
  }));
}

/**
 * The managers that make up the raft: role manager with a manager status. Right after `--force-new-cluster` the
 * other managers' node entries keep their role but are no longer raft members (no manager status): they count
 * neither for quorum nor against it.
 */
export function raftManagers(nodes: ClusterNode[]): { total: number; reachable: number } {
  const managers = nodes.filter((n) => n.role === 'manager' && n.reachability !== null);
  return { total: managers.length, reachable: managers.filter((n) => n.reachability === 'reachable').length };
}

/** The engine's words for a manager whose raft has no leader (too few managers, or none can reach the others). */
const NO_LEADER = /does not have a leader|no leader|raft.*(quorum|unavailable)/i;

/**
 * A manager that is a member of a swarm whose raft has no leader: its engine says so (LocalNodeState "pending" or
 * "active" with "The swarm does not have a leader" in Swarm.Error or in its failed node list). Such a manager
 * reports no cluster ID; it is a member all the same, waiting for the others.
 */
export function waitingForLeader(f: HostFacts): boolean {
  if (!f.isManager || f.nodes) return false;
  if (f.state !== 'pending' && f.state !== 'active') return false;
  return NO_LEADER.test(f.swarmError ?? '') || NO_LEADER.test(f.nodesError ?? '') || f.state === 'pending';
}

/**
 * The address a member's engine advertises, when it is not the machine's any more (the machine came back with
 * another address, or the inventory says another): `{ from, to }`; undefined when it has not moved (or is unknown).
 */
export function movedAddress(f: HostFacts): { from: string; to: string } | undefined {
  // Only an IP can be compared: an advertise address given as a name is resolved by the engine.
  if (!f.nodeAddr || !isIP(f.advertiseAddress) || f.state === 'inactive') return undefined;
  return f.nodeAddr === f.advertiseAddress ? undefined : { from: f.nodeAddr, to: f.advertiseAddress };
}
