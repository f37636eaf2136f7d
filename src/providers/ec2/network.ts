import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { Ec2Spec } from '../../config/cluster.ts';
import { errorMessage, InputError } from '../../errors.ts';
import type { AwsApi } from './aws.ts';
import { offeredSubnets } from './placement.ts';
import { internetRoute, judgeSubnets, type LaunchSubnet } from './subnet-check.ts';

export interface Network {
  vpcId: string;
  vpcCidr?: string;
  /** Subnets instances can go to and be reached in: in zones that offer the instance type. */
  subnets: LaunchSubnet[];
  /** Worth saying, not refusing (a subnet with no way out behind a bastion, zones left out). */
  notes: string[];
}

/**
 * Where instances go: the given subnets (one VPC), else the default VPC's default subnets, one per zone; each
 * checked (an IPv4 address, a route to an internet gateway unless a bastion is used) and kept only in zones that
 * offer the instance type. Anything that rules the run out is bad input, said before anything is created.
 */
export async function findNetwork(api: AwsApi, ec2: Ec2Spec): Promise<Network> {
  const { vpcId, vpcCidr, subnets } = await readSubnets(api, ec2);
  const [tables, offered] = await Promise.all([
    api.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })),
    offeredZones(api, ec2.instanceType),
  ]);
  const verdict = judgeSubnets(
    subnets.map((s) => ({
      id: s.SubnetId!,
      zone: s.AvailabilityZone!,
      mapsPublicIp: s.MapPublicIpOnLaunch === true,
      ipv6Native: s.Ipv6Native === true,
      internet: internetRoute(s.SubnetId!, vpcId, tables.RouteTables ?? []),
    })),
    { bastion: !!ec2.bastion },
  );
  if (verdict.refused.length > 0) throw new InputError(verdict.refused.join('; '));
  const placed = offeredSubnets(verdict.subnets, offered, ec2.instanceType);
  if (typeof placed === 'string') throw new InputError(placed);
  return {
    vpcId,
    ...(vpcCidr ? { vpcCidr } : {}),
    subnets: placed.subnets,
    notes: [...verdict.notes, ...placed.notes],
  };
}

/** The zones of the region where the instance type is offered. */
async function offeredZones(api: AwsApi, instanceType: string): Promise<Set<string>> {
  const zones = new Set<string>();
  let token: string | undefined;
  do {
    const r = await api.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [{ Name: 'instance-type', Values: [instanceType] }],
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const o of r.InstanceTypeOfferings ?? []) if (o.Location) zones.add(o.Location);
    token = r.NextToken;
  } while (token);
  return zones;
}

/** The IPv4 blocks of the VPC the instances go to (its primary block and any associated ones). */
export async function vpcCidrs(api: AwsApi, ec2: Ec2Spec): Promise<{ vpcId: string; cidrs: string[] }> {
  const { vpcId } = await readSubnets(api, ec2);
  const r = await api.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
  const vpc = r.Vpcs?.[0];
  const cidrs = new Set<string>(vpc?.CidrBlock ? [vpc.CidrBlock] : []);
  for (const a of vpc?.CidrBlockAssociationSet ?? [])
    if (a.CidrBlock && a.CidrBlockState?.State !== 'disassociated') cidrs.add(a.CidrBlock);
  return { vpcId, cidrs: [...cidrs] };
}

async function readSubnets(
  api: AwsApi,
  ec2: Ec2Spec,
): Promise<{ vpcId: string; vpcCidr?: string; subnets: Subnet[] }> {
  if (ec2.subnets?.length) {
    const r = await api.ec2
      .send(new DescribeSubnetsCommand({ SubnetIds: ec2.subnets }))
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === 'InvalidSubnetID.NotFound')
          throw new InputError(`--subnets: ${errorMessage(err)} in ${api.region}`);
        throw err;
      });
    const subnets = r.Subnets ?? [];
    const vpcs = new Set(subnets.map((s) => s.VpcId!));
    if (vpcs.size !== 1)
      throw new InputError(`--subnets: the subnets must be in one VPC (found ${[...vpcs].join(', ')})`);
    const vpcId = [...vpcs][0]!;
    const vpc = await api.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    const vpcCidr = vpc.Vpcs?.[0]?.CidrBlock;
    return { vpcId, ...(vpcCidr ? { vpcCidr } : {}), subnets };
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
  const subnets = r.Subnets ?? [];
  if (subnets.length === 0)
    throw new InputError(`the default VPC ${vpcId} has no default subnets: pass --subnets`);
  return { vpcId, ...(vpcCidr ? { vpcCidr } : {}), subnets };
}
