import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * After a drain, the drained node's replicated tasks are replaced on other nodes: a node's upgrade goes on only
 * once each of them runs again elsewhere, so a service never misses more than the tasks of the node (the batch)
 * under way. A replicated task is one slot of its service; a global service's task has no slot and is not
 * replaced (it comes back with the node).
 */

interface TaskJson {
  ServiceID?: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string };
}

/** One replicated task that ran on a node: its service and slot. */
export interface SlotRef {
  service: string;
  slot: number;
}

/** The replicated slots a node runs (or is starting) now. Pure. */
export function slotsOn(tasks: unknown[], nodeId: string): SlotRef[] {
  return (tasks as TaskJson[])
    .filter((t) => t.NodeID === nodeId && t.DesiredState === 'running' && (t.Slot ?? 0) > 0)
    .map((t) => ({ service: t.ServiceID ?? '', slot: t.Slot! }));
}

/** The slots of `moved` that no other node runs yet (each with the state its newest task is in). Pure. */
export function slotsNotRunning(moved: SlotRef[], tasks: unknown[], nodeId: string): string[] {
  const all = tasks as TaskJson[];
  return moved
    .filter(
      (m) =>
        !all.some(
          (t) =>
            t.ServiceID === m.service &&
            t.Slot === m.slot &&
            t.NodeID !== nodeId &&
            t.DesiredState === 'running' &&
            t.Status?.State === 'running',
        ),
    )
    .map((m) => {
      const now = all.find(
        (t) =>
          t.ServiceID === m.service &&
          t.Slot === m.slot &&
          t.NodeID !== nodeId &&
          t.DesiredState !== 'shutdown',
      );
      return `service ${m.service.slice(0, 12)} slot ${m.slot} (${now?.Status?.State ?? 'no task yet'})`;
    });
}

/** The node's replicated slots, read before its drain. */
export async function replicatedSlotsOn(docker: Docker, nodeId: string): Promise<SlotRef[]> {
  return slotsOn(await docker.listTasks({ filters: { node: [nodeId] } }), nodeId);
}

/**
 * Wait until every slot in `moved` runs on another node. Bounded: after `timeoutMs` it says which slots did not
 * (their services may have no other node that fits) and returns them, so the caller decides.
 */
export async function waitMovedRunning(
  docker: Docker,
  nodeId: string,
  moved: SlotRef[],
  timeoutMs: number,
): Promise<string[]> {
  if (moved.length === 0) return [];
  const services = [...new Set(moved.map((m) => m.service))];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await docker.listTasks({ filters: { service: services } });
    const left = slotsNotRunning(moved, tasks, nodeId);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(250);
  }
}
