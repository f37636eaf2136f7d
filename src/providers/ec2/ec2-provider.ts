import type { ClusterSpec, Ec2Spec } from '../../config/cluster.ts';
import { errorMessage, InputError, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { wantedNodes } from '../node-names.ts';
import type { PermissionCheck } from '../permission-report.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import type { SeenNetwork } from '../../net/networks.ts';
import { connectAws, type AwsApi } from './aws.ts';
import { removalLines, summarize } from './cleanup.ts';
import { accountOf } from './cluster-record.ts';
import { forgetInstances } from './host-keys.ts';
import { resolveImage } from './image.ts';
import { settleLaunch, type LaunchContext } from './launch-context.ts';
import { launchNodes } from './launch-nodes.ts';
import { machineListing } from './listing.ts';
import { findNetwork, vpcCidrs } from './network.ts';
import type { Ec2ProviderOptions } from './options.ts';
import { checkEc2Permissions } from './permission-check.ts';
import { inWantedOrder, reachInstances, type LoginUsers } from './reach.ts';
import { deleteClusterResources, describeInstances, listOwn, removeNode } from './resources.ts';
import type { Ec2Run } from './run.ts';
import { startInstance, stopInstance } from './stop-start.ts';
import { ownFilter } from './tags.ts';

export { loginUserFor } from './image.ts';

export type { Ec2ProviderOptions } from './options.ts';

/** How long `create` waits for the other creates of its run before launching them together (launch-batch.ts). */
const GATHER_MS = 25;

interface Creating {
  node: NodeWanted;
  progress: ProgressSink;
  done: (err?: Error) => void;
}

/**
 * EC2 machines, one instance per node: one security group per cluster (Swarm's ports only between its members, SSH
 * only from the given CIDRs), a key pair imported from a key made here (the private key never leaves this
 * machine), instances spread over availability zones, all tagged `swarmup:cluster=<name>` and found by that tag.
 * The nodes a run creates (the plan creates them all at once) are launched together, one RunInstances per zone and
 * role (launch-batch.ts: AWS throttles one call per node), under an idempotency token per batch made of its nodes'
 * life tokens, so a retry after a crash gets the same instances and a node whose instance is gone gets a new one.
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
  private readonly users: LoginUsers = new Map();
  /** The DryRun check of this run, asked once (by `plan`, by `up` before applying, or by `prepare`). */
  private permissions?: Promise<PermissionCheck[]>;
  /** Creates waiting to be launched together, and the timer that launches them. */
  private gathering: Creating[] = [];
  private gatherTimer?: NodeJS.Timeout;

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
    return inWantedOrder(this.wanted(), listing, (m) => m);
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

  /**
   * Launch the node's instance, together with the other creates of the run: the plan's creates all start at once,
   * so those that come within GATHER_MS of each other go in one launch (one RunInstances per zone and role). A
   * create that comes later is launched in a batch of its own: slower, never wrong.
   */
  async create(node: NodeWanted, progress: ProgressSink): Promise<void> {
    const context = await (this.launch ??= this.settle(progress).then((s) => s.context));
    await new Promise<void>((resolve, reject) => {
      this.gathering.push({ node, progress, done: (err) => (err ? reject(err) : resolve()) });
      clearTimeout(this.gatherTimer);
      this.gatherTimer = setTimeout(() => void this.launchGathered(context), GATHER_MS);
    });
  }

  /** Launch the creates gathered so far; each hears of its own node. */
  private async launchGathered(context: LaunchContext): Promise<void> {
    const batch = this.gathering;
    this.gathering = [];
    const progress = batch[0]!.progress;
    try {
      const failed = await launchNodes(
        await this.run(),
        context,
        this.wanted(),
        batch.map((c) => c.node),
        progress,
      );
      for (const c of batch) c.done(failed.get(c.node.name));
    } catch (err) {
      for (const c of batch) c.done(new StepError(c.node.name, 'launch instance', errorMessage(err)));
    }
  }

  async start(name: string, progress: ProgressSink): Promise<void> {
    await startInstance(await this.run(), name, progress);
  }

  /** Stop the node's instance (its volume kept, its private address too) and wait until it is stopped. */
  async stop(name: string, progress: ProgressSink): Promise<void> {
    await stopInstance(await this.run(), name, progress);
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

  /** SSH targets of the named instances (default: every running one), once they run: see reachInstances. */
  async reach(names?: string[], progress: ProgressSink = () => undefined): Promise<Machine[]> {
    return reachInstances(await this.run(), this.wanted(), this.users, names, progress);
  }

  /** Checks first (everything that can be refused), then the key pair and the security group. */
  private async settle(progress: ProgressSink): Promise<{ context: LaunchContext; created: string[] }> {
    const run = await this.run();
    return settleLaunch(run, await this.checkPermissions(), progress);
  }

  /** What the provider's steps share (launch-context, launch-instance, stop-start, reach). */
  private async run(): Promise<Ec2Run> {
    return {
      api: await this.aws(),
      spec: this.spec,
      ec2: this.ec2,
      state: this.state,
      resourceName: this.resourceName,
      opts: this.opts,
    };
  }
}
