import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline } from '../transport/deadline.ts';
import { retryLeaderless } from './leaderless.ts';
import { constraintsOf, serviceName, type SwarmServiceJson } from './placement.ts';

/**
 * The one drain wait (`swarmup drain`, the applier's `drain` action, upgrades): a drained node is done when it runs
 * no task of a replicated service any more AND each replicated service that ran there runs its wanted replicas
 * elsewhere. The pure part (drainProgress) reads GET /services and GET /tasks answers; waitDrained polls them.
 */

/** A task as GET /tasks gives it, as far as the drain wait reads it. */
export interface SwarmTaskJson {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  UpdatedAt?: string;
  Status?: { State?: string; Err?: string; Message?: string };
}

/** Task states in which a task holds (or is about to hold) a container on its node. */
const LIVE = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

export function liveTask(t: SwarmTaskJson): boolean {
  return LIVE.has(t.Status?.State ?? '');
}

/** A task the swarm wants to run (a new one is "ready" until it starts), not one it is stopping. */
function wantedUp(t: SwarmTaskJson): boolean {
  return t.DesiredState === 'ready' || t.DesiredState === 'running';
}

export interface StillOnNode {
  service: string;
  /** `web.3` as `docker service ps` names it, and the task's ID. */
  task: string;
  state: string;
}

export interface ShortService {
  service: string;
  wanted: number;
  running: number;
  constraints: string[];
  /** What the scheduler says of a task that does not run (e.g. "no suitable node (...)"). */
  why?: string;
}

export interface DrainProgress {
  /** Live tasks of replicated services on the node. */
  onNode: StillOnNode[];
  /** Replicated services that ran on the node and do not yet run their wanted replicas elsewhere. */
  short: ShortService[];
  /** The services watched so far (those seen on the node): pass them to the next call. */
  watched: Set<string>;
  done: boolean;
}

/**
 * Where a drain of `nodeId` stands. `watched` carries the services seen on the node in earlier reads, so a service
 * whose task has left the node is still waited for until its replicas run elsewhere. Pure.
 */
export function drainProgress(
  nodeId: string,
  services: readonly SwarmServiceJson[],
  tasks: readonly SwarmTaskJson[],
  watched: ReadonlySet<string> = new Set(),
): DrainProgress {
  const replicated = new Map(
    services.filter((s) => s.Spec?.Mode?.Replicated !== undefined).map((s) => [s.ID, s]),
  );
  const here = tasks.filter((t) => t.NodeID === nodeId && liveTask(t) && replicated.has(t.ServiceID ?? ''));
  const onNode = here.map((t) => {
    const name = serviceName(replicated.get(t.ServiceID!)!);
    return {
      service: name,
      task: `${name}.${t.Slot ?? '?'} (${t.ID.slice(0, 12)})`,
      state: `${t.Status?.State ?? '?'}${t.DesiredState === 'shutdown' ? ', shutting down' : ''}`,
    };
  });
  const seen = new Set([...watched, ...here.map((t) => t.ServiceID!)]);
  const short: ShortService[] = [];
  for (const id of seen) {
    const s = replicated.get(id);
    if (!s) continue; // removed meanwhile: nothing to wait for
    const wanted = s.Spec?.Mode?.Replicated?.Replicas ?? 0;
    const mine = tasks.filter((t) => t.ServiceID === id && t.NodeID !== nodeId);
    const running = mine.filter((t) => t.Status?.State === 'running' && t.DesiredState === 'running').length;
    if (running >= wanted) continue;
    const waiting = tasks
      .filter((t) => t.ServiceID === id && wantedUp(t) && t.Status?.State !== 'running')
      .sort((a, b) => (b.UpdatedAt ?? '').localeCompare(a.UpdatedAt ?? ''))[0];
    const why =
      waiting?.Status?.Err || (waiting ? `${waiting.Status?.State}: ${waiting.Status?.Message}` : '');
    short.push({
      service: serviceName(s),
      wanted,
      running,
      constraints: constraintsOf(s),
      ...(why ? { why } : {}),
    });
  }
  return { onNode, short, watched: seen, done: onNode.length === 0 && short.length === 0 };
}

/** One line per task still on the node and per service short of replicas elsewhere. Pure. */
export function describeProgress(p: DrainProgress): string[] {
  return [
    ...p.onNode.map((t) => `still on the node: ${t.task}, ${t.state}`),
    ...p.short.map(
      (s) =>
        `${s.service}: ${s.running} of ${s.wanted} replicas run elsewhere` +
        (s.why ? ` (${s.why})` : '') +
        (s.constraints.length > 0 ? ` [constraints: ${s.constraints.join(', ')}]` : ''),
    ),
  ];
}

/** A drain the swarm did not finish by the deadline: the node is drained, some replicas do not run elsewhere. */
export class DrainNotDone extends Error {
  override name = 'DrainNotDone';
}

/** How long a drain waits by default for the node's tasks to run elsewhere. */
export const DRAIN_TIMEOUT_MS = 120_000;

export interface DrainWaitOptions {
  timeoutMs: number;
  /** Told what still runs, each time that changes. */
  log(message: string): void;
  /** How the node is named in messages. */
  node?: string;
  pollMs?: number;
}

/**
 * Bounded wait (through a manager's engine) until the drained node runs no task of a replicated service and their
 * replicas run elsewhere; at the deadline it throws, naming the tasks left and the services the swarm cannot place
 * (with the scheduler's reason: constraints, resources).
 */
export async function waitDrained(docker: Docker, nodeId: string, o: DrainWaitOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let watched = new Set<string>();
  let said = '';
  for (;;) {
    const [services, tasks] = await retryLeaderless(() =>
      withDeadline(
        Promise.all([
          docker.listServices() as Promise<SwarmServiceJson[]>,
          docker.listTasks() as Promise<SwarmTaskJson[]>,
        ]),
        30_000,
        'the Docker engine: services and tasks',
      ),
    );
    const p = drainProgress(nodeId, services, tasks, watched);
    watched = p.watched;
    if (p.done) return;
    const lines = describeProgress(p);
    if (Date.now() > deadline)
      throw new DrainNotDone(
        `${o.node ?? nodeId} drained, but not done after ${Math.round(o.timeoutMs / 1000)} s: ${lines.join('; ')}` +
          (p.short.length > 0
            ? ' (the swarm cannot place them: no other node satisfies their constraints or has the resources)'
            : ''),
      );
    const now = lines.join('\n');
    if (now !== said) for (const l of lines) o.log(l);
    said = now;
    await sleep(o.pollMs ?? 500);
  }
}
