import Docker from 'dockerode';
import type { ClusterSpec } from '../../config/cluster.ts';
import { errorMessage, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { byRoleThenNumber, wantedNodes } from '../node-names.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import type { SeenNetwork } from '../../net/networks.ts';
import { slotAddress } from './addresses.ts';
import { contextOf, describeEngine, dockerodeOptions, resolveEngine, type Engine } from './endpoint.ts';
import { describeLabelled, listLabelled, removalLines, removeLabelled } from './cleanup.ts';
import { createLabels, NODE_LABEL, ownFilter, ROLE_LABEL } from './labels.ts';
import { refuseNamesakes } from './namesakes.ts';
import { customNode, engineNode, fallbackSecurity, type NodeFlavour } from './node-boot.ts';
import { waitBooted, whyNotRunning } from './node-health.ts';
import { ensureNodeImage } from './node-image.ts';
import { ensureNodeNetwork, networkName, seenNetworks } from './node-network.ts';

/** Node containers come back with their engine: after a restart of it or of the host, the swarm re-forms. */
const RESTART_POLICY = { Name: 'unless-stopped' } as const;

/**
 * Each node is a container on the engine the docker CLI would use (DOCKER_HOST, the docker context) running its own Docker engine and sshd, on a
 * bridge network of the cluster's own with a subnet of its own, each node at the fixed address of its slot (so a
 * restarted manager is where raft expects it). sshd is published on 127.0.0.1 only, so it works the same on Docker
 * Desktop.
 */
export class DockerProvider implements Provider {
  readonly name = 'docker';
  readonly createsMachines = true;
  private readonly docker: Docker;
  /** null: not yet known whether this engine allows --privileged. */
  private privilegedAllowed: boolean | null = null;
  /** The first create on this engine, which finds out whether --privileged works. */
  private probing?: Promise<void>;
  private image?: string;
  /** The cluster network's own subnet, once known; null: a network made without one (an older swarmup). */
  private subnet?: string | null;

  /** What the node containers are made of: the spec's suite or image (tests also make bare machines). */
  private readonly flavour: NodeFlavour;

  constructor(
    private readonly spec: ClusterSpec,
    private readonly state: StateStore,
    flavour?: NodeFlavour,
    /** The login the machines are handed out with. */
    private readonly user = 'root',
    /** Where the node containers run: by default the engine the docker CLI would use (see resolveEngine). */
    readonly engine: Engine = resolveEngine(spec.docker?.context),
  ) {
    this.docker = new Docker(dockerodeOptions(engine));
    this.flavour =
      flavour ??
      (spec.docker?.nodeImage ? customNode(spec.docker.nodeImage) : engineNode(spec.docker?.suite));
  }

  /** Node images run an engine from boot; bare machines (tests) have none. */
  get enginePreinstalled(): boolean {
    return this.flavour.engine;
  }

  private get network(): string {
    return networkName(this.spec);
  }

  wanted(): NodeWanted[] {
    return wantedNodes(this.spec.name, this.spec.managers, this.spec.workers);
  }

  async list(): Promise<MachineListing[]> {
    const containers = await this.listContainers();
    return containers.map((c) => ({
      name: c.Labels[NODE_LABEL] ?? c.Names[0]!.slice(1),
      role: c.Labels[ROLE_LABEL] === 'manager' ? 'manager' : 'worker',
      state: c.State === 'running' ? 'running' : c.State === 'restarting' ? 'starting' : 'stopped',
    }));
  }

  async prepare(progress: ProgressSink): Promise<string[]> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new StepError(
        'local',
        'reach the Docker engine',
        `${errorMessage(err)} (the engine at ${describeEngine(this.engine)}: is dockerd running?)`,
      );
    }
    // Before anything is made or recorded: objects of the cluster's names that are not this home's are refused.
    await refuseNamesakes(
      this.docker,
      this.spec.name,
      this.wanted().map((n) => n.name),
      this.engine.host,
    );
    this.state.clusterKey();
    this.state.write({
      name: this.spec.name,
      provider: 'docker',
      endpoint: this.engine.host,
      dockerContext: contextOf(this.engine),
      // What the nodes are made from: later runs (scale, heal) make theirs alike.
      ...(this.flavour.suite
        ? { engineSuite: this.flavour.suite, nodeImage: undefined }
        : { nodeImage: this.flavour.image }),
    });
    this.image = await ensureNodeImage(this.docker, progress, this.flavour);
    const made = (await this.ensureNetwork(progress)) ? [`network ${this.network}`] : [];
    return [...made, ...(await this.ensureRestartPolicy(progress))];
  }

  /** Every network of the engine the node containers run on (theirs among them, once made). */
  seenNetworks(): Promise<SeenNetwork[]> {
    return seenNetworks(this.docker);
  }

  async create(node: NodeWanted, progress: ProgressSink): Promise<void> {
    const image = this.image ?? (await ensureNodeImage(this.docker, progress, this.flavour));
    // The first node tells whether --privileged works on this engine; the others wait for that answer.
    if (this.privilegedAllowed === null && this.probing) await this.probing.catch(() => undefined);
    progress(`${node.name}: creating`);
    // A machine made anew has host keys of its own: the ones pinned for an earlier machine of that name go.
    this.state.knownHosts().forget(node.name);
    const attempt = this.createNode(node, image, this.state.clusterKey().publicKey);
    if (this.privilegedAllowed === null) this.probing ??= attempt;
    try {
      await attempt;
    } catch (err) {
      throw err instanceof StepError
        ? err
        : new StepError(node.name, 'create node container', errorMessage(err));
    }
  }

  async start(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: starting`);
    const c = this.docker.getContainer(await this.containerId(name));
    try {
      await c.start();
    } catch (err) {
      // Started meanwhile (its restart policy, or another command): what was asked for is done.
      if (!/already started|304/i.test(errorMessage(err))) throw err;
    }
  }

  /** Stop one node container: its engine is stopped first (the node's boot script forwards the signal). */
  async stop(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: stopping`);
    const c = this.docker.getContainer(await this.containerId(name));
    try {
      await c.stop({ t: 60 });
    } catch (err) {
      if (!/already stopped|not running|304/i.test(errorMessage(err))) throw err;
    }
  }

  async remove(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: removing its container and volume`);
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (c) await this.docker.getContainer(c.Id).remove({ force: true, v: true });
    const volumes = await this.docker.listVolumes({
      filters: ownFilter(this.spec.name, `${NODE_LABEL}=${name}`),
    });
    for (const v of volumes.Volumes ?? []) await this.docker.getVolume(v.Name).remove();
  }

  /** SSH targets of running node containers, found by label: managers first, then workers, in index order. */
  async reach(names?: string[]): Promise<Machine[]> {
    const containers = (await this.listContainers()).filter(
      (c) => c.State === 'running' && (!names || names.includes(c.Labels[NODE_LABEL] ?? '')),
    );
    const privateKey = this.state.clusterKeyPath();
    const node = (c: Docker.ContainerInfo): NodeWanted => ({
      name: c.Labels[NODE_LABEL] ?? '',
      role: c.Labels[ROLE_LABEL] === 'manager' ? 'manager' : 'worker',
    });
    containers.sort((a, b) => byRoleThenNumber(node(a), node(b)));
    const machines = containers.map((c) => {
      const name = c.Labels[NODE_LABEL] ?? c.Names[0]!.slice(1);
      const port = c.Ports.find((p) => p.PrivatePort === 22 && p.IP === '127.0.0.1')?.PublicPort;
      const ip = c.NetworkSettings?.Networks?.[this.network]?.IPAddress;
      if (!port || !ip)
        throw new StepError(name, 'inspect node container', 'no SSH port on 127.0.0.1 or no cluster address');
      return {
        name,
        address: '127.0.0.1',
        port,
        user: this.user,
        privateKey,
        advertiseAddress: ip,
        // Pinned by node, not by 127.0.0.1:<port>: the published port changes when the container restarts.
        hostKeyAlias: name,
        role: c.Labels[ROLE_LABEL] === 'manager' ? ('manager' as const) : ('worker' as const),
      };
    });
    const missing = (names ?? []).filter((n) => !machines.some((m) => m.name === n));
    if (missing.length > 0) throw await this.whyNotRunning(missing[0]!);
    return machines;
  }

  get endpoint(): string {
    return this.engine.host;
  }

  async location(): Promise<string> {
    return `the Docker engine at ${describeEngine(this.engine)}`;
  }

  async removable(): Promise<string[]> {
    const mine = await this.own();
    return mine ? removalLines(mine) : [];
  }

  /** This home's objects of the cluster, removed; proven by listing them again (anything left fails, naming it). */
  async removeAll(progress: ProgressSink): Promise<{ removed: string[] }> {
    const mine = await this.own();
    if (!mine) return { removed: [] };
    progress(`removing ${describeLabelled(mine)}`);
    const removed = await removeLabelled(this.docker, mine);
    const left = await this.own();
    if (left)
      throw new StepError(
        'local',
        'remove the cluster',
        `still there after removal: ${describeLabelled(left)}`,
      );
    return { removed };
  }

  /** The cluster's objects made by this state home (ownFilter), or undefined when there are none. */
  private async own() {
    return (await listLabelled(this.docker, ownFilter(this.spec.name))).get(this.spec.name);
  }

  /** A node container that does not run: why, from its state and the last lines it wrote. */
  private async whyNotRunning(name: string): Promise<StepError> {
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    return whyNotRunning(this.docker, name, c);
  }

  /** The cluster's bridge network (see ensureNodeNetwork); true when it had to be made. */
  private async ensureNetwork(progress: ProgressSink): Promise<boolean> {
    const { made, subnet } = await ensureNodeNetwork(this.docker, this.spec, this.state, progress);
    this.subnet = subnet;
    return made;
  }

  private async containerId(name: string): Promise<string> {
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (!c) throw new StepError(name, 'find node container', 'no container of that name');
    return c.Id;
  }

  private listContainers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: ownFilter(this.spec.name) });
  }

  /** Node containers made before restart policies were set get one (`unless-stopped`); one line per container. */
  private async ensureRestartPolicy(progress: ProgressSink): Promise<string[]> {
    const updated = await Promise.all(
      (await this.listContainers()).map(async (c) => {
        const container = this.docker.getContainer(c.Id);
        const policy = ((await container.inspect()) as { HostConfig?: { RestartPolicy?: { Name?: string } } })
          .HostConfig?.RestartPolicy?.Name;
        if (policy && policy !== 'no') return [];
        await container.update({ RestartPolicy: RESTART_POLICY });
        const name = c.Labels[NODE_LABEL] ?? c.Names[0]!.slice(1);
        progress(`${name}: restart policy ${RESTART_POLICY.Name}`);
        return [`restart policy of ${name}`];
      }),
    );
    return updated.flat();
  }

  /** The fixed address of a node: the one recorded for it, else its slot's (recorded now); none on an old network. */
  private fixedAddress(node: NodeWanted): string | undefined {
    if (!this.subnet) return undefined;
    const recorded = this.state.read()?.addresses?.[node.name];
    const address = recorded ?? slotAddress(this.subnet, node);
    if (!recorded)
      this.state.write({
        name: this.spec.name,
        provider: 'docker',
        addresses: { ...this.state.read()?.addresses, [node.name]: address },
      });
    return address;
  }

  private async createNode(node: NodeWanted, image: string, publicKey: string): Promise<void> {
    const labels = { ...createLabels(this.spec.name), [NODE_LABEL]: node.name, [ROLE_LABEL]: node.role };
    const volume = `${node.name}-docker`;
    if (this.subnet === undefined) await this.ensureNetwork(() => undefined);
    const address = this.fixedAddress(node);
    await this.docker.createVolume({ Name: volume, Labels: labels });
    const create = (privileged: boolean) =>
      this.docker.createContainer({
        name: node.name,
        Hostname: node.name,
        Image: image,
        Cmd: ['/bin/sh', '-c', this.flavour.bootScript],
        Env: [`SWARMUP_AUTHORIZED_KEY=${publicKey}`, `SWARMUP_NODE=${node.name}`],
        Labels: labels,
        ExposedPorts: { '22/tcp': {} },
        HostConfig: {
          ...(privileged ? { Privileged: true } : fallbackSecurity),
          CgroupnsMode: 'host',
          Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
          Mounts: [{ Type: 'volume', Source: volume, Target: '/var/lib/docker' }],
          PortBindings: { '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
          NetworkMode: this.network,
          RestartPolicy: RESTART_POLICY,
          Init: false,
        },
        ...(address
          ? {
              NetworkingConfig: {
                EndpointsConfig: { [this.network]: { IPAMConfig: { IPv4Address: address } } },
              },
            }
          : {}),
      } as unknown as Docker.ContainerCreateOptions);

    const tryPrivileged = this.privilegedAllowed !== false;
    const container = await create(tryPrivileged);
    try {
      await container.start();
      if (tryPrivileged) this.privilegedAllowed = true;
    } catch (err) {
      if (!tryPrivileged || !/caps|operation not permitted/i.test(errorMessage(err))) {
        throw new StepError(node.name, 'start node container', errorMessage(err));
      }
      // --privileged refused on this engine: use the explicit capability set instead.
      this.privilegedAllowed = false;
      await container.remove({ force: true });
      const fallback = await create(false);
      await fallback.start();
      return waitBooted(node.name, fallback, () => this.whyNotRunning(node.name));
    }
    await waitBooted(node.name, container, () => this.whyNotRunning(node.name));
  }
}
