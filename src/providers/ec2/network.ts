import { DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type { Ec2Spec } from '../../config/cluster.ts';
import { InputError } from '../../errors.ts';
import type { AwsApi } from './aws.ts';

export interface Network {
  vpcId: string;
  vpcCidr?: string;
  subnets: Array<{ id: string; zone: string }>;
}

/** Where instances go: the given subnets (one VPC), else the default VPC's default subnets, one per zone. */
export async function findNetwork(api: AwsApi, ec2: Ec2Spec): Promise<Network> {
  if (ec2.subnets?.length) {
    const r = await api.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ec2.subnets }));
    const subnets = (r.Subnets ?? []).map((s) => ({
      id: s.SubnetId!,
      zone: s.AvailabilityZone!,
      vpc: s.VpcId!,
    }));
    const vpcs = new Set(subnets.map((s) => s.vpc));
    if (vpcs.size !== 1)
      throw new InputError(`--subnets: the subnets must be in one VPC (found ${[...vpcs].join(', ')})`);
    const vpc = await api.ec2.send(new DescribeVpcsCommand({ VpcIds: [...vpcs] }));
    const vpcCidr = vpc.Vpcs?.[0]?.CidrBlock;
    return {
      vpcId: [...vpcs][0]!,
      ...(vpcCidr ? { vpcCidr } : {}),
      subnets: subnets.map(({ id, zone }) => ({ id, zone })),
    };
  }
  const vpcs = await api.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  const vpcCidr = vpcs.Vpcs?.[0]?.CidrBlock;
  if (!vpcId) throw new InputError(`no default VPC in ${api.region}: pass --subnets`);
  const r = await api.ec2.send(
    new DescribeSubnetsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'default-for-az', Values: ['true'] },
      ],
    }),
  );
  const subnets = (r.Subnets ?? []).map((s) => ({ id: s.SubnetId!, zone: s.AvailabilityZone! }));
  if (subnets.length === 0)
    throw new InputError(`the default VPC ${vpcId} has no default subnets: pass --subnets`);
  return { vpcId, ...(vpcCidr ? { vpcCidr } : {}), subnets };
}
