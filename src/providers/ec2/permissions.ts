import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteVolumeCommand,
  ImportKeyPairCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type IpPermission,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import type { PermissionCheck } from '../permission-report.ts';
import { SSH_RULE_DESCRIPTION } from './security-group.ts';
import { CLUSTER_TAG, OWNER_TAG, ROLE_TAG } from './tags.ts';

/**
 * Which changes the credentials may make, asked of EC2 before anything is made: each call swarmup makes that
 * creates or changes something, sent with `DryRun: true` and the run's own parameters. AWS answers
 * `DryRunOperation` when the call would have been allowed and `UnauthorizedOperation` when it is not; any other
 * answer (a placeholder id that does not exist, a duplicate name) means the permission was not reached.
 */

/** What came back for one call sent with DryRun. */
export type Answer =
  | { code: string }
  /** No error at all: the endpoint carried the call out (it ignored DryRun). */
  | { made: true }
  | { timedOut: true };

/**
 * What a call is about: `new` creates (nothing has to exist), `existing` acts on the cluster's own resource (its
 * tags are what a tag-conditioned policy looks at), `placeholder` on a well-formed id that exists nowhere, because
 * the cluster has no such resource yet.
 */
export type Target = 'new' | 'existing' | 'placeholder';

const DENIED = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException']);

/** One answer as allowed / denied / not checkable, with why. Pure. */
export function classify(
  answer: Answer,
  target: Target,
  deadlineMs: number,
): { status: PermissionCheck['status']; note?: string } {
  if ('timedOut' in answer)
    return { status: 'not-checkable', note: `no answer within ${Math.round(deadlineMs / 1000)} s` };
  if ('made' in answer) return { status: 'not-checkable', note: 'the endpoint ignored DryRun' };
  if (answer.code === 'DryRunOperation') return { status: 'allowed' };
  const none = 'the cluster has none yet, so a placeholder id was sent';
  if (DENIED.has(answer.code)) {
    // A placeholder carries no swarmup:cluster tag: a policy limited to tagged resources refuses it, rightly.
    if (target === 'placeholder')
      return {
        status: 'not-checkable',
        note: `${none}, and it was refused (as a policy limited to resources tagged ${CLUSTER_TAG} does)`,
      };
    return { status: 'denied' };
  }
  return {
    status: 'not-checkable',
    note: `AWS answered ${answer.code} before the permission${target === 'placeholder' ? ` (${none})` : ''}`,
  };
}

/**
 * A create call sent with TagSpecifications proves two actions: the call's own and ec2:CreateTags (tag on create,
 * ec2:CreateAction). Refused with tags, it is sent again without: allowed then, only ec2:CreateTags is missing.
 */
export function classifyTagged(
  probe: Pick<Probe, 'action' | 'call' | 'target'> & { note?: string },
  tagged: Answer,
  untagged: Answer | undefined,
  deadlineMs: number,
): PermissionCheck[] {
  const first = classify(tagged, probe.target, deadlineMs);
  const base = { how: 'dry-run' as const };
  const own = (status: PermissionCheck['status'], note?: string): PermissionCheck => ({
    ...base,
    action: probe.action,
    call: `${probe.call} (DryRun, with TagSpecifications)`,
    status,
    ...(note || probe.note ? { note: [probe.note, note].filter(Boolean).join('; ') } : {}),
  });
  const tags = (status: PermissionCheck['status'], note?: string): PermissionCheck => ({
    ...base,
    action: 'ec2:CreateTags',
    call: `${probe.call} (DryRun, with TagSpecifications: tag on create)`,
    status,
    ...(note ? { note } : {}),
  });
  if (first.status !== 'denied') return [own(first.status, first.note), tags(first.status, first.note)];
  const second = untagged ? classify(untagged, probe.target, deadlineMs) : undefined;
  if (second?.status === 'allowed') return [own('allowed'), tags('denied')];
  return [
    own('denied'),
    tags('not-checkable', `${probe.action} is denied even without tags, so tagging was never reached`),
  ];
}

