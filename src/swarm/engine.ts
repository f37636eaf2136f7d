import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { withDeadline } from '../transport/deadline.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseInfo, parseNodes, type ClusterNode, type HostFacts } from './facts.ts';
import { updateVersioned } from './versioned-update.ts';
import { liveTask, type SwarmTaskJson } from './drain-wait.ts';

/** A node as GET /nodes/ID gives it, as far as an update needs: its version and spec. */
interface VersionedNode {
  Version: { Index: number };
  Spec: Record<string, unknown>;
}

/**
 * The Swarm calls swarmup makes, on one host's Docker Engine API. Join tokens travel only in request bodies over
 * the host's SSH connection: never on a command line, in a log line or in a file.
 */

export { waitForEngine } from '../transport/engine-ping.ts';

/** One round trip: /info and (for a manager) /nodes are asked at the same time. */
export async function readHostFacts(
  docker: Docker,
  host: string,
  advertiseAddress: string,
  deadlineMs = 30_000,
): Promise<HostFacts> {
  const t0 = Date.now();
  const [info, nodes] = await Promise.allSettled([
    withDeadline(docker.info(), deadlineMs, 'the Docker engine: info').then((v: unknown) => ({
      v,
      t1: Date.now(),
    })),
    withDeadline(docker.listNodes(), deadlineMs, 'the Docker engine: node list'),
  ]);
  if (info.status === 'rejected') throw info.reason;
  const facts = parseInfo(host, advertiseAddress, info.value.v);
  if (facts.systemTime !== undefined)
    facts.clockOffset = (facts.systemTime - (t0 + info.value.t1) / 2) / 1000;
  if (facts.isManager) {
    if (nodes.status === 'fulfilled') facts.nodes = parseNodes(nodes.value);
    else facts.nodesError = errorMessage(nodes.reason);
  }
  return facts;
}

export async function listNodes(docker: Docker): Promise<ClusterNode[]> {
  return parseNodes(await docker.listNodes());
}

/** What `swarm init` may be given besides the addresses (absent: Docker's defaults). */
export interface InitOptions {
  defaultAddrPool?: string[];
  subnetSize?: number;
  dataPathPort?: number;
  dataPathAddr?: string;
  /** The managers' raft keys encrypted with an unlock key from the start. */
  autolock?: boolean;
}

/** The Engine API's SwarmInit fields for the options given (only those given). Pure. */
export function initBody(o: InitOptions): Record<string, unknown> {
  return {
    ...(o.defaultAddrPool?.length ? { DefaultAddrPool: o.defaultAddrPool } : {}),
    ...(o.subnetSize !== undefined ? { SubnetSize: o.subnetSize } : {}),
    ...(o.dataPathPort !== undefined ? { DataPathPort: o.dataPathPort } : {}),
    ...(o.dataPathAddr ? { DataPathAddr: o.dataPathAddr } : {}),
  };
}

/**
 * The address swarm's control plane (2377) listens on: every address, on purpose. Seen on Docker 20.10 in node
 * containers: a manager that listens on its advertise IP (or on an interface name, which the engine resolves to
 * the IP once and stores in docker-state.json) and restarts after that IP moved ends in swarm state `error`
 * ("failed to listen on remote API address ... cannot assign requested address"), and the engine then refuses
 * `swarm init --force-new-cluster` ("This node is not a swarm manager"): `swarmup recover` could no longer rebuild
 * a swarm whose managers all moved (docs/day-two.md, "Restarts, stopped machines and moved addresses"). Who may reach 2377 is the firewall's to say
 * (EC2: the cluster's security group only).
 */
export const SWARM_LISTEN_ADDR = '0.0.0.0:2377';

export async function initSwarm(
  docker: Docker,
  advertiseAddress: string,
  options: InitOptions = {},
): Promise<void> {
  await docker.swarmInit({
    ListenAddr: SWARM_LISTEN_ADDR,
    AdvertiseAddr: advertiseAddress,
    ...(options.autolock ? { Spec: { EncryptionConfig: { AutoLockManagers: true } } } : {}),
    ...initBody(options),
  });
}

export interface JoinTokens {
  worker: string;
  manager: string;
}

/** Read both join tokens from a manager. The result must stay in memory. */
export async function readJoinTokens(docker: Docker): Promise<JoinTokens> {
  const swarm = (await docker.swarmInspect()) as { JoinTokens?: { Worker?: string; Manager?: string } };
  const worker = swarm.JoinTokens?.Worker;
  const manager = swarm.JoinTokens?.Manager;
  if (!worker || !manager) throw new Error('the manager returned no join tokens');
  return { worker, manager };
}

/**
 * Join a swarm. `drained`: the node joins with availability drain (SwarmJoin's Availability, Engine API 1.31+), so
 * the scheduler gives it no task until it is made active (after its labels are set).
 */
