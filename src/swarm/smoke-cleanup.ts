import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** The labels every smoke test resource carries (src/swarm/smoke.ts): the cluster and the run's id. */
const RUN_ID = /^[0-9a-f]{6}$/;

/**
 * Whether an object found by the smoke labels is swarmup's own smoke test's, of this cluster (pure): labelled
 * `swarmup.cluster=<cluster>` and `swarmup.smoke=<run id>` (six hex digits), and, where it has a name (service,
 * network), named `swarmup-smoke-<that run id>` as smoke names them. Anything else is left alone.
 */
export function isSmokeResource(
  cluster: string,
  labels: Record<string, string> | undefined | null,
  name?: string,
): boolean {
  const runId = labels?.['swarmup.smoke'] ?? '';
  if (labels?.['swarmup.cluster'] !== cluster || !RUN_ID.test(runId)) return false;
  return name === undefined || name.replace(/^\//, '') === `swarmup-smoke-${runId}`;
}

/**
 * What smoke tests of this cluster left on one engine (a run killed before its cleanup): one line per thing, empty
 * when nothing. Services are listed only where the engine is a manager.
 */
export async function findSmokeLeftovers(
  cluster: string,
  docker: Docker,
  manager: boolean,
): Promise<{ services: string[]; other: string[] }> {
  const filters = { label: [`swarmup.cluster=${cluster}`, 'swarmup.smoke'] };
  // Three reads of one engine, at once: after the facts, every host waits for the slowest of them.
  const [serviceList, containerList, imageList] = await Promise.all([
    manager ? docker.listServices({ filters }) : [],
    docker.listContainers({ all: true, filters }),
    docker.listImages({ filters }),
  ]);
  const services = (serviceList as Array<{ Spec?: { Name?: string; Labels?: Record<string, string> } }>)
    .filter((s) => isSmokeResource(cluster, s.Spec?.Labels, s.Spec?.Name ?? ''))
    .map((s) => `service ${s.Spec!.Name!}`);
  const containers = (containerList as Array<{ Labels?: Record<string, string> }>).filter((c) =>
    isSmokeResource(cluster, c.Labels),
  );
  const images = (imageList as Array<{ Labels?: Record<string, string> | null }>).filter((i) =>
    isSmokeResource(cluster, i.Labels),
  );
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  return {
    services,
    other: [
      ...(containers.length > 0 ? [plural(containers.length, 'task container')] : []),
      ...(images.length > 0 ? [plural(images.length, 'probe image')] : []),
    ],
  };
}

/**
 * Remove what smoke tests made for a cluster, found by label (swarmup.cluster=<name> and swarmup.smoke): the
 * service, its overlay network, and the image and task containers on every node. Also what an interrupted earlier run left behind
 * (the cluster's lock keeps two smoke tests from running at once). Waits, within `withinMs`, until every node's
 * engine lists none of them; returns one line per thing still there.
 */
export async function removeSmokeResources(
  cluster: string,
  manager: Docker,
  nodes: SmokeNode[],
  withinMs: number,
): Promise<{ removed: string[]; left: string[] }> {
  const sweep: Sweep = {
    cluster,
    filters: { label: [`swarmup.cluster=${cluster}`, 'swarmup.smoke'] },
    deadline: Date.now() + withinMs,
    removed: [],
    left: [],
  };
  await removeServices(sweep, manager);
  // Networks and images go once the tasks' containers are gone: retried until then.
  await Promise.all([
    untilSwept(sweep, () => removeNetworks(sweep, manager)),
    ...nodes.map((node) => untilSwept(sweep, () => sweepNode(sweep, node))),
  ]);
  return { removed: sweep.removed, left: sweep.left };
}

interface SmokeNode {
  name: string;
  docker: Docker;
}

/** One cleanup under way: what it looks for, until when, and what it removed and could not remove so far. */
interface Sweep {
  cluster: string;
  filters: { label: string[] };
  deadline: number;
  removed: string[];
  left: string[];
}

/**
 * Run one pass of a cleanup (it returns the last thing still there, '' when none) every 500 ms until nothing is
 * left or the deadline passed; then that last thing is recorded as left. Clean means clean twice, a second apart:
 * a node's agent may still be setting up a task of the service just removed (its copy of the overlay network
 * appears after a first clean look, and goes again with the task), as a Ctrl-C right after the service was created
 * showed in CI.
 */
async function untilSwept(sweep: Sweep, pass: () => Promise<string>): Promise<void> {
  let cleanOnce = false;
  for (;;) {
    const last = await pass();
    if (!last && cleanOnce) return;
    if (last && Date.now() > sweep.deadline) return void sweep.left.push(last);
    if (!last && Date.now() > sweep.deadline) return;
    cleanOnce = !last;
    await sleep(last ? 500 : 1_000);
  }
}

/** The smoke services, removed through the manager once (their tasks then go on every node). */
async function removeServices(sweep: Sweep, manager: Docker): Promise<void> {
  const services = (
    (await manager.listServices({ filters: sweep.filters }).catch(() => [])) as Array<{
      ID: string;
      Spec?: { Name?: string; Labels?: Record<string, string> };
    }>
  ).filter((s) => isSmokeResource(sweep.cluster, s.Spec?.Labels, s.Spec?.Name ?? ''));
  for (const s of services) {
    try {
      await manager.getService(s.ID).remove();
      sweep.removed.push(`service ${s.Spec?.Name ?? s.ID}`);
    } catch (err) {
      sweep.left.push(`service ${s.Spec?.Name ?? s.ID}: ${errorMessage(err)}`);
    }
  }
}

/** One pass over the smoke overlay networks, removed through the manager: the last failure, '' when none. */
async function removeNetworks(sweep: Sweep, manager: Docker): Promise<string> {
  const list = (
    (await manager.listNetworks({ filters: sweep.filters }).catch(() => [])) as Array<{
      Id: string;
      Name: string;
      Labels?: Record<string, string>;
    }>
  ).filter((n) => isSmokeResource(sweep.cluster, n.Labels, n.Name));
  let last = '';
  for (const n of list) {
    try {
      await manager.getNetwork(n.Id).remove();
      sweep.removed.push(`network ${n.Name}`);
    } catch (err) {
      last = `network ${n.Name}: ${errorMessage(err)}`;
    }
  }
  return last;
}

/**
 * One pass over a node's engine: its task containers and probe image removed, then whether the overlay network or
 * a task container is still there. Returns the last thing still there, '' when the node is clean.
 */
async function sweepNode(sweep: Sweep, node: SmokeNode): Promise<string> {
  try {
    // The service is gone: its task containers go too (the agent takes seconds; a forced removal does not).
    let last = await removeTaskContainers(sweep, node);
    last = (await removeProbeImages(sweep, node)) || last;
    const still = await stillOnNode(sweep, node);
    return last || still;
  } catch (err) {
    return `${node.name}: ${errorMessage(err)}`;
  }
}

async function removeTaskContainers(sweep: Sweep, node: SmokeNode): Promise<string> {
  const containers = (
    (await node.docker.listContainers({ all: true, filters: sweep.filters })) as Array<{
      Id: string;
      Labels?: Record<string, string>;
    }>
  ).filter((c) => isSmokeResource(sweep.cluster, c.Labels));
  let last = '';
  for (const c of containers) {
    try {
      await node.docker.getContainer(c.Id).remove({ force: true });
    } catch (err) {
      if (!/no such container|is already in progress/i.test(errorMessage(err)))
        last = `container ${c.Id.slice(0, 12)} on ${node.name}: ${errorMessage(err)}`;
    }
  }
  return last;
}

async function removeProbeImages(sweep: Sweep, node: SmokeNode): Promise<string> {
  const images = (
    (await node.docker.listImages({ filters: sweep.filters })) as Array<{
      Id: string;
      Labels?: Record<string, string> | null;
    }>
  ).filter((i) => isSmokeResource(sweep.cluster, i.Labels));
  let last = '';
  for (const i of images) {
    try {
      await node.docker.getImage(i.Id).remove({ force: true });
      sweep.removed.push(`image ${i.Id.slice(7, 19)} on ${node.name}`);
    } catch (err) {
      last = `image ${i.Id.slice(7, 19)} on ${node.name}: ${errorMessage(err)}`;
    }
  }
  return last;
}

/** What of the smoke run a node still lists after a pass: the overlay network first, then task containers. */
async function stillOnNode(sweep: Sweep, node: SmokeNode): Promise<string> {
  // A worker drops its copy of the overlay network once no task of it runs there.
  const nets = (
    (await node.docker.listNetworks({ filters: sweep.filters })) as Array<{
      Name: string;
      Labels?: Record<string, string>;
    }>
  ).filter((n) => isSmokeResource(sweep.cluster, n.Labels, n.Name));
  const still = (
    (await node.docker.listContainers({ all: true, filters: sweep.filters })) as Array<{
      Labels?: Record<string, string>;
    }>
  ).filter((c) => isSmokeResource(sweep.cluster, c.Labels));
  if (nets.length > 0) return `network ${nets[0]!.Name} still attached on ${node.name}`;
  if (still.length > 0) return `${still.length} task container(s) still on ${node.name}`;
  return '';
}
