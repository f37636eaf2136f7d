import type Docker from 'dockerode';
import type { Action } from './actions.ts';
import { errorMessage } from '../errors.ts';
import type { Machine } from '../providers/provider.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  initSwarm,
  joinSwarm,
  leaveSwarm,
  listNodes,
  readJoinTokens,
  removeNode,
  rotateJoinTokens,
  setAvailability,
  setNodeRole,
  updateNodeLabels,
  waitForNode,
  type JoinTokens,
} from './engine.ts';
import { raftManagers } from './facts.ts';
import { readUnlockKey, rotateUnlockKey, setAutolock, unlockManager } from './autolock.ts';
import { guardStep } from './quorum.ts';
import { rotateRootCA } from './ca-rotation.ts';
import { DRAIN_TIMEOUT_MS, waitDrained } from './drain-wait.ts';
import { retryLeaderless } from './leaderless.ts';
import { JoinPacer } from './join-pace.ts';

const MANAGER_READY_TIMEOUT_MS = 90_000;

export interface SwarmActionContext {
  /** The host joins, promotions and removals go through (a manager that stays). */
  entry: string;
  machine(name: string): Machine;
  docker(name: string): Promise<Docker>;
  /** NodeIDs learnt while applying (joined: the new ID; left: ''). */
  nodeIds: Map<string, string>;
  log(message: string): void;
  /** How long a drain waits for the node's tasks to run elsewhere (default 120 s). */
  drainTimeoutMs?: number;
  /** A fresh swarm is initialised with autolock. */
  autolock?: boolean;
  /** Where the unlock key is kept (the state folder's 0600 file); undefined removes it. */
  unlockKeys?: { read(): string | undefined; write(key: string | undefined): void };
}

/**
 * Carries out swarm actions on the hosts' Docker Engine APIs. Join tokens are read from the entry manager once,
 * kept in this object only, and forgotten when rotated.
 */
export class SwarmApplier {
  private tokens?: JoinTokens;
  private readonly pacer = new JoinPacer();
  constructor(private readonly c: SwarmActionContext) {}

  async apply(a: Action): Promise<void> {
    switch (a.kind) {
      case 'leave':
        return this.leave(a.host);
      case 'init':
        return this.init(a);
      case 'remove-node':
        if (a.demoteFirst) await this.demote(a.nodeId);
        return retryLeaderless(async () => removeNode(await this.entry(), a.nodeId));
      case 'join':
        return this.join(a);
      case 'promote':
        return this.promote(a.nodeId);
      case 'demote':
        return this.demote(a.nodeId);
      case 'drain':
        await retryLeaderless(async () => setAvailability(await this.entry(), a.nodeId, 'drain'));
        return waitDrained(await this.entry(), a.nodeId, {
          timeoutMs: this.c.drainTimeoutMs ?? DRAIN_TIMEOUT_MS,
          node: a.host,
          log: (m) => this.c.log(`${a.host}: ${m}`),
        });
      case 'activate':
        return retryLeaderless(async () => setAvailability(await this.entry(), a.nodeId, 'active'));
      case 'rotate-tokens':
        await rotateJoinTokens(await this.entry(), a.tokens ?? 'both');
        this.tokens = undefined;
        return;
      case 'autolock':
        return this.autolock(a.enable);
      case 'label':
        return retryLeaderless(async () =>
          updateNodeLabels(await this.entry(), a.nodeId, {
            set: a.set,
            remove: a.remove,
            ...(a.activate ? { activate: true } : {}),
          }),
        );
      case 'rotate-unlock-key':
        return this.rotateUnlockKey();
      case 'unlock':
        return this.unlock(a.host);
      case 'rotate-ca':
        return rotateRootCA(await this.entry());
      default:
        throw new Error(`not a swarm action: ${a.kind}`);
    }
  }

  /** The entry manager's engine: joins, promotions and removals go through it. */
  private entry(): Promise<Docker> {
    return this.c.docker(this.c.entry);
  }

