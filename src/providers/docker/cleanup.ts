import Docker from 'dockerode';
import { CLUSTER_LABEL, OWNER_LABEL } from './labels.ts';
import { groupByOwner } from '../owner-groups.ts';

export interface DockerClusterResources {
  cluster: string;
  /** Set on a group of one owner (see byOwner): its `swarmup.owner`, or undefined (made by an older swarmup). */
  owner?: string;
  containers: Array<{ id: string; name: string; owner?: string }>;
  volumes: Array<{ name: string; owner?: string }>;
  networks: Array<{ id: string; name: string; owner?: string }>;
}

const ownerOf = (labels: Record<string, string> | undefined) =>
  labels?.[OWNER_LABEL] ? { owner: labels[OWNER_LABEL] } : {};

/**
 * Everything on the local engine the filter selects (ownFilter: one cluster of this home; anyOwnerFilter, for
 * `cleanup`: labelled `swarmup.cluster`, never an unlabelled object), grouped by cluster.
 */
export async function listLabelled(
  docker: Docker,
  filters: { label: string[] },
): Promise<Map<string, DockerClusterResources>> {
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
    docker.listNetworks({ filters }),
  ]);
  const byCluster = new Map<string, DockerClusterResources>();
  const of = (name: string | undefined) => {
    const c = name ?? '';
    if (!byCluster.has(c)) byCluster.set(c, { cluster: c, containers: [], volumes: [], networks: [] });
    return byCluster.get(c)!;
  };
  for (const c of containers)
    of(c.Labels[CLUSTER_LABEL]).containers.push({
      id: c.Id,
      name: c.Names[0]?.slice(1) ?? c.Id,
      ...ownerOf(c.Labels),
    });
  for (const v of volumes.Volumes ?? [])
    of(v.Labels?.[CLUSTER_LABEL]).volumes.push({ name: v.Name, ...ownerOf(v.Labels ?? undefined) });
  for (const n of networks)
    of(n.Labels?.[CLUSTER_LABEL]).networks.push({ id: n.Id, name: n.Name, ...ownerOf(n.Labels) });
  return byCluster;
}

/** One cluster's resources split by their `swarmup.owner` (two state homes may both have made a cluster "lab"). */
export function byOwner(r: DockerClusterResources): DockerClusterResources[] {
  return groupByOwner(r, ['containers', 'volumes', 'networks']);
}

/** Remove one cluster's containers (with their engines' data), then its volumes, then its networks. */
export async function removeLabelled(docker: Docker, r: DockerClusterResources): Promise<string[]> {
  const removed: string[] = [];
  await Promise.all(
    r.containers.map(async (c) => {
      await docker.getContainer(c.id).remove({ force: true, v: true });
      removed.push(`container ${c.name}`);
    }),
  );
  await Promise.all(
    r.volumes.map(async (v) => {
      await docker.getVolume(v.name).remove();
      removed.push(`volume ${v.name}`);
    }),
  );
  for (const n of r.networks) {
    await docker.getNetwork(n.id).remove();
    removed.push(`network ${n.name}`);
  }
  return removed;
}

/** What removeLabelled removes, one line per kind, every name spelled out (what `down` asks about). */
export function removalLines(r: DockerClusterResources): string[] {
  // In name order, not the engine's listing order: two previews (a dry run, then the question) read the same.
  const names = (xs: Array<{ name: string }>) =>
    xs
      .map((x) => x.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .join(', ');
  return [
    r.containers.length > 0 && `containers: ${names(r.containers)}`,
    r.volumes.length > 0 && `volumes: ${names(r.volumes)}`,
    r.networks.length > 0 && `network: ${names(r.networks)}`,
  ].filter((l): l is string => typeof l === 'string');
}

export function describeLabelled(r: DockerClusterResources): string {
  return [
    r.containers.length &&
      `${r.containers.length} container${r.containers.length === 1 ? '' : 's'} (${r.containers.map((c) => c.name).join(', ')})`,
    r.volumes.length && `${r.volumes.length} volume${r.volumes.length === 1 ? '' : 's'}`,
    r.networks.length && `network ${r.networks.map((n) => n.name).join(', ')}`,
  ]
    .filter(Boolean)
    .join('; ');
}
