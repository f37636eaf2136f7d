import { ensureOwner, ownerScope } from '../../state/owner.ts';

/** Every object the docker provider creates carries this label (design.md). */
export const CLUSTER_LABEL = 'swarmup.cluster';
export const NODE_LABEL = 'swarmup.node';
export const ROLE_LABEL = 'swarmup.role';
/** On the cluster network: the subnet swarmup chose for it (its nodes have fixed addresses in it). */
export const SUBNET_LABEL = 'swarmup.subnet';
/** The owner id of the state home that created the object (design.md); absent on objects of older swarmups. */
export const OWNER_LABEL = 'swarmup.owner';

/**
 * The one filter of every operation on a cluster's objects (list, reach, start, stop, remove one, remove all):
 * labelled for the cluster AND made by this state home (its owner id). Another home's cluster of the same name,
 * and objects of an older swarmup without an owner label, are never listed, reached or removed; only `cleanup`
 * sees them (anyOwnerFilter).
 */
export function ownFilter(cluster: string, ...more: string[]): { label: string[] } {
  return { label: [`${CLUSTER_LABEL}=${cluster}`, `${OWNER_LABEL}=${ownerScope()}`, ...more] };
}

/** `cleanup` only: objects of one cluster (or of every cluster) whatever their owner, each then judged by it. */
export function anyOwnerFilter(cluster?: string): { label: string[] } {
  return { label: [cluster ? `${CLUSTER_LABEL}=${cluster}` : CLUSTER_LABEL] };
}

/** Labels of a new object of this cluster: the cluster and this home's owner id (made now if there is none). */
export function createLabels(cluster: string): Record<string, string> {
  return { [CLUSTER_LABEL]: cluster, [OWNER_LABEL]: ensureOwner() };
}
