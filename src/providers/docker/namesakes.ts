import type Docker from 'dockerode';
import { InputError } from '../../errors.ts';
import { readOwner } from '../../state/owner.ts';
import { swarmupHome } from '../../state/store.ts';
import { anyOwnerFilter, CLUSTER_LABEL, OWNER_LABEL } from './labels.ts';

/** An object of the engine as its listing shows it. */
export interface EngineObject {
  kind: 'container' | 'volume' | 'network';
  name: string;
  labels?: Record<string, string> | null;
}

/** The names the docker provider gives a cluster's objects: one container and one volume per node, one network. */
export function namesOf(cluster: string, nodes: string[]): Record<EngineObject['kind'], string[]> {
  return {
    container: nodes,
    volume: nodes.map((n) => `${n}-docker`),
    network: [`swarmup-${cluster}`],
  };
}

/**
 * The objects a run of this state home must not make or adopt (pure): labelled for the cluster, or carrying one of
 * the names the cluster's objects get (container names are the node names, so they are one per engine), but not
 * made by this home (another owner, no owner label, or not by swarmup at all). Creating the cluster beside them
 * would collide by name, or worse adopt them (a volume of that name is handed back as it is); so `up` refuses,
 * naming them, before changing anything. One line each, saying whose it is.
 */
export function foreignNamesakes(
  objects: EngineObject[],
  cluster: string,
  owner: string | undefined,
  names: Record<EngineObject['kind'], string[]>,
): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const o of objects) {
    const labels = o.labels ?? {};
    const related = labels[CLUSTER_LABEL] === cluster || names[o.kind].includes(o.name);
    if (!related) continue;
    const theirs = labels[OWNER_LABEL];
    if (theirs !== undefined && theirs === owner && labels[CLUSTER_LABEL] === cluster) continue;
    const key = `${o.kind} ${o.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const whose =
      labels[CLUSTER_LABEL] === undefined
        ? 'not made by swarmup'
        : theirs === undefined
          ? `cluster ${labels[CLUSTER_LABEL]}, no owner label: made by an older swarmup`
          : theirs === owner
            ? `cluster ${labels[CLUSTER_LABEL]} of this state home`
            : `cluster ${labels[CLUSTER_LABEL]} of owner ${theirs}: another state home`;
    out.push(`${key} (${whose})`);
  }
  return out;
}

/**
 * Refused (bad input, nothing changed) when the engine has objects labelled for this cluster or named as its
 * objects are that this state home did not make: another home's cluster of the same name (two CI jobs with the
 * default name on one engine), an older swarmup's, or not swarmup's at all.
 */
export async function refuseNamesakes(
  d: Docker,
  cluster: string,
  nodes: string[],
  /** The engine, as messages name it. */
  engine: string,
): Promise<void> {
  const names = namesOf(cluster, nodes);
  // By label (any owner), and by name: the engine matches a name filter as a part of the name (names are made of
  // [a-z0-9-], the same read as a pattern), so each exact name is among what it returns.
  const byLabel = anyOwnerFilter(cluster);
  const [containers, volumes, networks] = await Promise.all([
    Promise.all(
      [byLabel, { name: names.container }].map((filters) => d.listContainers({ all: true, filters })),
    ),
    Promise.all([byLabel, { name: names.volume }].map((filters) => d.listVolumes({ filters }))),
    Promise.all([byLabel, { name: names.network }].map((filters) => d.listNetworks({ filters }))),
  ]);
  const objects: EngineObject[] = [
    ...containers.flat().map((c) => ({
      kind: 'container' as const,
      name: c.Names[0]?.slice(1) ?? c.Id,
      labels: c.Labels,
    })),
    ...volumes
      .flatMap((v) => v.Volumes ?? [])
      .map((v) => ({ kind: 'volume' as const, name: v.Name, labels: v.Labels })),
    ...networks.flat().map((n) => ({ kind: 'network' as const, name: n.Name, labels: n.Labels })),
  ];
  const foreign = foreignNamesakes(objects, cluster, readOwner(), names);
  if (foreign.length === 0) return;
  throw new InputError(
    `cluster ${cluster}: the Docker engine at ${engine} has ${foreign.length === 1 ? 'an object' : 'objects'} ` +
      `of its names that this state home (${swarmupHome()}) did not make: ${foreign.join('; ')}. ` +
      'Nothing was changed. Use another --name, or remove them where they were made ' +
      `(swarmup down in that state home; swarmup cleanup --provider docker --name ${cluster} --any-owner deletes another owner's)`,
  );
}
