import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { parseBastion, type ClusterSpec, type Ec2Spec } from '../../config/cluster.ts';
import { errorMessage, InputError, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { sleep } from '../../transport/ssh-connection.ts';
import { byRoleThenNumber, splitPlanned, wantedNodes, type NodeWanted } from '../node-names.ts';
import type { Machine, ProgressSink, Provider } from '../provider.ts';
import { connectAws, type AwsApi } from './aws.ts';
import { clientToken, placeNodes } from './placement.ts';
import { deleteClusterResources, describeInstances, listTagged } from './resources.ts';
import { missingIngress, wantedIngress } from './security-group.ts';
import { CLUSTER_TAG, clusterFilter, ROLE_TAG, tagSpec, tagValue } from './tags.ts';
import { engineUserData } from './user-data.ts';

export interface Ec2ProviderOptions {
  /** Where the AWS calls go (tests: a stand-in client, or the SDK pointed at an emulator). */
  aws?: () => Promise<AwsApi>;
  /** How this machine's public address is learnt for the default SSH rule. */
  learnPublicAddress?: () => Promise<string | undefined>;
  /**
   * Test only: where SSH goes for an instance. An emulator's instances have addresses nobody can reach, so the
   * end-to-end test maps each instance to a local node container. Never set by the command line.
   */
  sshTargetFor?: (instance: {
    name: string;
    role: 'manager' | 'worker';
  }) => Pick<Machine, 'address' | 'port' | 'advertiseAddress'>;
  pollMs?: number;
}

/** Login user by image family, as the images' own documentation names them. */
export function loginUserFor(imageName: string): string {
  const n = imageName.toLowerCase();
  if (n.includes('ubuntu')) return 'ubuntu';
  if (n.includes('debian')) return 'admin';
  if (
    n.includes('amzn') ||
    n.includes('al2023') ||
    n.includes('amazon') ||
    n.includes('rhel') ||
    n.includes('fedora')
  )
    return 'ec2-user';
  return 'ubuntu';
}

/** This machine's public IPv4 address, as AWS's own checkip service sees it. */
async function checkIp(): Promise<string | undefined> {
  try {
    const r = await fetch('https://checkip.amazonaws.com', { signal: AbortSignal.timeout(5000) });
    const ip = (await r.text()).trim();
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) ? ip : undefined;
  } catch {
    return undefined;
  }
}

/**
 * EC2 machines: one security group per cluster (Swarm's ports only between its members, SSH only from the given
 * CIDRs), a key pair imported from a key made here (the private key never leaves this machine), instances spread
 * over availability zones, all tagged `swarmup:cluster=<name>`. Idempotent: a re-run finds everything by tag.
 */
export class Ec2Provider implements Provider {
  readonly name = 'ec2';
  readonly createsMachines = true;
  readonly enginePreinstalled = false;
  private api?: AwsApi;
  private readonly ec2: Ec2Spec;
  /** The image's root device, learnt with the image (the disk size applies to it). */
  private rootDevice = '/dev/sda1';

  constructor(
    private readonly spec: ClusterSpec,
    private readonly state: StateStore,
    private readonly opts: Ec2ProviderOptions = {},
  ) {
    if (!spec.ec2) throw new Error('ec2 settings missing');
    this.ec2 = spec.ec2;
  }

  private async aws(): Promise<AwsApi> {
    this.api ??= await (this.opts.aws ?? (() => connectAws(this.ec2)))();
    return this.api;
  }

  private get resourceName(): string {
    return `swarmup-${this.spec.name}`;
  }