export async function joinSwarm(
  docker: Docker,
  token: string,
  advertiseAddress: string,
  remote: string,
  dataPathAddr?: string,
  drained = false,
): Promise<void> {
  await docker.swarmJoin({
    ListenAddr: SWARM_LISTEN_ADDR,
    AdvertiseAddr: advertiseAddress,
    RemoteAddrs: [remote],
    JoinToken: token,
    ...(dataPathAddr ? { DataPathAddr: dataPathAddr } : {}),
    ...(drained ? { Availability: 'drain' } : {}),
  });
}

export async function leaveSwarm(docker: Docker): Promise<void> {
  await docker.swarmLeave({ force: true });
}

/**
 * Rotate the join tokens (both by default), so the ones used for this run's joins, or ones that leaked, stop
 * working. The swarm's spec is sent back as it is (autolock and every other setting kept).
 */
export async function rotateJoinTokens(
  docker: Docker,
  which: 'both' | 'worker' | 'manager' = 'both',
): Promise<void> {
  await updateVersioned(
    async () => (await docker.swarmInspect()) as { Version: { Index: number }; Spec: object },
    (swarm) =>
      docker.swarmUpdate({
        _query: {
          version: swarm.Version.Index,
          rotateWorkerToken: which !== 'manager',
          rotateManagerToken: which !== 'worker',
        },
        _body: swarm.Spec,
      }),
  );
}

export async function setNodeRole(docker: Docker, nodeId: string, role: 'manager' | 'worker'): Promise<void> {
  const node = docker.getNode(nodeId);
  await updateVersioned(
    async () => (await node.inspect()) as VersionedNode,
    (current) =>
      node.update({ _query: { version: current.Version.Index }, _body: { ...current.Spec, Role: role } }),
  );
}

export async function removeNode(docker: Docker, nodeId: string): Promise<void> {
  await docker.getNode(nodeId).remove({ force: true });
}

/** Poll the manager's node list until `predicate` holds for the node, or time out with what was last seen. */
export async function waitForNode(
  docker: Docker,
  nodeId: string,
  predicate: (n: ClusterNode) => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not listed';
  for (;;) {
    try {
      const n = (await listNodes(docker)).find((x) => x.id === nodeId);
      if (n && predicate(n)) return;
      if (n) last = `status ${n.state}, ${n.role}${n.reachability ? `, ${n.reachability}` : ''}`;
    } catch (err) {
      last = errorMessage(err);
    }
    if (Date.now() > deadline)
      throw new Error(`not ${what} after ${Math.round(timeoutMs / 1000)} s (last seen: ${last})`);
    await sleep(100);
  }
}

/** Set a node's availability (drain: its tasks are moved to other nodes). */
export async function setAvailability(
  docker: Docker,
  nodeId: string,
  availability: 'active' | 'pause' | 'drain',
): Promise<void> {
  const node = docker.getNode(nodeId);
  await updateVersioned(
    async () => (await node.inspect()) as VersionedNode,
    (current) =>
      node.update({
        _query: { version: current.Version.Index },
        _body: { ...current.Spec, Availability: availability },
      }),
  );
}

/**
 * Change a node's labels (`set` added or changed, `remove` taken off; every other label kept), and with `activate`
 * make it active in the same update: the scheduler sees the labels and the availability together.
 */
export async function updateNodeLabels(
  docker: Docker,
  nodeId: string,
  change: { set: Record<string, string>; remove: string[]; activate?: boolean },
): Promise<void> {
  const node = docker.getNode(nodeId);
  await updateVersioned(
    async () => (await node.inspect()) as VersionedNode,
    (current) => {
      const labels = { ...(current.Spec.Labels as Record<string, string> | undefined) };
      for (const k of change.remove) delete labels[k];
      return node.update({
        _query: { version: current.Version.Index },
        _body: {
          ...current.Spec,
          Labels: { ...labels, ...change.set },
          ...(change.activate ? { Availability: 'active' } : {}),
        },
      });
    },
  );
}

/** Tasks the swarm still runs (or is starting) on a node. */
export async function runningTasksOn(docker: Docker, nodeId: string): Promise<string[]> {
  const tasks = (await docker.listTasks({ filters: { node: [nodeId] } })) as SwarmTaskJson[];
  return tasks
    .filter(liveTask)
    .map(
      (t) => `${t.ID.slice(0, 12)} (service ${t.ServiceID?.slice(0, 12) ?? '?'}, ${t.Status?.State ?? '?'})`,
    );
}

/**
 * Force a new single-manager cluster from this manager's raft data (recovery from lost quorum only). The address
 * pool, subnet size and data path port live in that raft data and stay as they were; the data path address is
 * this node's own setting, given again so it is kept.
 */
export async function forceNewCluster(
  docker: Docker,
  advertiseAddress: string,
  options: Pick<InitOptions, 'dataPathAddr'> = {},
): Promise<void> {
  await docker.swarmInit({
    ListenAddr: SWARM_LISTEN_ADDR,
    AdvertiseAddr: advertiseAddress,
    ForceNewCluster: true,
    ...initBody({ ...(options.dataPathAddr ? { dataPathAddr: options.dataPathAddr } : {}) }),
  });
}
