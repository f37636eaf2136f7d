import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '@aws-sdk/client-ec2';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import type { AwsApi } from '../../src/providers/ec2/aws.ts';
import { wantedIngress } from '../../src/providers/ec2/security-group.ts';
import { ensureOwner } from '../../src/state/owner.ts';

/** Sees a call before its handler; throwing answers the call with that error. */
export type BeforeHook = (name: string, input: Record<string, unknown>) => void;

/** An AWS error as the SDK raises it: its code is the error's name. */
export const awsError = (code: string, message = code) => Object.assign(new Error(message), { name: code });

/** A default VPC as AWS makes it: three zones' default subnets, routed to an internet gateway, t3 offered. */
export const defaultVpcHandlers = {
  DescribeVpcs: () => ({ Vpcs: [{ VpcId: 'vpc-1', CidrBlock: '172.31.0.0/16' }] }),
  DescribeSubnets: () => ({
    Subnets: ['a', 'b', 'c'].map((z, i) => ({
      SubnetId: `subnet-${i}`,
      VpcId: 'vpc-1',
      AvailabilityZone: `eu-west-1${z}`,
      MapPublicIpOnLaunch: true,
    })),
  }),
  DescribeRouteTables: () => ({
    RouteTables: [
      {
        VpcId: 'vpc-1',
        Associations: [{ Main: true }],
        Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }],
      },
    ],
  }),
  DescribeInstanceTypes: () => ({
    InstanceTypes: [{ ProcessorInfo: { SupportedArchitectures: ['x86_64'] } }],
  }),
  DescribeInstanceTypeOfferings: () => ({
    InstanceTypeOfferings: ['a', 'b', 'c'].map((z) => ({ Location: `eu-west-1${z}` })),
  }),
};

/**
 * A stand-in AWS client for what the emulator (moto) does not do: it answers `send` per command name from a table
 * of handlers and records every call. Real AWS cannot be reached from these machines. `before` sees each call
 * (recorded already) before its handler and may throw, to answer it with an AWS error instead.
 */
export function standIn(
  handlers: Record<string, (input: Record<string, unknown>) => unknown>,
  before?: BeforeHook,
): AwsApi & { calls: Array<[string, Record<string, unknown>]> } {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    // DryRun (the permission check) is allowed, as AWS answers it, and changes nothing: not one of the calls.
    if (cmd.input.DryRun)
      throw Object.assign(new Error('Request would have succeeded, but DryRun flag is set.'), {
        name: 'DryRunOperation',
      });
    calls.push([name, cmd.input]);
    before?.(name, cmd.input);
    const h = handlers[name];
    if (!h) throw new Error(`stand-in: no handler for ${name}`);
    return h(cmd.input);
  };
  return { ec2: { send } as never, ssm: { send } as never, region: 'eu-west-1', calls };
}

export const userShutdown = {
  StateReason: {
    Code: 'Client.UserInitiatedShutdown',
    Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
  },
};

/**
 * A stand-in EC2 that keeps instances and honours ClientToken as AWS does (the emulator ignores it): a token it has
 * seen launches nothing and hands back its instance, even a terminated one. `hidden` instances are not listed yet
 * (AWS's eventual consistency right after a launch, the window a crash falls in); a launch that hands one back
 * makes it listed again.
 */
export function standInEc2(before?: BeforeHook) {
  const instances = new Map<string, Instance>();
  const byToken = new Map<string, string>();
  const hidden = new Set<string>();
  let launched = 0;
  const tag = (i: Instance, k: string) => i.Tags?.find((t) => t.Key === k)?.Value;
  const matches = (i: Instance, filters: Array<{ Name: string; Values: string[] }>) =>
    filters.every((f) => {
      if (f.Name === 'instance-state-name') return f.Values.includes(i.State!.Name!);
      if (f.Name === 'instance-id') return f.Values.includes(i.InstanceId!);
      if (f.Name.startsWith('tag:')) return f.Values.includes(tag(i, f.Name.slice(4)) ?? '');
      throw new Error(`stand-in: no filter ${f.Name}`);
    });
  const api = standIn(
    {
      DescribeImages: () => ({
        Images: [{ ImageId: 'ami-0abc', Name: 'ubuntu-noble', RootDeviceName: '/dev/sda1' }],
      }),
      ...defaultVpcHandlers,
      // The cluster's key pair and security group, made earlier from this state home (its owner id).
      DescribeKeyPairs: () => ({ KeyPairs: [{ KeyName: 'swarmup-lab', Tags: ownTags() }] }),
      DescribeVolumes: () => ({ Volumes: [] }),
      DescribeSecurityGroups: () => ({
        SecurityGroups: [
          {
            GroupId: 'sg-1',
            Tags: ownTags(),
            IpPermissions: wantedIngress('sg-1', ['203.0.113.7/32'], false),
          },
        ],
      }),
      RunInstances: (i) => {
        const token = i.ClientToken as string;
        let id = byToken.get(token);
        if (id) hidden.delete(id);
        else {
          id = `i-${++launched}`;
          byToken.set(token, id);
          const tags = (i.TagSpecifications as Array<{ Tags: Array<{ Key: string; Value: string }> }>)[0]!
            .Tags;
          instances.set(id, {
            InstanceId: id,
            ClientToken: token,
            ImageId: i.ImageId as string,
            State: { Name: 'running' },
            PrivateIpAddress: `10.0.0.${launched}`,
            LaunchTime: new Date(Date.now() + launched),
            SubnetId: i.SubnetId as string,
            Tags: tags,
          });
        }
        return { Instances: [instances.get(id)] };
      },
      DescribeInstances: (i) => ({
        Reservations: [
          {
            Instances: [...instances.values()].filter(
              (x) =>
                !hidden.has(x.InstanceId!) &&
                matches(x, (i.Filters as Array<{ Name: string; Values: string[] }>) ?? []),
            ),
          },
        ],
      }),
    },
    before,
  );
  return {
    api,
    instances,
    hidden,
    launched: () => launched,
    idOf: (name: string) =>
      [...instances.values()].filter((x) => tag(x, 'Name') === name && x.State!.Name !== 'terminated')[0]!
        .InstanceId!,
    /** What AWS does to an instance terminated from elsewhere (or that died while pending, with its reason). */
    terminate(id: string, reason = userShutdown.StateReason) {
      Object.assign(instances.get(id)!, { State: { Name: 'terminated' }, StateReason: reason });
    },
    tokensLaunched: (name: string) =>
      api.calls
        .filter(
          ([n, i]) =>
            n === 'RunInstances' &&
            (i.TagSpecifications as Array<{ Tags: Array<{ Key: string; Value: string }> }>)[0]!.Tags.some(
              (t) => t.Key === 'Name' && t.Value === name,
            ),
        )
        .map(([, i]) => i.ClientToken as string),
  };
}

/** The tags swarmup puts on a resource of cluster lab made from this state home. */
export const ownTags = () => [
  { Key: 'swarmup:cluster', Value: 'lab' },
  { Key: 'swarmup:owner', Value: ensureOwner() },
];

export function freshHome(): void {
  process.env.SWARMUP_HOME = mkdtempSync(join(tmpdir(), 'ec2-stand-in-'));
}

export const labSpec = (managers: number, workers: number) =>
  resolveCluster(undefined, {
    name: 'lab',
    provider: 'ec2',
    sshCidr: '203.0.113.7/32',
    ami: 'ami-0abc',
    managers: String(managers),
    workers: String(workers),
  });