  async provision(progress: ProgressSink): Promise<{ machines: Machine[]; created: number }> {
    const api = await this.aws();
    // Everything that can be refused is settled before the first resource is made.
    const { vpcId, vpcCidr, subnets } = await this.network(api);
    const sshCidrs = await this.sshCidrs(vpcCidr);
    const publicKey = this.publicKey();
    const { imageId, user } = await this.image(api);
    const generation = this.generation();
    let created = 0;

    created += await this.ensureKeyPair(api, publicKey, progress);
    const sg = await this.ensureSecurityGroup(api, vpcId, sshCidrs, progress);
    created += sg.created;

    const wanted = wantedNodes(this.spec.name, this.spec.managers, this.spec.workers);
    const existing = await this.instances(api);
    const byName = new Map(existing.map((i) => [tagValue(i.Tags, 'Name')!, i]));
    const zones = [...new Set(subnets.map((s) => s.zone))];
    const placement = placeNodes(wanted, zones);
    const userData = engineUserData(this.spec.engine);

    const stopped = wanted.flatMap((n) =>
      byName.get(n.name)?.State?.Name === 'stopped' ? [byName.get(n.name)!.InstanceId!] : [],
    );
    if (stopped.length > 0) {
      progress(`starting stopped instances ${stopped.join(', ')}`);
      await api.ec2.send(new StartInstancesCommand({ InstanceIds: stopped }));
      created += stopped.length;
    }
    const missing = wanted.filter((n) => !byName.has(n.name));
    await Promise.all(
      missing.map(async (n) => {
        const zone = placement.get(n.name)!;
        const subnet = subnets.find((s) => s.zone === zone)!;
        progress(`${n.name}: launching ${this.ec2.instanceType} in ${zone}`);
        try {
          await api.ec2.send(
            new RunInstancesCommand({
              ImageId: imageId,
              InstanceType: this.ec2.instanceType as never,
              MinCount: 1,
              MaxCount: 1,
              ClientToken: clientToken(this.spec.name, generation, n.name),
              KeyName: this.resourceName,
              SubnetId: subnet.id,
              SecurityGroupIds: [sg.id],
              BlockDeviceMappings: [
                {
                  DeviceName: this.rootDevice,
                  Ebs: { VolumeSize: this.ec2.diskGiB, VolumeType: 'gp3', DeleteOnTermination: true },
                },
              ],
              ...(userData ? { UserData: Buffer.from(userData).toString('base64') } : {}),
              MetadataOptions: { HttpTokens: 'required' },
              TagSpecifications: [
                tagSpec('instance', this.spec.name, n.name, n.role),
                tagSpec('volume', this.spec.name, n.name, n.role),
              ],
            }),
          );
        } catch (err) {
          throw new StepError(n.name, 'launch instance', errorMessage(err));
        }
      }),
    );
    created += missing.length;

    const instances = await this.waitRunning(api, wanted, progress);
    return { machines: this.toMachines(wanted, instances, user), created };
  }

  async plannedMachines(): Promise<{ existing: Machine[]; missing: NodeWanted[] }> {
    return splitPlanned(
      await this.machines(),
      wantedNodes(this.spec.name, this.spec.managers, this.spec.workers),
    );
  }

  async machines(): Promise<Machine[]> {
    const api = await this.aws();
    const running = (await this.instances(api)).filter((i) => i.State?.Name === 'running');
    const wanted = running
      .map((i): NodeWanted => ({
        name: tagValue(i.Tags, 'Name') ?? i.InstanceId!,
        role: tagValue(i.Tags, ROLE_TAG) === 'manager' ? 'manager' : 'worker',
      }))
      .sort(byRoleThenNumber);
    // The login user: configured, else by the instances' image (without instances there is nobody to log in to).
    const user = this.ec2.user ?? (running[0] ? (await this.image(api, running[0].ImageId)).user : 'ubuntu');
    return this.toMachines(wanted, running, user);
  }

  async destroy(progress: ProgressSink): Promise<{ removed: string[] }> {
    const api = await this.aws();
    const tagged = (await listTagged(api, this.spec.name)).get(this.spec.name);
    if (!tagged) return { removed: [] };
    const removed = await deleteClusterResources(api, tagged, {
      progress,
      ...(this.opts.pollMs ? { pollMs: this.opts.pollMs } : {}),
    });
    return { removed };
  }

