import { InputError } from '../errors.ts';

/**
 * `swarmup image load`, the pure part: which images the user named, which nodes get them, and for each node which
 * images it already holds. No I/O: the facts come from the engines (image-load.ts), the decision is made here.
 */

/** Where an engine keeps its images: the classic store (graph drivers) or containerd's (the snapshotters). */
export type ImageStore = 'classic' | 'containerd';

/** What an engine says of one image (GET /images/{ref}/json), as far as identity goes. */
export interface ImageFacts {
  /** The image ID: the config's digest on the classic store, the manifest's (or index's) on containerd's. */
  id: string;
  /** RootFS.Layers: the layers' diff IDs, the same on both stores. */
  layers: string[];
  created: string;
  arch: string;
  os: string;
  /** What a container of it runs (command, environment, labels, ...), as canonical JSON: the same on both stores. */
  runConfig: string;
}

/** An image the user named, as the engines are asked for it: a tag defaults to `latest`, as `docker run` reads it. */
export function normaliseImageRef(given: string): string {
  const ref = given.trim();
  if (ref === '' || /\s/.test(ref)) throw new InputError(`image "${given}": not an image reference`);
  // An image ID (long or short) or a digest reference names one image already.
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || ref.includes('@')) return ref;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? ref : `${ref}:latest`;
}

/** The images named, each once, in the order given. */
export function imageRefs(given: string[]): string[] {
  if (given.length === 0) throw new InputError('image load: name at least one image');
  return [...new Set(given.map(normaliseImageRef))];
}

/** `--nodes a,b`: the names, each once (an empty name is bad input). */
export function parseNodeList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => n === ''))
    throw new InputError(`--nodes ${value}: a comma-separated list of node names, none empty`);
  return [...new Set(names)];
}

export interface NodeSelection {
  nodes?: string[];
  role?: 'manager' | 'worker';
}

/**
 * The nodes a selection names, in the cluster's order: every node, or those `--nodes` names (an unknown name is
 * bad input naming it and the nodes there are), then only those of `--role`'s role (none left: bad input).
 */
export function selectNodes(
  all: Array<{ name: string; role: 'manager' | 'worker' }>,
  sel: NodeSelection,
  cluster: string,
): string[] {
  if (sel.nodes) {
    const unknown = sel.nodes.filter((n) => !all.some((h) => h.name === n));
    if (unknown.length > 0)
      throw new InputError(
        `--nodes: ${cluster} has no node named ${unknown.join(', ')} (its nodes: ${all.map((h) => h.name).join(', ') || 'none'})`,
      );
  }
  const chosen = all.filter(
    (h) => (!sel.nodes || sel.nodes.includes(h.name)) && (!sel.role || h.role === sel.role),
  );
  if (chosen.length === 0) {
    const among = sel.nodes ? ` among ${sel.nodes.join(', ')}` : '';
    throw new InputError(`${cluster}: no ${sel.role ? `${sel.role} ` : ''}node${among} to load images into`);
  }
  return chosen.map((h) => h.name);
}

/**
 * Whether a node holds the same image as the local engine. On two engines of one store the same image has the same
 * ID (an ID is a digest of content): equal IDs, the same image; different IDs, another one. Across stores the same
 * image has two IDs (the config's digest on the classic store, the manifest's on containerd's, as the smoke test
 * found loading its own image): then the content is compared, layers, creation time, platform and run config. Pure.
 */
export function sameImage(
  local: { store: ImageStore; image: ImageFacts },
  node: { store: ImageStore; image: ImageFacts | undefined },
): boolean {
  const a = local.image;
  const b = node.image;
  if (!b) return false;
  if (a.id === b.id) return true;
  if (local.store === node.store) return false;
  return (
    a.layers.length === b.layers.length &&
    a.layers.every((l, i) => l === b.layers[i]) &&
    a.created === b.created &&
    a.arch === b.arch &&
    a.os === b.os &&
    a.runConfig === b.runConfig
  );
}

/** One node's part of the load: the images it lacks (to copy) and those it holds already. */
export interface NodeLoad {
  node: string;
  missing: string[];
  present: string[];
}

/** For every node, which of the images it lacks. Pure. */
export function planImageLoad(
  local: { store: ImageStore; images: Map<string, ImageFacts> },
  nodes: Array<{ name: string; store: ImageStore; images: Map<string, ImageFacts | undefined> }>,
): NodeLoad[] {
  return nodes.map((n) => {
    const refs = [...local.images.keys()];
    const holds = (ref: string) =>
      sameImage(
        { store: local.store, image: local.images.get(ref)! },
        { store: n.store, image: n.images.get(ref) },
      );
    return { node: n.name, missing: refs.filter((r) => !holds(r)), present: refs.filter(holds) };
  });
}

/** The store an engine uses, from its /info: `driver-type io.containerd.snapshotter.v1` in DriverStatus. Pure. */
export function imageStoreOf(info: { DriverStatus?: Array<[string, string]> | null }): ImageStore {
  return (info.DriverStatus ?? []).some(
    ([k, v]) => k === 'driver-type' && v.startsWith('io.containerd.snapshotter'),
  )
    ? 'containerd'
    : 'classic';
}

/** The fields of an image's config that say what its containers run, in both stores' inspect. */
const RUN_CONFIG_KEYS = [
  'Cmd',
  'Entrypoint',
  'Env',
  'ExposedPorts',
  'Healthcheck',
  'Labels',
  'OnBuild',
  'StopSignal',
  'User',
  'Volumes',
  'WorkingDir',
] as const;

/** The run config as canonical JSON: the keys above in order, an empty value ('', null, [], {}) as absent. Pure. */
export function runConfigOf(config: Record<string, unknown> | null | undefined): string {
  const empty = (v: unknown) =>
    v === undefined ||
    v === null ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        )
      : v;
  return JSON.stringify(
    Object.fromEntries(
      RUN_CONFIG_KEYS.filter((k) => !empty(config?.[k])).map((k) => [k, sorted(config![k])]),
    ),
  );
}

/** The identity facts of an image inspect (GET /images/{ref}/json). Pure. */
export function imageFactsOf(inspect: {
  Id?: string;
  RootFS?: { Layers?: string[] | null };
  Created?: string;
  Architecture?: string;
  Os?: string;
  Config?: Record<string, unknown> | null;
}): ImageFacts {
  return {
    id: inspect.Id ?? '',
    layers: inspect.RootFS?.Layers ?? [],
    created: inspect.Created ?? '',
    arch: inspect.Architecture ?? '',
    os: inspect.Os ?? '',
    runConfig: runConfigOf(inspect.Config),
  };
}
