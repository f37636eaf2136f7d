import Docker from 'dockerode';
import { combineErrors, errorMessage, InputError, StepError } from '../errors.ts';
import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { imageOn, imageStore, loadImageStream, saveImages } from '../swarm/image-load.ts';
import {
  planImageLoad,
  sameImage,
  selectNodes,
  type ImageFacts,
  type ImageStore,
  type NodeLoad,
  type NodeSelection,
} from '../swarm/image-plan.ts';
import { withApiDeadline } from '../transport/deadline.ts';
import { Semaphore } from '../transport/semaphore.ts';

/**
 * `swarmup image load IMAGE...`: images of the local Docker engine (the one the docker CLI would use, as the
 * docker provider finds it) copied into the nodes' engines over the cluster's SSH connections, skipping nodes
 * that hold the same image already.
 *
 * Each node gets its own `docker save` stream from the local engine, piped into its engine's POST /images/load:
 * nothing is written to disk, a slow or failing node never holds the others back (one save teed to N nodes would
 * move at the slowest node's pace and needs care when one branch fails), and the cost, the local engine reading the
 * image once per node, is local disk reads. At most LOAD_CONCURRENCY nodes load at once.
 */

const LOAD_CONCURRENCY = 4;
/** One node's load, upload and the engine's unpacking together (the idle watchdog in image-load.ts acts sooner). */
const LOAD_DEADLINE_MS = 30 * 60_000;
const LOCAL_API_MS = 60_000;
/** The local engine's answer to docker save: it exports the images before the first byte. */
const SAVE_ANSWER_MS = 10 * 60_000;

export interface ImageLoadRow {
  node: string;
  image: string;
  status: 'loaded' | 'present';
  id: string;
}

interface LocalEngine {
  docker: Docker;
  /** How it was found, for messages. */
  described: string;
  store: ImageStore;
  images: Map<string, ImageFacts>;
}

interface NodeRead {
  handle: HostHandle;
  role: 'manager' | 'worker';
  store: ImageStore;
  images: Map<string, ImageFacts | undefined>;
}