  /**
   * A manager just demoted may still be stepping out of raft (or the leadership moving away from it): its leave
   * then fails with "node lost leader status" for a moment. Retried; gone already is done.
   */
  private async leave(host: string): Promise<void> {
    const docker = await this.c.docker(host);
    await retryLeaderless(async () => {
      try {
        await leaveSwarm(docker);
      } catch (err) {
        if (!/not part of a swarm/i.test(errorMessage(err))) throw err;
      }
    });
    this.c.nodeIds.set(host, '');
  }

  private async init(a: Extract<Action, { kind: 'init' }>): Promise<void> {
    const c = this.c;
    const docker = await c.docker(a.host);
    const { kind: _kind, host: _host, labels, ...options } = a;
    await initSwarm(docker, c.machine(a.host).advertiseAddress, { ...options, autolock: !!c.autolock });
    const nodeId = await nodeIdOf(docker);
    c.nodeIds.set(a.host, nodeId);
    // A new swarm runs no service yet: its first node's labels are set before anything can be scheduled.
    if (labels) await retryLeaderless(() => updateNodeLabels(docker, nodeId, { set: labels, remove: [] }));
    if (c.autolock) await this.keepUnlockKey(docker);
  }

  /**
   * Join with the token of the role (read from the entry manager once); a manager is waited for until reachable. A
   * node with labels joins drained and gets its labels and availability active in one update: no task of a service
   * constrained by a label can land on it before the label is there (swarmkit issue 1160).
   */
  private async join(a: Extract<Action, { kind: 'join' }>): Promise<void> {
    const c = this.c;
    this.tokens ??= await readJoinTokens(await this.entry());
    const docker = await c.docker(a.host);
    const manager = a.role === 'manager';
    const tokens = this.tokens;
    const join = () =>
      joinSwarm(
        docker,
        manager ? tokens.manager : tokens.worker,
        c.machine(a.host).advertiseAddress,
        `${c.machine(c.entry).advertiseAddress}:2377`,
        a.dataPathAddr,
        !!a.labels,
      );
    // Managers join one at a time anyway; workers within the window the swarm's answers size (join-pace.ts). A
    // join the engine stopped waiting for goes on in the background: it is waited for, not failed.
    if (manager) await join();
    else
      await this.pacer
        .run(join, joinTimedOut)
        .catch(async (err: unknown) =>
          joinTimedOut(err) ? waitJoined(docker, JOIN_BACKGROUND_MS) : Promise.reject(err),
        );
    const nodeId = await nodeIdOf(docker);
    c.nodeIds.set(a.host, nodeId);
    if (manager) await this.waitReachable(nodeId);
    // Activation is the join's last step: a join stopped before it leaves a drained node recorded as such.
    if (a.labels) {
      const labels = a.labels;
      await retryLeaderless(async () =>
        updateNodeLabels(await this.entry(), nodeId, { set: labels, remove: [], activate: true }),
      );
    }
  }

  /** Promote a worker after asking the quorum guard, and wait until it is a reachable manager. */
  private async promote(nodeId: string): Promise<void> {
    const count = await this.managerCount();
    const verdict = guardStep(count, { kind: 'add' });
    if (!verdict.ok) throw new Error(`${verdict.why}; ${verdict.todo}`);
    await setNodeRole(await this.entry(), nodeId, 'manager');
    return this.waitReachable(nodeId);
  }

  /** Turn autolock on (keeping the new unlock key) or off (forgetting the kept one). */
  private async autolock(enable: boolean): Promise<void> {
    const docker = await this.entry();
    await retryLeaderless(() => setAutolock(docker, enable));
    if (enable) await this.keepUnlockKey(docker);
    else this.c.unlockKeys?.write(undefined);
  }

  private async rotateUnlockKey(): Promise<void> {
    const docker = await this.entry();
    await retryLeaderless(() => rotateUnlockKey(docker));
    return this.keepUnlockKey(docker);
  }

  /** Unlock a locked manager with the kept key and wait until the swarm lists it Ready and Reachable again. */
  private async unlock(host: string): Promise<void> {
    const key = this.c.unlockKeys?.read();
    if (!key)
      throw new Error(
        'no unlock key is recorded for this cluster (autolock was turned on elsewhere?): run "docker swarm unlock" on it',
      );
    const docker = await this.c.docker(host);
    await unlockManager(docker, key);
    await waitActive(docker);
    // Back in the raft: wait until the swarm lists it Ready and Reachable again.
    return waitForNode(
      docker,
      await nodeIdOf(docker),
      (n) => n.state === 'ready' && n.reachability === 'reachable',
      'ready and reachable',
      MANAGER_READY_TIMEOUT_MS,
    );
  }

