import {
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { parseBastion, type ClusterSpec, type Ec2Spec } from '../../config/cluster.ts';
import { combineErrors, errorMessage, InputError, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { sleep } from '../../transport/ssh-connection.ts';
import { byRoleThenNumber, wantedNodes } from '../node-names.ts';
import { refuseDenied, type PermissionCheck } from '../permission-report.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import { privateKeyPathFor, publicKeyFor, sshCidrsFor } from './access.ts';
import { connectAws, type AwsApi } from './aws.ts';
import type { Ec2ProviderOptions } from './options.ts';
import { accountOf, generationOf } from './cluster-record.ts';
import { EVENTUAL_CODES, eventually } from './consistency.ts';
import { imageLoginUser, loginUserFor, resolveImage, type ImageChoice } from './image.ts';
import { ensureKeyPair } from './key-pair.ts';
import { chooseLife, launchToken } from './launch-token.ts';
import { LIVE_STATES, machineListing, nodeName, reachStatus } from './listing.ts';
import type { SeenNetwork } from '../../net/networks.ts';
import { findNetwork, vpcCidrs, type Network } from './network.ts';
import { placeNodes, ZONE_CAPACITY_ERRORS, zonesToTry } from './placement.ts';
import { runInstancesInput, zoneAttemptToken } from './launch.ts';
import { checkEc2Permissions } from './permission-check.ts';
import { hostPattern } from '../../transport/known-hosts.ts';
import {
  applyPinChanges,
  forgetInstances,
  pinChanges,
  pinnedPatterns,
  type InstanceSeen,
} from './host-keys.ts';
import { deleteClusterResources, describeInstances, listOwn, removeNode } from './resources.ts';
import { removalLines, summarize } from './cleanup.ts';
import { ensureSecurityGroup } from './security-group.ts';
import { refuseNamesakes } from './namesakes.ts';
import { ownFilter, ROLE_TAG, tagValue } from './tags.ts';

export { loginUserFor } from './image.ts';

export type { Ec2ProviderOptions } from './options.ts';

/** What every launch of a run needs, learnt once by `prepare` (parallel creates share it). */
interface LaunchContext {
  subnets: Network['subnets'];
  zones: string[];
  securityGroupId: string;
  image: ImageChoice;
  userData?: string;
  generation: string;
}

/** How long `reach` waits for instances to run, and `start` for one to finish stopping. */
const WAIT_MS = 10 * 60_000;

/**
 * EC2 machines, one instance per node: one security group per cluster (Swarm's ports only between its members, SSH
 * only from the given CIDRs), a key pair imported from a key made here (the private key never leaves this
 * machine), instances spread over availability zones, all tagged `swarmup:cluster=<name>` and found by that tag.
 * Each launch carries an idempotency token for the node's current life, so a retry after a crash gets the same
 * instance and a node whose instance is gone gets a new one.
 */
export class Ec2Provider implements Provider {
  readonly name = 'ec2';
  readonly createsMachines = true;
  readonly enginePreinstalled = false;
  private api?: AwsApi;
  private readonly ec2: Ec2Spec;
  /** Settled by `prepare` (or by the first `create` of a run that was not prepared). */
  private launch?: Promise<LaunchContext>;
  /** Login user per image id, for `reach`. */
  private readonly users = new Map<string, Promise<string>>();
  /** The DryRun check of this run, asked once (by `plan`, by `up` before applying, or by `prepare`). */
  private permissions?: Promise<PermissionCheck[]>;

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

  wanted(): NodeWanted[] {
    return wantedNodes(this.spec.name, this.spec.managers, this.spec.workers);
  }

  async list(): Promise<MachineListing[]> {
    const api = await this.aws();
    const listing = machineListing(await describeInstances(api, ownFilter(this.spec.name)));
    return this.inWantedOrder(listing, (m) => m);
  }

  /** The VPC's IPv4 blocks: the swarm's address pool must overlap none of them. */
  async seenNetworks(): Promise<SeenNetwork[]> {
    const { vpcId, cidrs } = await vpcCidrs(await this.aws(), this.ec2);
    return cidrs.map((cidr) => ({ cidr, where: `VPC ${vpcId}` }));
  }

  /** Whether these credentials may make every change swarmup makes, asked with DryRun: creates nothing. */
  checkPermissions(): Promise<PermissionCheck[]> {
    this.permissions ??= this.aws().then(async (api) =>
      checkEc2Permissions(api, {
        cluster: this.spec.name,
        resourceName: this.resourceName,
        node: this.wanted()[0] ?? { name: `${this.spec.name}-manager-1`, role: 'manager' },
        ec2: this.ec2,
        network: await findNetwork(api, this.ec2),
        image: await resolveImage(api, this.ec2, this.spec.engine),
      }),
    );
    return this.permissions;
  }

  async prepare(progress: ProgressSink): Promise<string[]> {
    const settled = this.settle(progress);
    this.launch = settled.then((s) => s.context);
    void this.launch.catch(() => undefined); // the caller hears of a failure from `settled`
    return (await settled).created;
  }

  async create(node: NodeWanted, progress: ProgressSink): Promise<void> {
    const context = await (this.launch ??= this.settle(progress).then((s) => s.context));
    const api = await this.aws();
    // Placed over the whole wanted list: a replacement lands in the zone of its slot.
    const nodes = this.wanted();
    if (!nodes.some((n) => n.name === node.name)) nodes.push(node);
    const placed = placeNodes(nodes, context.zones).get(node.name)!;
    // A node launched anew has host keys of its own, pinned under its new instance's ID on its first connection;
    // a pin under the node's name (how swarmup pinned before) is its earlier instance's. The earlier instance's
    // own pin goes once AWS lists it terminated (reach).
    forgetInstances(this.state.knownHosts(), [], node.name);
    let token: string;
    try {
      token = await this.tokenFor(api, node.name, context.generation, progress);
    } catch (err) {
      throw new StepError(node.name, 'launch instance', errorMessage(err));
    }
    // Right after ImportKeyPair / CreateSecurityGroup AWS may not know the key pair or group yet (eventual
    // consistency): retried for those codes only (consistency.ts). Safe: RunInstances with the same ClientToken
    // is idempotent, so a retry never launches a second instance for this node.
    const launcher = eventually(api.ec2, {
      codes: EVENTUAL_CODES.RunInstances,
      ...(this.opts.pollMs ? { initialDelayMs: this.opts.pollMs } : {}),
    });
    const tried: string[] = [];
    for (const [attempt, zone] of zonesToTry(placed, context.zones).entries()) {
      const subnet = context.subnets.find((s) => s.zone === zone)!;
      progress(
        `${node.name}: launching ${this.ec2.instanceType} in ${zone}` +
          (tried.length > 0 ? ` (${tried.join('; ')})` : '') +
          (subnet.askPublicIp ? ', with a public IPv4 address' : ''),
      );
      try {
        await launcher.send(
          new RunInstancesCommand(
            runInstancesInput({
              cluster: this.spec.name,
              node,
              instanceType: this.ec2.instanceType,
              diskGiB: this.ec2.diskGiB,
              image: context.image,
              keyName: this.resourceName,
              securityGroupId: context.securityGroupId,
              subnet,
              token: zoneAttemptToken(token, attempt),
              ...(context.userData ? { userData: context.userData } : {}),
            }),
          ),
        );
        return;
      } catch (err) {
        const code = (err as { name?: string }).name ?? '';
        // No capacity (or no such type) in this zone, now: another zone may take the node.
        if (!ZONE_CAPACITY_ERRORS.has(code))
          throw new StepError(node.name, 'launch instance', errorMessage(err));
        tried.push(`${zone}: ${code}`);
      }
    }
    throw new StepError(
      node.name,
      'launch instance',
      `no zone could take a ${this.ec2.instanceType} now (${tried.join('; ')}); try again later or pass --instance-type`,
    );
  }

  async start(name: string, progress: ProgressSink): Promise<void> {
    const api = await this.aws();
    const deadline = Date.now() + WAIT_MS;
    let delay = this.opts.pollMs ?? 500;
    for (;;) {
      const mine = (await this.instances(api, LIVE_STATES)).filter((i) => nodeName(i) === name);
      if (mine.some((i) => i.State?.Name === 'running' || i.State?.Name === 'pending')) return;
      const stopped = mine.filter((i) => i.State?.Name === 'stopped').map((i) => i.InstanceId!);
      if (stopped.length > 0) {
        progress(`${name}: starting ${stopped.join(', ')}`);
        try {
          await api.ec2.send(new StartInstancesCommand({ InstanceIds: stopped }));
        } catch (err) {
          throw new StepError(name, 'start instance', errorMessage(err));
        }
        return;
      }
      if (mine.length === 0) throw new StepError(name, 'start instance', 'no stopped instance of that name');
      // Still stopping: it can be started once it has stopped.
      if (Date.now() > deadline) throw new StepError(name, 'start instance', 'still stopping');
      await sleep(delay);
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  /** Stop the node's instance (its volume kept, its private address too) and wait until it is stopped. */
  async stop(name: string, progress: ProgressSink): Promise<void> {
    const api = await this.aws();
    const deadline = Date.now() + WAIT_MS;
    let delay = this.opts.pollMs ?? 500;
    let asked = false;
    for (;;) {
      const mine = (await this.instances(api, LIVE_STATES)).filter((i) => nodeName(i) === name);
      const live = mine.filter((i) => i.State?.Name === 'running' || i.State?.Name === 'pending');
      if (live.length > 0 && !asked) {
        const ids = live.map((i) => i.InstanceId!);
        progress(`${name}: stopping ${ids.join(', ')}`);
        try {
          await api.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
        } catch (err) {
          throw new StepError(name, 'stop instance', errorMessage(err));
        }
        asked = true;
      }
      if (mine.every((i) => i.State?.Name === 'stopped')) return;
      if (Date.now() > deadline)
        throw new StepError(name, 'stop instance', `not stopped after ${WAIT_MS / 60_000} min`);
      await sleep(delay);
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  async remove(name: string, progress: ProgressSink): Promise<void> {
    const api = await this.aws();
    await removeNode(api, this.spec.name, name, progress, this.opts.pollMs);
    // Its instances are terminated: the keys pinned for them pin nothing any more.
    const gone = await describeInstances(api, [
      ...ownFilter(this.spec.name),
      { Name: 'tag:Name', Values: [name] },
    ]);
    forgetInstances(
      this.state.knownHosts(),
      gone.map((i) => i.InstanceId!),
      name,
    );
  }

  async location(): Promise<string> {
    const api = await this.aws();
    const account = await accountOf(api).catch(() => undefined);
    return `EC2 region ${api.region}${account ? `, account ${account}` : ''}`;
  }

  async removable(): Promise<string[]> {
    const tagged = await listOwn(await this.aws(), this.spec.name);
    return tagged ? removalLines(tagged) : [];
  }

  async removeAll(progress: ProgressSink): Promise<{ removed: string[] }> {
    const api = await this.aws();
    // Credentials of another account would find nothing, and "nothing" proves nothing: refused outright.
    const recorded = this.state.read()?.account;
    const account = await accountOf(api);
    if (recorded && account && recorded !== account)
      throw new InputError(
        `cluster ${this.spec.name} was made in AWS account ${recorded}, but these credentials are of account ${account}: ` +
          'use the profile or credentials of that account',
      );
    const tagged = await listOwn(api, this.spec.name);
    if (!tagged) return { removed: [] };
    const removed = await deleteClusterResources(api, tagged, {
      progress,
      ...(this.opts.pollMs ? { pollMs: this.opts.pollMs } : {}),
    });
    // Proven by listing again: anything of this home's left keeps the record (and the key) where they are.
    const left = await listOwn(api, this.spec.name);
    if (left)
      throw new StepError(
        this.spec.name,
        'remove the cluster',
        `still there after removal: ${summarize(left)}`,
      );
    return { removed };
  }

  /**
   * SSH targets of the named instances (default: every running one), once they run and have their addresses:
   * polled sub-second at first (not 15-s waiters), bounded. An instance launched for a named node that is
   * terminated or terminating fails at once, with AWS's reason.
   */
  async reach(names?: string[], progress: ProgressSink = () => undefined): Promise<Machine[]> {
    const api = await this.aws();
    const state = this.state.read();
    const tokenOf = (name: string) =>
      state?.generation
        ? launchToken(this.spec.name, state.generation, name, state.lives?.[name] ?? 0)
        : undefined;
    const deadline = Date.now() + WAIT_MS;
    let delay = this.opts.pollMs ?? 500;
    let reported = '';
    for (;;) {
      const instances = await describeInstances(api, ownFilter(this.spec.name));
      const wanted = names ?? [
        ...new Set(instances.filter((i) => i.State?.Name === 'running' && i.PrivateIpAddress).map(nodeName)),
      ];
      const status = reachStatus(wanted, instances, tokenOf);
      if (status.died.length > 0) {
        throw combineErrors(
          status.died.map(
            (d) =>
              new StepError(
                d.name,
                'wait for the instance to run',
                `instance ${d.id} is ${d.state}${d.reason ? `: ${d.reason}` : ''}`,
              ),
          ),
        );
      }
      if (status.waiting.length === 0) {
        const machines = await this.toMachines(api, status.ready);
        this.repin(instances, machines);
        return machines;
      }
      const line = status.waiting.map((w) => `${w.name} ${w.seen}`).join(', ');
      if (line !== reported) progress((reported = line));
      if (Date.now() > deadline)
        throw new StepError(status.waiting[0]!.name, 'wait for the instance to run', line);
      await sleep(delay);
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  /** Checks first (everything that can be refused), then the key pair and the security group. */
  private async settle(progress: ProgressSink): Promise<{ context: LaunchContext; created: string[] }> {
    const api = await this.aws();
    refuseDenied(await this.checkPermissions(), `EC2 in ${api.region}`);
    // The image first: its architecture, login user and engine source are refused here or not at all.
    const image = await resolveImage(api, this.ec2, this.spec.engine);
    if (image.note) progress(image.note);
    const { vpcId, vpcCidr, subnets, notes } = await findNetwork(api, this.ec2);
    for (const note of notes) progress(note);
    const sshCidrs = await sshCidrsFor(this.ec2, vpcCidr, this.opts.learnPublicAddress);
    // Before anything is made or recorded: a key pair or security group of the cluster's names not made here.
    await refuseNamesakes(api, this.spec.name, this.resourceName, vpcId);
    const publicKey = publicKeyFor(this.ec2, this.state);

    const created: string[] = [];
    // First, so a key pair that is not the local key is refused before anything is made or recorded.
    const keySource = this.ec2.sshKey ? `the key in ${this.ec2.sshKey}` : "the cluster's own key";
    if (await ensureKeyPair(api, this.spec.name, this.resourceName, publicKey, progress, keySource))
      created.push(`key pair ${this.resourceName}`);
    const generation = generationOf(this.spec, this.state, api.region);
    const account = await accountOf(api);
    if (account && this.state.read()?.account !== account)
      this.state.write({ name: this.spec.name, provider: 'ec2', account });
    const group = await ensureSecurityGroup(
      api,
      {
        cluster: this.spec.name,
        groupName: this.resourceName,
        vpcId,
        sshCidrs,
        encryptedOverlay: this.ec2.encryptedOverlay,
        ...(this.spec.swarm.dataPathPort !== undefined ? { dataPathPort: this.spec.swarm.dataPathPort } : {}),
      },
      progress,
    );
    created.push(...group.created);
    const userData = image.userData;
    return {
      context: {
        subnets,
        zones: [...new Set(subnets.map((s) => s.zone))],
        securityGroupId: group.id,
        image,
        ...(userData ? { userData } : {}),
        generation,
      },
      created,
    };
  }

  /**
   * The launch token for the node's current life. The life moves on (and is recorded before the launch) when the
   * instance its token launched is seen terminated or terminating; a crash after the launch keeps it.
   */
  private async tokenFor(
    api: AwsApi,
    name: string,
    generation: string,
    progress: ProgressSink,
  ): Promise<string> {
    const seen = await describeInstances(api, [
      ...ownFilter(this.spec.name),
      { Name: 'tag:Name', Values: [name] },
    ]);
    const tokenOf = (life: number) => launchToken(this.spec.name, generation, name, life);
    const recorded = this.state.read()?.lives?.[name] ?? 0;
    const life = chooseLife(
      recorded,
      tokenOf,
      seen.map((i) => ({ clientToken: i.ClientToken, state: i.State?.Name })),
    );
    if (life !== recorded) {
      progress(`${name}: its instance is gone; launching its replacement`);
      // Read and written in one go (no await between): parallel creates each add their own node.
      this.state.write({
        name: this.spec.name,
        provider: 'ec2',
        lives: { ...this.state.read()?.lives, [name]: life },
      });
    }
    return tokenOf(life);
  }

  /** Machines in `wanted()` order, then the others by role and number. */
  private inWantedOrder<T>(items: T[], node: (item: T) => NodeWanted): T[] {
    const order = new Map(this.wanted().map((n, i) => [n.name, i]));
    const rank = (n: NodeWanted) => order.get(n.name) ?? Number.MAX_SAFE_INTEGER;
    return [...items].sort((a, b) => rank(node(a)) - rank(node(b)) || byRoleThenNumber(node(a), node(b)));
  }

  private async toMachines(api: AwsApi, instances: Instance[]): Promise<Machine[]> {
    const key = privateKeyPathFor(this.ec2, this.state);
    const asNode = (i: Instance): NodeWanted => ({
      name: nodeName(i),
      role: tagValue(i.Tags, ROLE_TAG) === 'manager' ? 'manager' : 'worker',
    });
    return Promise.all(
      this.inWantedOrder(instances, asNode).map(async (i) => {
        const n = asNode(i);
        const user = await this.loginUser(api, i.ImageId);
        const jump = this.ec2.bastion ? parseBastion(this.ec2.bastion, '--bastion', user, key) : undefined;
        const target = this.opts.sshTargetFor?.(n) ?? {
          // Through a bastion: the private address, from inside the VPC; else the public one.
          address: jump ? i.PrivateIpAddress! : (i.PublicIpAddress ?? i.PrivateIpAddress!),
          port: 22,
          advertiseAddress: i.PrivateIpAddress!,
        };
        return {
          name: n.name,
          ...target,
          user,
          ...(key ? { privateKey: key } : {}),
          role: n.role,
          ...(jump ? { jump } : {}),
          // Pinned by instance: a stopped and started instance gets another public address, a replaced node
          // another instance (with keys of its own), and EC2 gives addresses to other instances in turn.
          hostKeyAlias: i.InstanceId!,
        };
      }),
    );
  }

  /**
   * Host keys belong to instances (host-keys.ts): the pins of instances AWS lists as gone (or no longer lists) go,
   * pins by address go, and a pin under a node's name (how swarmup pinned before) moves to the node's instance when
   * it can only be that one's.
   */
  private repin(instances: Instance[], machines: Machine[]): void {
    const file = this.state.knownHosts();
    const pinned = pinnedPatterns(file);
    if (pinned.size === 0) return;
    const byId = new Map(machines.map((m) => [m.hostKeyAlias, m]));
    const seen = instances.map((i): InstanceSeen => {
      const m = byId.get(i.InstanceId);
      return {
        id: i.InstanceId!,
        node: nodeName(i),
        state: i.State?.Name ?? '',
        ...(m ? { target: hostPattern(m.address, m.port) } : {}),
      };
    });
    const bastions = new Set(
      machines.flatMap((m) => (m.jump ? [hostPattern(m.jump.address, m.jump.port)] : [])),
    );
    applyPinChanges(file, pinChanges(pinned, seen, bastions));
  }

  /** The login user: configured, else by the instance's image (an image gone from the region: the default). */
  private loginUser(api: AwsApi, imageId: string | undefined): Promise<string> {
    if (this.ec2.user) return Promise.resolve(this.ec2.user);
    if (!imageId) return Promise.resolve(loginUserFor(''));
    if (!this.users.has(imageId)) {
      this.users.set(
        imageId,
        imageLoginUser(api, this.ec2, imageId).catch(() => loginUserFor('')),
      );
    }
    return this.users.get(imageId)!;
  }

  private async instances(api: AwsApi, states: string[]): Promise<Instance[]> {
    return describeInstances(api, [
      ...ownFilter(this.spec.name),
      { Name: 'instance-state-name', Values: states },
    ]);
  }
}
