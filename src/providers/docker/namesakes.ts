import { CLUSTER_LABEL, OWNER_LABEL } from './labels.ts';

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
