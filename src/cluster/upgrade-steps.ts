// What `swarmup upgrade` keeps between runs (the nodes it drained) and its wait for a node to come back.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import type { StateStore } from '../state/store.ts';
import { listNodes } from '../swarm/engine.ts';
import { nodeBack, type NodeUpgrade } from '../swarm/upgrade-plan.ts';

/** A node whose engine was upgraded is waited for this long until it is back (ready, reachable, a leader). */
const BACK_WAIT_MS = 120_000;

type Availability = 'active' | 'pause';

/**
 * The nodes `swarmup upgrade` drained and has not yet given back their availability, by node ID, in the cluster's
 * state folder (0600). Written before a drain, cleared once the node is active (or paused) again: a run that failed
 * in between leaves the record, and the next run gives the node back what it had instead of taking it for a node
 * an operator drained. Nothing secret is in it.
 */
export class DrainRecord {
  private readonly file: string;
  constructor(state: StateStore) {
    this.file = join(state.dir, 'upgrade-drained.json');
  }

  read(): Record<string, Availability> {
    if (!existsSync(this.file)) return {};
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(v).filter((e): e is [string, Availability] => e[1] === 'active' || e[1] === 'pause'),
      );
    } catch {
      return {};
    }
  }

  /** Record (availability given) or forget (undefined) one node; the file goes when empty. */
  set(nodeId: string, availability: Availability | undefined): void {
    const all = this.read();
    if (availability) all[nodeId] = availability;
    else delete all[nodeId];
    if (Object.keys(all).length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/** When the managers last updated the node (its `UpdatedAt`); undefined when the list cannot be read. */
export async function nodeUpdatedAt(
  docker: () => Promise<Docker>,
  nodeId: string,
): Promise<number | undefined> {
  try {
    return (await listNodes(await docker())).find((x) => x.id === nodeId)?.updatedAt;
  } catch {
    return undefined;
  }
}

/**
 * Poll the node list until the node is back at the version; fail naming what was last seen. `since`: the node's
 * `UpdatedAt` before its engine was started again at the same version, where only a new registration (which updates
 * the node) tells it is back from the entry the managers kept from before.
 */
export async function waitBack(
  docker: () => Promise<Docker>,
  n: NodeUpgrade,
  target: string,
  since?: number,
): Promise<void> {
  const deadline = Date.now() + BACK_WAIT_MS;
  let last = 'not listed';
  for (;;) {
    try {
      const nodes = await listNodes(await docker());
      const x = nodes.find((y) => y.id === n.nodeId);
      const updated = since === undefined || (x?.updatedAt !== undefined && x.updatedAt > since);
      if (nodeBack(nodes, n.nodeId, target) && updated) return;
      if (x)
        last = `${x.state}, engine ${x.engineVersion}${x.reachability ? `, ${x.reachability}` : ''}${nodes.some((y) => y.leader) ? '' : ', no leader'}`;
    } catch (err) {
      last = errorMessage(err);
    }
    if (Date.now() > deadline)
      throw new Error(`not back within ${BACK_WAIT_MS / 1000} s (last seen: ${last})`);
    await sleep(250);
  }
}