  /** Read the unlock key from a manager and keep it (only in the state folder's 0600 file). */
  private async keepUnlockKey(docker: Docker): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const key = await retryLeaderless(() => readUnlockKey(docker));
      if (key) {
        this.c.unlockKeys?.write(key);
        return;
      }
      if (Date.now() > deadline) throw new Error('autolock is on, but the manager returned no unlock key');
      await sleep(200);
    }
  }

  /** Demote a manager after asking the quorum guard with the swarm as it is now, and wait until it is a worker. */
  private async demote(nodeId: string): Promise<void> {
    const docker = await this.c.docker(this.c.entry);
    const nodes = await retryLeaderless(() => listNodes(docker));
    const node = nodes.find((n) => n.id === nodeId);
    // Not a manager, or a manager entry that is no raft member any more (after a forced new cluster): it is
    // removed as it is (demoting it would fail: it is in no raft member list).
    if (!node || node.role !== 'manager' || node.reachability === null) return;
    const verdict = guardStep(raftManagers(nodes), {
      kind: 'remove',
      reachable: node.reachability === 'reachable',
    });
    if (!verdict.ok) throw new Error(`not demoted: ${verdict.why}; ${verdict.todo}`);
    await retryLeaderless(() => setNodeRole(docker, nodeId, 'worker'));
    // Demoting the leader moves leadership: the node list may not answer for a moment while a new leader is elected.
    await waitForNode(docker, nodeId, (n) => n.role === 'worker', 'demoted', MANAGER_READY_TIMEOUT_MS);
  }

  private async waitReachable(nodeId: string): Promise<void> {
    await waitForNode(
      await this.c.docker(this.c.entry),
      nodeId,
      (n) => n.role === 'manager' && n.state === 'ready' && n.reachability === 'reachable',
      'ready and reachable',
      MANAGER_READY_TIMEOUT_MS,
    );
  }

  private async managerCount(): Promise<{ total: number; reachable: number }> {
    const nodes = await retryLeaderless(async () => listNodes(await this.c.docker(this.c.entry)));
    const managers = nodes.filter((n) => n.role === 'manager');
    return {
      total: managers.length,
      reachable: managers.filter((n) => n.reachability === 'reachable').length,
    };
  }
}

/** An unlocked manager takes a moment to start its raft again: wait until its swarm state is active. */
async function waitActive(docker: Docker, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = '';
  for (;;) {
    state = ((await docker.info()) as { Swarm?: { LocalNodeState?: string } }).Swarm?.LocalNodeState ?? '';
    if (state === 'active') return;
    if (Date.now() > deadline)
      throw new Error(`unlocked, but its swarm state is "${state}" after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

const JOIN_BACKGROUND_MS = 60_000;

/** The engine's answer when it stopped waiting for a join that goes on (daemon/cluster: errSwarmJoinTimeoutReached). */
function joinTimedOut(err: unknown): boolean {
  return /Timeout was reached before node joined/i.test(errorMessage(err));
}

/** A join going on in the background, waited for until the node is in the swarm (bounded; its error named). */
async function waitJoined(docker: Docker, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = 'pending';
  while (Date.now() < until) {
    const swarm =
      ((await docker.info()) as { Swarm?: { LocalNodeState?: string; Error?: string } }).Swarm ?? {};
    if (swarm.LocalNodeState === 'active') return;
    last = `${swarm.LocalNodeState ?? 'unknown'}${swarm.Error ? `: ${swarm.Error}` : ''}`;
    if (swarm.LocalNodeState === 'inactive' || swarm.LocalNodeState === 'error') break;
    await sleep(500);
  }
  throw new Error(
    `the join went on in the background and did not complete within ${timeoutMs / 1000} s (${last})`,
  );
}

async function nodeIdOf(docker: Docker): Promise<string> {
  return ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
}

/** Kept here for the modules that import it from the applier. */
export { retryLeaderless };
