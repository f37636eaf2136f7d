import type { Tag, TagSpecification } from '@aws-sdk/client-ec2';
import { ensureOwner, ownerScope } from '../../state/owner.ts';

/** Every EC2 resource swarmup makes carries this tag (design.md); instances and volumes also a role and a Name. */
export const CLUSTER_TAG = 'swarmup:cluster';
export const ROLE_TAG = 'swarmup:role';
/** The owner id of the state home that made the resource (design.md); absent on resources of older swarmups. */
export const OWNER_TAG = 'swarmup:owner';

/**
 * On an instance, the life token of the node it was named for (launch-token.ts): instances are launched in batches
 * under one ClientToken per batch (launch-batch.ts), so which life of its node an instance is says this tag,
 * written with its Name. Instances of older swarmups, launched one per node, have their node's token as ClientToken.
 */
export const LAUNCH_TAG = 'swarmup:launch';

/** Tags of a new resource; the owner id is this state home's (made now if there is none). */
export function tagsFor(cluster: string, name: string | undefined, role?: 'manager' | 'worker'): Tag[] {
  return [
    { Key: CLUSTER_TAG, Value: cluster },
    { Key: OWNER_TAG, Value: ensureOwner() },
    ...(name !== undefined ? [{ Key: 'Name', Value: name }] : []),
    ...(role ? [{ Key: ROLE_TAG, Value: role }] : []),
  ];
}

/** Tags given at creation (no Name for a batch of instances: theirs differ, and are written right after). */
export function tagSpec(
  type: 'instance' | 'volume' | 'security-group' | 'key-pair',
  cluster: string,
  name: string | undefined,
  role?: 'manager' | 'worker',
): TagSpecification {
  return { ResourceType: type, Tags: tagsFor(cluster, name, role) };
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/**
 * The one filter of every operation on a cluster's resources (list, reach, start, stop, remove one, remove all,
 * its key pair and security group): tagged for the cluster AND by this state home's owner id. Another home's
 * cluster of the same name, and resources of an older swarmup without an owner tag, are never listed, reached or
 * removed; only `cleanup` sees them (anyOwnerFilter).
 */
export const ownFilter = (cluster: string) => [
  { Name: `tag:${CLUSTER_TAG}`, Values: [cluster] },
  { Name: `tag:${OWNER_TAG}`, Values: [ownerScope()] },
];
/**
 * `cleanup` only: one cluster's resources, or any swarmup cluster's (the tag key must be present: an untagged
 * look-alike never matches), whatever their owner; each group is then judged by it.
 */
export const anyOwnerFilter = (cluster?: string) =>
  cluster
    ? [{ Name: `tag:${CLUSTER_TAG}`, Values: [cluster] }]
    : [{ Name: 'tag-key', Values: [CLUSTER_TAG] }];
