import type { Tag, TagSpecification } from '@aws-sdk/client-ec2';
import { ensureOwner } from '../../state/owner.ts';

/** Every EC2 resource swarmup makes carries this tag (design.md); instances and volumes also a role and a Name. */
export const CLUSTER_TAG = 'swarmup:cluster';
export const ROLE_TAG = 'swarmup:role';
/** The owner id of the state home that made the resource (design.md); absent on resources of older swarmups. */
export const OWNER_TAG = 'swarmup:owner';

/** Tags of a new resource; the owner id is this state home's (made now if there is none). */
export function tagsFor(cluster: string, name: string, role?: 'manager' | 'worker'): Tag[] {
  return [
    { Key: CLUSTER_TAG, Value: cluster },
    { Key: OWNER_TAG, Value: ensureOwner() },
    { Key: 'Name', Value: name },
    ...(role ? [{ Key: ROLE_TAG, Value: role }] : []),
  ];
}

export function tagSpec(
  type: 'instance' | 'volume' | 'security-group' | 'key-pair',
  cluster: string,
  name: string,
  role?: 'manager' | 'worker',
): TagSpecification {
  return { ResourceType: type, Tags: tagsFor(cluster, name, role) };
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export const clusterFilter = (cluster: string) => [{ Name: `tag:${CLUSTER_TAG}`, Values: [cluster] }];
/** Any resource of any swarmup cluster: the tag key must be present (an untagged look-alike never matches). */
export const anyClusterFilter = [{ Name: 'tag-key', Values: [CLUSTER_TAG] }];
