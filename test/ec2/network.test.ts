import {
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { clusterInstances, motoImage, routeToInternet } from '../support/aws.ts';
import { swarmup } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * Where instances land and whether swarmup can reach them, against moto's emulator (the stand-in for AWS), which
 * models subnets' MapPublicIpOnLaunch, route tables, interfaces asking for a public address, and per-zone
 * instance type offerings (t3.small is not offered in us-east-1e there, as on AWS).
 */
const aws = ec2Emulator();
const { ec2 } = aws;

const tag = (i: Instance, k: string) => i.Tags?.find((t) => t.Key === k)?.Value;

const instancesOf = (cluster: string) => aws.instances(cluster);

/** Nothing of the cluster exists in the emulator: no instance, security group or key pair. */
async function nothingOf(cluster: string): Promise<void> {
  const filter = [{ Name: 'tag:swarmup:cluster', Values: [cluster] }];
  expect(await instancesOf(cluster)).toEqual([]);
  expect((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filter }))).SecurityGroups).toEqual([]);
  expect((await ec2.send(new DescribeKeyPairsCommand({ Filters: filter }))).KeyPairs ?? []).toEqual([]);
}

/** A custom VPC (as under Organizations, with no default VPC) and one subnet that maps no public address. */
async function customSubnet(routed: 'gateway' | 'none'): Promise<string> {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'eu-west-1a' }),
    )
  ).Subnet!;
  expect(subnet.MapPublicIpOnLaunch).toBe(false);
  const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet.SubnetId! }));
  if (routed === 'gateway') await routeToInternet(ec2, vpc, table);
  return subnet.SubnetId!;
}

const up = (name: string, region: string, ...more: string[]) =>
  swarmup(
    aws.args('up', name, { ami: false }, '--until', 'provision', '--region', region, '--json', ...more),
    aws.env(),
  );

describe('ec2 networking and placement against the emulator', () => {
  aws.freshForEachTest();

  it('a custom VPC subnet that maps no public IPv4 but routes to an internet gateway: every instance gets a public IPv4', async () => {
    const subnet = await customSubnet('gateway');
    const r = await up(
      'net',
      'eu-west-1',
      '--ami',
      aws.ami,
      '--subnets',
      subnet,
      '--managers',
      '1',
      '--workers',
      '1',
    );
    expect(r.code, r.stderr).toBe(0);
    const list = await instancesOf('net');
    expect(list).toHaveLength(2);
    for (const i of list) {
      expect(i.SubnetId).toBe(subnet);
      expect(i.PublicIpAddress, tag(i, 'Name')).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      // On the interface that asked for the address (the emulator lists the groups there, not on the instance).
      expect(i.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupName)).toEqual(['swarmup-net']);
    }
  });

  it('a subnet not routed to an internet gateway and no --bastion: exit 2 saying what to pass, nothing created', async () => {
    const subnet = await customSubnet('none');
    const r = await up(
      'dark',
      'eu-west-1',
      '--ami',
      aws.ami,
      '--subnets',
      subnet,
      '--managers',
      '1',
      '--workers',
      '0',
    );
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`subnet ${subnet} (eu-west-1a) is not routed to an internet gateway`);
    expect(r.stderr).toContain('--bastion');
    await nothingOf('dark');
  });

  it('an unknown subnet id is bad input naming it, nothing created', async () => {
    const r = await up('nosub', 'eu-west-1', '--ami', aws.ami, '--subnets', 'subnet-0123456789abcdef0');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('subnet-0123456789abcdef0');
    await nothingOf('nosub');
  });

  it('5+2 t3.small in us-east-1: no instance in a zone that does not offer the type, managers over five zones', async () => {
    const east = aws.client('us-east-1');
    const r = await up(
      'spread',
      'us-east-1',
      '--ami',
      await motoImage(east),
      '--managers',
      '5',
      '--workers',
      '2',
    );
    expect(r.code, r.stderr).toBe(0);
    const list = await clusterInstances(east, 'spread');
    expect(list).toHaveLength(7);
    const zones = list.map((i) => i.Placement!.AvailabilityZone!);
    // The emulator's default VPC has a subnet in us-east-1e, where t3.small is not offered.
    expect(zones).not.toContain('us-east-1e');
    const managerZones = list
      .filter((i) => tag(i, 'swarmup:role') === 'manager')
      .map((i) => i.Placement!.AvailabilityZone!);
    expect(new Set(managerZones).size).toBe(5);
    expect(r.stdout + r.stderr).toContain('t3.small is not offered in us-east-1e');
  });
});