/** Load the images (normalised refs, imageRefs) into the selected nodes; a failed node is named, the others go on. */
export async function loadImages(
  ctx: PlaybookContext,
  refs: string[],
  selection: NodeSelection,
): Promise<ImageLoadRow[]> {
  const local = await readLocal(ctx, refs);
  const hosts = await ctx.provider.reach();
  const c = ctx.withHosts(hosts);
  const named = selectNodes(
    hosts.map((h) => ({ name: h.name, role: c.roleOf(h) })),
    selection.nodes ? { nodes: selection.nodes } : {},
    ctx.cluster.name,
  );
  const { read, failures } = await readNodes(c, named, refs);
  // The role as the swarm has it (a node promoted since up is a manager); a node that did not answer: as configured.
  const chosen = selectNodes(
    [
      ...read.map((n) => ({ name: n.handle.name, role: n.role })),
      ...failures.map((f) => ({ name: f.host, role: c.roleOf(machineOf(hosts, f.host)) })),
    ],
    selection.role ? { role: selection.role } : {},
    ctx.cluster.name,
  );
  const errors: unknown[] = failures.filter((f) => chosen.includes(f.host));
  const nodes = read.filter((n) => chosen.includes(n.handle.name));
  const plan = planImageLoad(
    local,
    nodes.map((n) => ({ name: n.handle.name, store: n.store, images: n.images })),
  );
  const rows: ImageLoadRow[] = [];
  const report = (row: ImageLoadRow) => {
    rows.push(row);
    if (ctx.reporter.json) ctx.reporter.emit({ event: 'image', ...row });
    else
      ctx.reporter.emit({
        event: 'log',
        host: row.node,
        message: `${row.image} ${row.status === 'loaded' ? 'loaded' : 'already present'} (${row.id})`,
      });
  };
  for (const p of plan)
    for (const image of p.present)
      report({
        node: p.node,
        image,
        status: 'present',
        id: nodes.find((n) => n.handle.name === p.node)!.images.get(image)!.id,
      });
  const toLoad = plan.filter((p) => p.missing.length > 0);
  if (toLoad.length > 0) {
    try {
      await copyToNodes(c, local, nodes, toLoad, report);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw combineErrors(errors);
  return rows;
}

function machineOf(hosts: readonly Machine[], name: string): Machine {
  return hosts.find((h) => h.name === name)!;
}

/** The local engine and what it holds under each ref; a ref it does not hold is bad input (nothing copied). */
async function readLocal(ctx: PlaybookContext, refs: string[]): Promise<LocalEngine> {
  const { describeEngine, dockerodeOptions, resolveEngine } = await import('../providers/docker/endpoint.ts');
  const engine = resolveEngine(ctx.cluster.docker?.context);
  const described = describeEngine(engine);
  const docker = withApiDeadline(
    new Docker(dockerodeOptions(engine) as Docker.DockerOptions),
    LOCAL_API_MS,
    `the local Docker engine (${engine.host})`,
  );
  const images = new Map<string, ImageFacts>();
  let store: ImageStore;
  try {
    store = await imageStore(docker);
    for (const ref of refs) {
      const facts = await imageOn(docker, ref);
      if (facts) images.set(ref, facts);
    }
  } catch (err) {
    throw new StepError('local engine', 'read the images', `${described}: ${errorMessage(err)}`);
  }
  const unknown = refs.filter((r) => !images.has(r));
  if (unknown.length > 0)
    throw new InputError(
      `image ${unknown.join(', ')}: not on the local Docker engine (${described}); nothing was copied`,
    );
  return { docker, described, store, images };
}

/** Every named node's engine: its store, its role in the swarm, what it holds under each ref. Failures collected. */
async function readNodes(
  c: PlaybookContext,
  names: string[],
  refs: string[],
): Promise<{ read: NodeRead[]; failures: StepError[] }> {
  const read: NodeRead[] = [];
  const failures: StepError[] = [];
  await c.step('image load: read the nodes', names, async (h) => {
    try {
      const docker = await h.docker();
      const info = (await docker.info()) as {
        DriverStatus?: Array<[string, string]>;
        Swarm?: { NodeID?: string; ControlAvailable?: boolean };
      };
      const images = new Map<string, ImageFacts | undefined>();
      for (const ref of refs) images.set(ref, await imageOn(docker, ref));
      const swarmRole = info.Swarm?.ControlAvailable ? 'manager' : info.Swarm?.NodeID ? 'worker' : undefined;
      read.push({
        handle: h,
        role: swarmRole ?? c.roleOf(h.host),
        store: await imageStore(docker),
        images,
      });
    } catch (err) {
      failures.push(
        err instanceof StepError
          ? err
          : new StepError(h.name, 'image load: read the node', errorMessage(err)),
      );
    }
  });
  return { read: names.flatMap((n) => read.filter((r) => r.handle.name === n)), failures };
}

/** One save stream per node into its engine, LOAD_CONCURRENCY at a time; each load checked by the IDs it gave. */
async function copyToNodes(
  c: PlaybookContext,
  local: LocalEngine,
  nodes: NodeRead[],
  toLoad: NodeLoad[],
  report: (row: ImageLoadRow) => void,
): Promise<void> {
  const slots = new Semaphore(LOAD_CONCURRENCY);
  const images = [...new Set(toLoad.flatMap((p) => p.missing))];
  await c.step(
    `image load: copy ${images.join(', ')}`,
    toLoad.map((p) => p.node),
    async (h) => {
      const missing = toLoad.find((p) => p.node === h.name)!.missing;
      const node = nodes.find((n) => n.handle.name === h.name)!;
      await slots.acquire();
      try {
        const docker = await h.docker();
        const stream = await at(h.name, 'docker save on the local engine', () =>
          saveImages(local.docker, missing, SAVE_ANSWER_MS),
        );
        await at(h.name, 'POST /images/load', () =>
          loadImageStream(docker, stream, { deadlineMs: LOAD_DEADLINE_MS }),
        );
        c.changed();
        for (const ref of missing) {
          const now = await at(h.name, `check ${ref}`, () => imageOn(docker, ref));
          if (
            !sameImage(
              { store: local.store, image: local.images.get(ref)! },
              { store: node.store, image: now },
            )
          )
            throw new StepError(
              h.name,
              `image load: check ${ref}`,
              `loaded, but the node reports ${now?.id ?? 'no image'} where the local engine has ` +
                `${local.images.get(ref)!.id} (was ${ref} rebuilt meanwhile? run image load again)`,
            );
          report({ node: h.name, image: ref, status: 'loaded', id: now!.id });
        }
      } finally {
        slots.release();
      }
    },
  );
}

/** A sub-step of a node's load: a failure names the host, the sub-step and the cause. */
async function at<T>(host: string, step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError) throw err;
    throw new StepError(host, `image load: ${step}`, errorMessage(err));
  }
}
