import type { RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import type { ImageChoice } from './image.ts';
import type { LaunchSubnet } from './subnet-check.ts';
import { tagSpec } from './tags.ts';

export interface LaunchRequest {
  cluster: string;
  /** The batch's role (its instances' role tag) and how many instances it launches. */
  role: 'manager' | 'worker';
  count: number;
  instanceType: string;
  diskGiB: number;
  image: ImageChoice;
  keyName: string;
  securityGroupId: string;
  subnet: LaunchSubnet;
  token: string;
  userData?: string;
}

/**
 * RunInstances for a batch of nodes of one role in one zone (launch-batch.ts): all of them or none (MinCount =
 * MaxCount: a zone short of capacity answers InsufficientInstanceCapacity and the batch tries the next zone whole,
 * and the emulator launches MinCount), tagged at creation with the cluster, the owner and the role (each
 * instance's Name follows, CreateTags). Where the subnet routes to an internet gateway but would not map a public IPv4 (any
 * subnet of a custom VPC, by default), the primary interface asks for one: without it swarmup's SSH could not
 * reach the instance. The SSH rule still limits who can.
 */
export function runInstancesInput(r: LaunchRequest): RunInstancesCommandInput {
  const placement: Partial<RunInstancesCommandInput> = r.subnet.askPublicIp
    ? {
        NetworkInterfaces: [
          {
            DeviceIndex: 0,
            SubnetId: r.subnet.id,
            Groups: [r.securityGroupId],
            AssociatePublicIpAddress: true,
            DeleteOnTermination: true,
          },
        ],
      }
    : { SubnetId: r.subnet.id, SecurityGroupIds: [r.securityGroupId] };
  return {
    ImageId: r.image.imageId,
    InstanceType: r.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: r.count,
    MaxCount: r.count,
    ClientToken: r.token,
    KeyName: r.keyName,
    ...placement,
    BlockDeviceMappings: [
      {
        DeviceName: r.image.rootDevice,
        Ebs: { VolumeSize: r.diskGiB, VolumeType: 'gp3', DeleteOnTermination: true },
      },
    ],
    ...(r.userData ? { UserData: Buffer.from(r.userData).toString('base64') } : {}),
    MetadataOptions: { HttpTokens: 'required' },
    TagSpecifications: [
      tagSpec('instance', r.cluster, undefined, r.role),
      tagSpec('volume', r.cluster, undefined, r.role),
    ],
  };
}

/**
 * The token of a launch attempt in the k-th zone tried: the node's token itself first (a crash-retry gets the same
 * instance back), a distinct one per further zone (AWS refuses one token with other parameters).
 */
export function zoneAttemptToken(token: string, attempt: number): string {
  return attempt === 0 ? token : `${token}-z${attempt}`;
}