/** The facts of the run the calls are built from. */
export interface ProbeFacts {
  cluster: string;
  /** `swarmup-<cluster>`: the security group's and the key pair's name. */
  resourceName: string;
  /** The state home's owner id (a placeholder when none was made yet: the check writes nothing). */
  owner: string;
  node: { name: string; role: 'manager' | 'worker' };
  vpcId: string;
  subnetId: string;
  /** The subnet maps no public IPv4: the launch asks for one on its interface (as `up` would). */
  askPublicIp?: boolean;
  image: { imageId: string; rootDevice: string };
  instanceType: string;
  diskGiB: number;
  /** An OpenSSH public key (the check's own throwaway key: the key itself is no part of the permission). */
  publicKey: string;
  /** The cluster's resources that exist now. */
  group?: { id: string; sshRule?: IpPermission };
  keyPair?: string;
  instanceId?: string;
  volumeId?: string;
}

/** One call of the check; `command(true)` carries the TagSpecifications of a create call. Every one has DryRun. */
export interface Probe {
  action: string;
  call: string;
  target: Target;
  tagsOnCreate: boolean;
  note?: string;
  command: (withTags: boolean) => { input: object };
}

/** Well-formed ids that exist nowhere, for resources the cluster does not have yet. */
export const PLACEHOLDER = {
  group: 'sg-00000000000000000',
  instance: 'i-00000000000000000',
  volume: 'vol-00000000000000000',
} as const;

/** An SSH rule from TEST-NET-1 (RFC 5737): never one of the cluster's, so never a duplicate. */
const PROBE_RULE: IpPermission = {
  IpProtocol: 'tcp',
  FromPort: 22,
  ToPort: 22,
  IpRanges: [{ CidrIp: '192.0.2.0/32', Description: SSH_RULE_DESCRIPTION }],
};

/** The TagSpecification a create call of the run carries for one resource. */
type Tagger = (
  type: TagSpecification['ResourceType'],
  name: string,
  role?: 'manager' | 'worker',
) => TagSpecification;

function taggerFor(f: ProbeFacts): Tagger {
  return (type, name, role) => ({
    ResourceType: type,
    Tags: [
      { Key: CLUSTER_TAG, Value: f.cluster },
      { Key: OWNER_TAG, Value: f.owner },
      { Key: 'Name', Value: name },
      ...(role ? [{ Key: ROLE_TAG, Value: role }] : []),
    ],
  });
}

const DryRun = true;

/** A create call: sent with the tags it would carry, `tagsOnCreate`. */
function creating(call: string, command: Probe['command'], note?: string): Probe {
  return {
    action: `ec2:${call}`,
    call,
    target: 'new',
    tagsOnCreate: true,
    ...(note ? { note } : {}),
    command,
  };
}

/** A call on one of the cluster's resources (or on a placeholder while it has none). */
function changing(call: string, target: Target, command: () => { input: object }, note?: string): Probe {
  return { action: `ec2:${call}`, call, target, ...(note ? { note } : {}), tagsOnCreate: false, command };
}

function createSecurityGroupProbe(f: ProbeFacts, tags: Tagger): Probe {
  return creating(
    'CreateSecurityGroup',
    (withTags) =>
      new CreateSecurityGroupCommand({
        DryRun,
        GroupName: f.resourceName,
        Description: `swarmup cluster ${f.cluster}: swarm ports between members, ssh from the operator`,
        VpcId: f.vpcId,
        ...(withTags ? { TagSpecifications: [tags('security-group', f.resourceName)] } : {}),
      }),
  );
}

function importKeyPairProbe(f: ProbeFacts, tags: Tagger): Probe {
  return creating(
    'ImportKeyPair',
    (withTags) =>
      new ImportKeyPairCommand({
        DryRun,
        KeyName: f.resourceName,
        PublicKeyMaterial: Buffer.from(f.publicKey),
        ...(withTags ? { TagSpecifications: [tags('key-pair', f.resourceName)] } : {}),
      }),
  );
}

/** Where the instance goes: its own interface asking for a public IPv4, or the subnet's defaults (as `up` does). */
function launchPlacement(f: ProbeFacts): object {
  if (!f.askPublicIp) return { SubnetId: f.subnetId, ...(f.group ? { SecurityGroupIds: [f.group.id] } : {}) };
  return {
    NetworkInterfaces: [
      {
        DeviceIndex: 0,
        SubnetId: f.subnetId,
        ...(f.group ? { Groups: [f.group.id] } : {}),
        AssociatePublicIpAddress: true,
        DeleteOnTermination: true,
      },
    ],
  };
}

