import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client, type Instance } from '@aws-sdk/client-ec2';
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
  return { ec2: asEc2Client(send), ssm: { send } as never, region: 'eu-west-1', calls };
}

/** A stand-in `send` as an EC2Client to the SDK's paginators (which check the class): every call goes to `send`. */
export function asEc2Client(send: (...args: never[]) => unknown): never {
  return Object.assign(Object.create(EC2Client.prototype) as object, { send }) as never;
}

export const userShutdown = {
  StateReason: {
    Code: 'Client.UserInitiatedShutdown',
    Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
  },
};

/**
 * A stand-in EC2 that keeps instances and honours ClientToken as AWS does (the emulator ignores it): a token it has
 * seen launches nothing and hands back its instances, even terminated ones. `hidden` instances are not listed yet
 * (AWS's eventual consistency right after a launch, the window a crash falls in); a launch that hands them back
 * makes them listed again. DescribeInstances answers in pages of at most PAGE instances (as moto pages at its own
 * size, whatever MaxResults asks).
 */
const PAGE = 2;
export function standInEc2(before?: BeforeHook) {
  const instances = new Map<string, Instance>();
  const byToken = new Map<string, string[]>();
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
        let ids = byToken.get(token);
        if (ids) for (const id of ids) hidden.delete(id);
        else {
          ids = [];
          const tags = (i.TagSpecifications as Array<{ Tags: Array<{ Key: string; Value: string }> }>)[0]!
            .Tags;
          for (let k = 0; k < (i.MaxCount as number); k++) {
            const id = `i-${++launched}`;
            ids.push(id);
            instances.set(id, {
              InstanceId: id,
              ClientToken: token,
              AmiLaunchIndex: k,
              ImageId: i.ImageId as string,
              State: { Name: 'running' },
              PrivateIpAddress: `10.0.0.${launched}`,
              LaunchTime: new Date(Date.now() + launched),
              SubnetId: i.SubnetId as string,
              // The default VPC's subnet-0/1/2 are in eu-west-1a/b/c (defaultVpcHandlers).
              Placement: { AvailabilityZone: `eu-west-1${'abc'[Number(String(i.SubnetId).slice(7))]}` },
              Tags: [...tags],
            });
          }
          byToken.set(token, ids);
        }
        return { Instances: ids.map((id) => instances.get(id)) };
      },
      CreateTags: (i) => {
        for (const id of i.Resources as string[]) {
          const x = instances.get(id);
          if (!x) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
          const tags = i.Tags as Array<{ Key: string; Value: string }>;
          x.Tags = [...(x.Tags ?? []).filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
        }
        return {};
      },
      DescribeInstances: (i) => {
        const all = [...instances.values()].filter(
          (x) =>
            !hidden.has(x.InstanceId!) &&
            matches(x, (i.Filters as Array<{ Name: string; Values: string[] }>) ?? []),
        );
        const from = Number(i.NextToken ?? 0);
        const size = Math.min(PAGE, (i.MaxResults as number | undefined) ?? PAGE);
        return {
          Reservations: [{ Instances: all.slice(from, from + size) }],
          ...(from + size < all.length ? { NextToken: String(from + size) } : {}),
        };
      },
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
    /** The ClientTokens of the RunInstances calls, in order (one per batch launch, retries included). */
    runTokens: () => api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i.ClientToken as string),
    /** The life tokens the node's instances were named with (swarmup:launch), one per instance, oldest first. */
    tokensLaunched: (name: string) =>
      [...instances.values()].filter((x) => tag(x, 'Name') === name).map((x) => tag(x, 'swarmup:launch')!),
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
