import { ensureOwner } from '../../state/owner.ts';

/** Every object the docker provider creates carries this label (design.md). */
export const CLUSTER_LABEL = 'swarmup.cluster';
export const NODE_LABEL = 'swarmup.node';
export const ROLE_LABEL = 'swarmup.role';
/** On the cluster network: the subnet swarmup chose for it (its nodes have fixed addresses in it). */
export const SUBNET_LABEL = 'swarmup.subnet';
/** The owner id of the state home that created the object (design.md); absent on objects of older swarmups. */
export const OWNER_LABEL = 'swarmup.owner';

export function clusterFilter(cluster: string): { label: string[] } {
  return { label: [`${CLUSTER_LABEL}=${cluster}`] };
}

/** Labels of a new object of this cluster: the cluster and this home's owner id (made now if there is none). */
export function createLabels(cluster: string): Record<string, string> {
  return { [CLUSTER_LABEL]: cluster, [OWNER_LABEL]: ensureOwner() };
}
