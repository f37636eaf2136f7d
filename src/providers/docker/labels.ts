/** Every object the docker provider creates carries this label (design.md). */
export const CLUSTER_LABEL = 'swarmup.cluster';
export const NODE_LABEL = 'swarmup.node';
export const ROLE_LABEL = 'swarmup.role';

export function clusterFilter(cluster: string): { label: string[] } {
  return { label: [`${CLUSTER_LABEL}=${cluster}`] };
}
