import { DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, type Tag } from '@aws-sdk/client-ec2';
import { InputError } from '../../errors.ts';
import { readOwner } from '../../state/owner.ts';
import type { AwsApi } from './aws.ts';
import { CLUSTER_TAG, OWNER_TAG, tagValue } from './tags.ts';

/** A resource whose name is unique (a key pair in its region, a security group in its VPC). */
export interface NamedResource {
  kind: 'key pair' | 'security group';
  name: string;
  id?: string;
  tags?: Tag[];
}

/**
 * Of the resources bearing the names the cluster's own get, those this state home did not make for it (pure):
 * another home's cluster of the same name, an older swarmup's (no owner tag), or not swarmup's at all. One line
 * each, saying whose it is.
 */
export function foreignNamesakes(
  found: NamedResource[],
  cluster: string,
  owner: string | undefined,
): string[] {
  return found.flatMap((r) => {
    const c = tagValue(r.tags, CLUSTER_TAG);
    const o = tagValue(r.tags, OWNER_TAG);
    if (c === cluster && o !== undefined && o === owner) return [];
    const whose =
      c === undefined
        ? 'not made by swarmup'
        : o === undefined
          ? `cluster ${c}, no owner tag: made by an older swarmup`
          : o === owner
            ? `cluster ${c} of this state home`
            : `cluster ${c} of owner ${o}: another state home`;
    return [`${r.kind} ${r.name}${r.id ? ` (${r.id})` : ''}: ${whose}`];
  });
}

/**
 * Refused (bad input, before anything is made) when the key pair or security group name the cluster's own get is
 * taken by one this home did not make: importing or creating would fail half-way, and reusing it would hand this
 * home another's resource.
 */
export async function refuseNamesakes(
  api: AwsApi,
  cluster: string,
  resourceName: string,
  vpcId: string,
): Promise<void> {
  const [keys, groups] = await Promise.all([
    api.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [resourceName] }] })),
    api.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [resourceName] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    ),
  ]);
  const found: NamedResource[] = [
    ...(keys.KeyPairs ?? []).map((k) => ({
      kind: 'key pair' as const,
      name: k.KeyName ?? resourceName,
      ...(k.KeyPairId ? { id: k.KeyPairId } : {}),
      ...(k.Tags ? { tags: k.Tags } : {}),
    })),
    ...(groups.SecurityGroups ?? []).map((g) => ({
      kind: 'security group' as const,
      name: g.GroupName ?? resourceName,
      ...(g.GroupId ? { id: g.GroupId } : {}),
      ...(g.Tags ? { tags: g.Tags } : {}),
    })),
  ];
  const foreign = foreignNamesakes(found, cluster, readOwner());
  if (foreign.length === 0) return;
  throw new InputError(
    `cluster ${cluster}: EC2 ${api.region} has ${foreign.join('; ')}, which this state home did not make. ` +
      'Nothing was created. Use another --name, or remove the cluster where it was made ' +
      `(swarmup down in that state home; swarmup cleanup --provider ec2 --name ${cluster} --any-owner deletes another owner's)`,
  );
}
