import Docker from 'dockerode';
import type { ClusterSpec } from '../../config/cluster.ts';
import { errorMessage, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import { byRoleThenNumber, wantedNodes } from '../node-names.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import type { SeenNetwork } from '../../swarm/addr-pool.ts';
import { withDeadline } from '../../transport/deadline.ts';
import { dockerEndpoint } from './endpoint.ts';
import { describeLabelled, listLabelled, removalLines, removeLabelled } from './cleanup.ts';
import { CLUSTER_LABEL, clusterFilter, createLabels, NODE_LABEL, ROLE_LABEL } from './labels.ts';
import { engineNode, fallbackSecurity, type NodeFlavour } from './node-boot.ts';
import { ensureNodeImage } from './node-image.ts';

/**
 * Each node is a container on the local engine (DOCKER_HOST honoured) running its own Docker engine and sshd, on a
 * bridge network of the cluster's own. sshd is published on 127.0.0.1 only, so it works the same on Docker Desktop.
 */
export class DockerProvider implements Provider {
  readonly name = 'docker';
  readonly createsMachines = true;
  private readonly docker = new Docker();
  /** null: not yet known whether this engine allows --privileged. */
  private privilegedAllowed: boolean | null = null;
  /** The first create on this engine, which finds out whether --privileged works. */
  private probing?: Promise<void>;
  private image?: string;

  constructor(
    private readonly spec: ClusterSpec,
    private readonly state: StateStore,
    /** What the node containers are made of (the default has an engine; tests also make bare machines). */
    private readonly flavour: NodeFlavour = engineNode,
    /** The login the machines are handed out with. */
    private readonly user = 'root',
  ) {}

  /** The default node image runs an engine from boot; bare machines (tests) have none. */
  get enginePreinstalled(): boolean {
    return this.flavour === engineNode;
  }

  private get network(): string {
    return `swarmup-${this.spec.name}`;
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
        `${errorMessage(err)} (is dockerd running? DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'})`,
      );
    }
    this.state.clusterKey();
    this.state.write({ name: this.spec.name, provider: 'docker', endpoint: dockerEndpoint() });
    this.image = await ensureNodeImage(this.docker, progress, this.flavour);
    return (await this.ensureNetwork()) ? [`network ${this.network}`] : [];
  }

  /** Every network of the engine the node containers run on (theirs among them, once made). */
  async seenNetworks(): Promise<SeenNetwork[]> {
    const networks = await withDeadline(
      this.docker.listNetworks(),
      30_000,
      'the local Docker engine: networks',
    );
    return networks.flatMap((n) =>
      (n.IPAM?.Config ?? []).flatMap((c) =>
        c.Subnet ? [{ cidr: c.Subnet, where: `network ${n.Name} of the local engine` }] : [],
      ),
    );
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
    await this.docker.getContainer(await this.containerId(name)).start();
  }

  async remove(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: removing its container and volume`);
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (c) await this.docker.getContainer(c.Id).remove({ force: true, v: true });
    const volumes = await this.docker.listVolumes({ filters: { label: [`${NODE_LABEL}=${name}`] } });
    for (const v of volumes.Volumes ?? []) {
      if (v.Labels?.[CLUSTER_LABEL] === this.spec.name) await this.docker.getVolume(v.Name).remove();
    }
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
    if (missing.length > 0)
      throw new StepError(missing[0]!, 'find node container', 'no running container of that name');
    return machines;
  }

  async location(): Promise<string> {
    return `the Docker engine at ${dockerEndpoint()}`;
  }

  async removable(): Promise<string[]> {
    const mine = (await listLabelled(this.docker, this.spec.name)).get(this.spec.name);
    return mine ? removalLines(mine) : [];
  }

  async removeAll(progress: ProgressSink): Promise<{ removed: string[] }> {
    const mine = (await listLabelled(this.docker, this.spec.name)).get(this.spec.name);
    if (!mine) return { removed: [] };
    progress(`removing ${describeLabelled(mine)}`);
    return { removed: await removeLabelled(this.docker, mine) };
  }

  private async containerId(name: string): Promise<string> {
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (!c) throw new StepError(name, 'find node container', 'no container of that name');
    return c.Id;
  }

  private listContainers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: clusterFilter(this.spec.name) });
  }

  /** The cluster's bridge network; true when it had to be made. */
  private async ensureNetwork(): Promise<boolean> {
    const existing = await this.docker.listNetworks({
      filters: { name: [this.network], ...clusterFilter(this.spec.name) },
    });
    if (existing.some((n) => n.Name === this.network)) return false;
    await this.docker.createNetwork({
      Name: this.network,
      Driver: 'bridge',
      Labels: createLabels(this.spec.name),
    });
    return true;
  }

  private async createNode(node: NodeWanted, image: string, publicKey: string): Promise<void> {
    const labels = { ...createLabels(this.spec.name), [NODE_LABEL]: node.name, [ROLE_LABEL]: node.role };
    const volume = `${node.name}-docker`;
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
          Init: false,
        },
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
    }
  }
}