function runInstancesProbe(f: ProbeFacts, tags: Tagger): Probe {
  const launchWithout = [!f.group && 'security group', !f.keyPair && 'key pair'].filter(Boolean);
  return creating(
    'RunInstances',
    (withTags) =>
      new RunInstancesCommand({
        DryRun,
        ImageId: f.image.imageId,
        InstanceType: f.instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        ...launchPlacement(f),
        ...(f.keyPair ? { KeyName: f.keyPair } : {}),
        BlockDeviceMappings: [
          {
            DeviceName: f.image.rootDevice,
            Ebs: { VolumeSize: f.diskGiB, VolumeType: 'gp3', DeleteOnTermination: true },
          },
        ],
        MetadataOptions: { HttpTokens: 'required' },
        ...(withTags
          ? {
              TagSpecifications: [
                tags('instance', f.node.name, f.node.role),
                tags('volume', f.node.name, f.node.role),
              ],
            }
          : {}),
      }),
    launchWithout.length > 0 ? `sent without the ${launchWithout.join(' and ')} (not made yet)` : undefined,
  );
}

/** The resource's id when the cluster has it, else a placeholder id. */
const on = (exists: string | undefined, placeholder: string) =>
  exists ? { id: exists, target: 'existing' as const } : { id: placeholder, target: 'placeholder' as const };

/** The calls on the cluster's own resources: ingress rules, instance life, deletions. */
function changeProbes(f: ProbeFacts): Probe[] {
  const group = on(f.group?.id, PLACEHOLDER.group);
  const instance = on(f.instanceId, PLACEHOLDER.instance);
  const volume = on(f.volumeId, PLACEHOLDER.volume);
  const instanceIds = () => ({ DryRun, InstanceIds: [instance.id] });
  return [
    changing(
      'AuthorizeSecurityGroupIngress',
      group.target,
      () =>
        new AuthorizeSecurityGroupIngressCommand({ DryRun, GroupId: group.id, IpPermissions: [PROBE_RULE] }),
    ),
    changing(
      'RevokeSecurityGroupIngress',
      group.target,
      () =>
        new RevokeSecurityGroupIngressCommand({
          DryRun,
          GroupId: group.id,
          IpPermissions: [f.group?.sshRule ?? PROBE_RULE],
        }),
    ),
    // A batch's instances get their Names right after their launch (launch-batch.ts).
    changing(
      'CreateTags',
      instance.target,
      () =>
        new CreateTagsCommand({
          DryRun,
          Resources: [instance.id],
          Tags: [{ Key: 'Name', Value: f.node.name }],
        }),
    ),
    changing('StartInstances', instance.target, () => new StartInstancesCommand(instanceIds())),
    changing('StopInstances', instance.target, () => new StopInstancesCommand(instanceIds())),
    changing('TerminateInstances', instance.target, () => new TerminateInstancesCommand(instanceIds())),
    changing('DeleteVolume', volume.target, () => new DeleteVolumeCommand({ DryRun, VolumeId: volume.id })),
    changing(
      'DeleteSecurityGroup',
      group.target,
      () => new DeleteSecurityGroupCommand({ DryRun, GroupId: group.id }),
    ),
    changing(
      'DeleteKeyPair',
      f.keyPair ? 'existing' : 'placeholder',
      () => new DeleteKeyPairCommand({ DryRun, KeyName: f.resourceName }),
      f.keyPair ? undefined : 'the cluster has no key pair yet',
    ),
  ];
}

/** Every call swarmup makes that creates or changes something, as DryRun calls with the run's parameters. Pure. */
export function dryRunProbes(f: ProbeFacts): Probe[] {
  const tags = taggerFor(f);
  return [
    createSecurityGroupProbe(f, tags),
    importKeyPairProbe(f, tags),
    runInstancesProbe(f, tags),
    ...changeProbes(f),
  ];
}
