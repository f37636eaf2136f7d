import Docker from 'dockerode';
import { CLUSTER_LABEL } from './labels.ts';

export interface DockerClusterResources {
  cluster: string;
  containers: Array<{ id: string; name: string }>;
  volumes: string[];
  networks: Array<{ id: string; name: string }>;
}

/** Everything on the local engine labelled `swarmup.cluster` (never an unlabelled object), grouped by cluster. */
export async function listLabelled(
  docker: Docker,
  cluster?: string,
): Promise<Map<string, DockerClusterResources>> {
  const filters = { label: [cluster ? `${CLUSTER_LABEL}=${cluster}` : CLUSTER_LABEL] };
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
    of(c.Labels[CLUSTER_LABEL]).containers.push({ id: c.Id, name: c.Names[0]?.slice(1) ?? c.Id });
  for (const v of volumes.Volumes ?? []) of(v.Labels?.[CLUSTER_LABEL]).volumes.push(v.Name);
  for (const n of networks) of(n.Labels?.[CLUSTER_LABEL]).networks.push({ id: n.Id, name: n.Name });
  return byCluster;
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
      await docker.getVolume(v).remove();
      removed.push(`volume ${v}`);
    }),
  );
  for (const n of r.networks) {
    await docker.getNetwork(n.id).remove();
    removed.push(`network ${n.name}`);
  }
  return removed;
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
