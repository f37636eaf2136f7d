import type { RouteTable } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { runInstancesInput, zoneAttemptToken } from '../../src/providers/ec2/launch.ts';
import { offeredSubnets, zonesToTry } from '../../src/providers/ec2/placement.ts';
import { internetRoute, judgeSubnets, type SubnetFacts } from '../../src/providers/ec2/subnet-check.ts';

const table = (
  vpc: string,
  assoc: RouteTable['Associations'],
  target: Record<string, string>,
): RouteTable => ({
  VpcId: vpc,
  Associations: assoc,
  Routes: [
    { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
    { DestinationCidrBlock: '0.0.0.0/0', State: 'active', ...target },
  ],
});

describe("a subnet's way to the internet", () => {
  const main = table('vpc-1', [{ Main: true }], { GatewayId: 'igw-1' });
  const privateTable = table('vpc-1', [{ SubnetId: 'subnet-p' }], { NatGatewayId: 'nat-1' });
  const isolated: RouteTable = { VpcId: 'vpc-1', Associations: [{ SubnetId: 'subnet-i' }], Routes: [] };
  const otherVpc = table('vpc-2', [{ SubnetId: 'subnet-x' }], { GatewayId: 'igw-2' });

  it("the explicitly associated table decides, else the VPC's main table", () => {
    const tables = [main, privateTable, isolated, otherVpc];
    expect(internetRoute('subnet-a', 'vpc-1', tables)).toBe('gateway');
    expect(internetRoute('subnet-p', 'vpc-1', tables)).toBe('nat');
    expect(internetRoute('subnet-i', 'vpc-1', tables)).toBe('none');
    // A table of another VPC never applies.
    expect(internetRoute('subnet-x', 'vpc-1', [otherVpc])).toBe('none');
  });

  it('a blackholed default route is no way out', () => {
    const dead = table('vpc-1', [{ Main: true }], { GatewayId: 'igw-1', State: 'blackhole' });
    expect(internetRoute('subnet-a', 'vpc-1', [dead])).toBe('none');
  });
});

describe('which subnets swarmup launches into', () => {
  const s = (over: Partial<SubnetFacts>): SubnetFacts => ({
    id: 'subnet-1',
    zone: 'eu-west-1a',
    mapsPublicIp: true,
    ipv6Native: false,
    internet: 'gateway',
    ...over,
  });

  it('routed to a gateway: used; a public IPv4 is asked for only where the subnet would not map one', () => {
    const v = judgeSubnets([s({}), s({ id: 'subnet-2', mapsPublicIp: false })], { bastion: false });
    expect(v.refused).toEqual([]);
    expect(v.subnets.map((x) => [x.id, x.askPublicIp])).toEqual([
      ['subnet-1', false],
      ['subnet-2', true],
    ]);
  });

  it('without a bastion, a subnet behind NAT only or with no way out is refused, saying what to pass', () => {
    const v = judgeSubnets([s({ internet: 'nat' }), s({ id: 'subnet-2', internet: 'none' })], {
      bastion: false,
    });
    expect(v.subnets).toEqual([]);
    expect(v.refused).toEqual([
      'subnets subnet-1 (eu-west-1a, NAT only), subnet-2 (eu-west-1a) are not routed to an internet gateway, so instances there cannot be reached over SSH from here: pass --bastion [user@]host (a jump host in that VPC) or --subnets routed to an internet gateway',
    ]);
  });

  it('with a bastion, private subnets are used as they are, and one with no way out is noted', () => {
    const v = judgeSubnets(
      [s({ internet: 'nat', mapsPublicIp: false }), s({ id: 'subnet-2', internet: 'none' })],
      {
        bastion: true,
      },
    );
    expect(v.refused).toEqual([]);
    expect(v.subnets.every((x) => !x.askPublicIp)).toBe(true);
    expect(v.notes).toEqual([
      expect.stringContaining('subnet subnet-2 (eu-west-1a) is not routed to the internet'),
    ]);
  });

  it('an IPv6-only subnet is refused, bastion or not (Swarm and SSH need IPv4)', () => {
    for (const bastion of [false, true]) {
      const v = judgeSubnets([s({ ipv6Native: true })], { bastion });
      expect(v.refused).toEqual([expect.stringContaining('subnet subnet-1 (eu-west-1a) is IPv6-only')]);
    }
  });

  it('only zones that offer the instance type; none left is bad input naming the type and the zones', () => {
    const subnets = ['a', 'b', 'e'].map((z) => ({
      id: `subnet-${z}`,
      zone: `us-east-1${z}`,
      askPublicIp: false,
    }));
    const kept = offeredSubnets(subnets, new Set(['us-east-1a', 'us-east-1b', 'us-east-1c']), 't3.small');
    expect(kept).toEqual({
      subnets: subnets.slice(0, 2),
      notes: ['t3.small is not offered in us-east-1e: no node goes there'],
    });
    expect(offeredSubnets(subnets.slice(2), new Set(['us-east-1a']), 'p5.48xlarge')).toBe(
      'instance type p5.48xlarge is not offered in zone us-east-1e of the subnets: pass --instance-type with a type offered there, or --subnets in other zones',
    );
  });
});

describe('launching a batch of nodes', () => {
  const request = (askPublicIp: boolean) =>
    runInstancesInput({
      cluster: 'lab',
      role: 'manager',
      count: 3,
      instanceType: 't3.small',
      diskGiB: 20,
      image: {
        imageId: 'ami-1',
        user: 'ubuntu',
        rootDevice: '/dev/sda1',
        family: 'ubuntu',
        engine: { source: 'docker-ce' },
      },
      keyName: 'swarmup-lab',
      securityGroupId: 'sg-1',
      subnet: { id: 'subnet-1', zone: 'eu-west-1a', askPublicIp },
      token: 'swarmup-abc',
    });

  it('count instances at once, all or none (a zone short of capacity refuses the batch whole), tagged at creation but for their Names', () => {
    const i = request(false);
    expect([i.MinCount, i.MaxCount]).toEqual([3, 3]);
    for (const spec of i.TagSpecifications!) {
      expect(spec.Tags!.map((t) => t.Key)).toEqual(['swarmup:cluster', 'swarmup:owner', 'swarmup:role']);
      expect(spec.Tags!.find((t) => t.Key === 'swarmup:role')!.Value).toBe('manager');
    }
    expect(i.TagSpecifications!.map((t) => t.ResourceType)).toEqual(['instance', 'volume']);
  });

  it('where the subnet maps a public address: the subnet and group on the instance', () => {
    const i = request(false);
    expect(i.SubnetId).toBe('subnet-1');
    expect(i.SecurityGroupIds).toEqual(['sg-1']);
    expect(i.NetworkInterfaces).toBeUndefined();
  });

  it('where it does not: the primary interface asks for a public IPv4, with the group on it', () => {
    const i = request(true);
    expect(i.SubnetId).toBeUndefined();
    expect(i.SecurityGroupIds).toBeUndefined();
    expect(i.NetworkInterfaces).toEqual([
      {
        DeviceIndex: 0,
        SubnetId: 'subnet-1',
        Groups: ['sg-1'],
        AssociatePublicIpAddress: true,
        DeleteOnTermination: true,
      },
    ]);
  });

  it('after a capacity error, the other zones in turn, each attempt with its own token within 64 characters', () => {
    expect(zonesToTry('eu-west-1b', ['eu-west-1c', 'eu-west-1a', 'eu-west-1b'])).toEqual([
      'eu-west-1b',
      'eu-west-1c',
      'eu-west-1a',
    ]);
    const base = 'swarmup-' + 'f'.repeat(40);
    expect(zoneAttemptToken(base, 0)).toBe(base);
    const others = [1, 2, 3, 4, 5].map((k) => zoneAttemptToken(base, k));
    expect(new Set(others).size).toBe(5);
    for (const t of others) expect(t.length).toBeLessThanOrEqual(64);
  });
});