  private toMachines(wanted: NodeWanted[], instances: Instance[], user: string): Machine[] {
    const byName = new Map(instances.map((i) => [tagValue(i.Tags, 'Name')!, i]));
    const key = this.privateKeyPath();
    return wanted.flatMap((n) => {
      const i = byName.get(n.name);
      if (!i?.PrivateIpAddress) return [];
      const jump = this.ec2.bastion ? parseBastion(this.ec2.bastion, '--bastion', user, key) : undefined;
      const target = this.opts.sshTargetFor?.(n) ?? {
        // Through a bastion: the private address, from inside the VPC; else the public one.
        address: jump ? i.PrivateIpAddress : (i.PublicIpAddress ?? i.PrivateIpAddress),
        port: 22,
        advertiseAddress: i.PrivateIpAddress,
      };
      return [
        {
          name: n.name,
          ...target,
          user,
          ...(key ? { privateKey: key } : {}),
          role: n.role,
          ...(jump ? { jump } : {}),
        },
      ];
    });
  }

  private async instances(api: AwsApi): Promise<Instance[]> {
    return describeInstances(api, [
      ...clusterFilter(this.spec.name),
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  }

  /** Poll (sub-second at first, not 15-s waiters) until every wanted instance runs and has its addresses. */
  private async waitRunning(api: AwsApi, wanted: NodeWanted[], progress: ProgressSink): Promise<Instance[]> {
    const deadline = Date.now() + 10 * 60_000;
    let delay = this.opts.pollMs ?? 500;
    let reported = '';
    for (;;) {
      const instances = await this.instances(api);
      const byName = new Map(instances.map((i) => [tagValue(i.Tags, 'Name')!, i]));
      const waiting = wanted.filter((n) => {
        const i = byName.get(n.name);
        return !i || i.State?.Name !== 'running' || !i.PrivateIpAddress;
      });
      if (waiting.length === 0) return instances;
      const line = waiting
        .map((n) => `${n.name} ${byName.get(n.name)?.State?.Name ?? 'not listed yet'}`)
        .join(', ');
      if (line !== reported) progress((reported = line));
      if (Date.now() > deadline) throw new StepError(waiting[0]!.name, 'wait for the instance to run', line);
      await sleep(delay);
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  private async sshCidrs(vpcCidr: string | undefined): Promise<string[]> {
    if (this.ec2.sshCidrs) return this.ec2.sshCidrs;
    // Through a bastion, SSH comes from inside the VPC.
    if (this.ec2.bastion && vpcCidr) return [vpcCidr];
    const ip = await (this.opts.learnPublicAddress ?? checkIp)();
    if (!ip)
      throw new InputError(
        "--ssh-cidr is required: this machine's public address could not be learnt (give e.g. --ssh-cidr 203.0.113.7/32)",
      );
    return [`${ip}/32`];
  }

  private publicKey(): string {
    if (this.ec2.sshKey) {
      if (!existsSync(this.ec2.sshKey))
        throw new InputError(
          `--ssh-key: ${this.ec2.sshKey}: no such file (a public key, e.g. ~/.ssh/id_ed25519.pub)`,
        );
      const text = readFileSync(this.ec2.sshKey, 'utf8').trim();
      if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+/.test(text)) {
        throw new InputError(`--ssh-key: ${this.ec2.sshKey}: not an OpenSSH public key`);
      }
      return text;
    }
    return this.state.clusterKey().publicKey;
  }

  /** The private key matching the imported public key: the cluster's own, or the file beside --ssh-key (else ssh-agent). */
  private privateKeyPath(): string | undefined {
    if (!this.ec2.sshKey) return this.state.clusterKeyPath();
    const priv = this.ec2.sshKey.replace(/\.pub$/, '');
    return priv !== this.ec2.sshKey && existsSync(priv) ? priv : undefined;
  }

  private generation(): string {
    const current = this.state.read();
    if (current?.generation) return current.generation;
    const generation = randomBytes(6).toString('hex');
    this.state.write({
      name: this.spec.name,
      provider: 'ec2',
      managers: this.spec.managers,
      workers: this.spec.workers,
      generation,
      ...(this.ec2.region ? { region: this.ec2.region } : {}),
    });
    return generation;
  }

  private async image(api: AwsApi, known?: string): Promise<{ imageId: string; user: string }> {
    let imageId = known ?? this.ec2.ami;
    if (!imageId) {
      try {
        const p = await api.ssm.send(new GetParameterCommand({ Name: this.ec2.amiParameter }));
        imageId = p.Parameter?.Value;
      } catch (err) {
        throw new InputError(
          `AMI: SSM parameter ${this.ec2.amiParameter} cannot be read (${errorMessage(err)}); pass --ami`,
        );
      }
      if (!imageId) throw new InputError(`AMI: SSM parameter ${this.ec2.amiParameter} is empty; pass --ami`);
    }
    const images = await api.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    const img = images.Images?.[0];
    if (!img) throw new InputError(`AMI ${imageId} not found in ${(await this.aws()).region}`);
    if (img.RootDeviceName) this.rootDevice = img.RootDeviceName;
    return { imageId, user: this.ec2.user ?? loginUserFor(`${img.Name ?? ''} ${img.Description ?? ''}`) };
  }

  private async network(
    api: AwsApi,
  ): Promise<{ vpcId: string; vpcCidr?: string; subnets: Array<{ id: string; zone: string }> }> {
    if (this.ec2.subnets?.length) {
      const r = await api.ec2.send(new DescribeSubnetsCommand({ SubnetIds: this.ec2.subnets }));
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
      return { vpcId: [...vpcs][0]!, ...(vpcCidr ? { vpcCidr } : {}), subnets };
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

  private async ensureKeyPair(api: AwsApi, publicKey: string, progress: ProgressSink): Promise<number> {
    const found = await api.ec2.send(new DescribeKeyPairsCommand({ Filters: clusterFilter(this.spec.name) }));
    if ((found.KeyPairs ?? []).some((k) => k.KeyName === this.resourceName)) return 0;
    progress(`importing key pair ${this.resourceName}`);
    await api.ec2.send(
      new ImportKeyPairCommand({
        KeyName: this.resourceName,
        PublicKeyMaterial: Buffer.from(publicKey),
        TagSpecifications: [tagSpec('key-pair', this.spec.name, this.resourceName)],
      }),
    );
    return 1;
  }

  private async ensureSecurityGroup(
    api: AwsApi,
    vpcId: string,
    sshCidrs: string[],
    progress: ProgressSink,
  ): Promise<{ id: string; created: number }> {
    const found = await api.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [...clusterFilter(this.spec.name), { Name: 'vpc-id', Values: [vpcId] }],
      }),
    );
    let group = found.SecurityGroups?.find((g) => tagValue(g.Tags, CLUSTER_TAG) === this.spec.name);
    let created = 0;
    if (!group) {
      progress(`creating security group ${this.resourceName}`);
      const r = await api.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: this.resourceName,
          Description: `swarmup cluster ${this.spec.name}: swarm ports between members, ssh from the operator`,
          VpcId: vpcId,
          TagSpecifications: [tagSpec('security-group', this.spec.name, this.resourceName)],
        }),
      );
      group = { GroupId: r.GroupId!, IpPermissions: [] };
      created++;
    }
    const missing = missingIngress(
      wantedIngress(group.GroupId!, sshCidrs, this.ec2.encryptedOverlay),
      group.IpPermissions ?? [],
    );
    if (missing.length > 0) {
      progress(
        `authorising ${missing.length} ingress rule${missing.length === 1 ? '' : 's'} on ${this.resourceName}`,
      );
      try {
        await api.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: group.GroupId!, IpPermissions: missing }),
        );
      } catch (err) {
        // Another run authorised the same rules in between: they exist, which is what is wanted.
        if ((err as { name?: string }).name !== 'InvalidPermission.Duplicate') throw err;
      }
      created += missing.length;
    }
    return { id: group.GroupId!, created };
  }
}
