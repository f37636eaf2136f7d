import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import Docker from 'dockerode';
import type { ClusterSpec } from '../../config/cluster.ts';
import { errorMessage, InputError, StepError } from '../../errors.ts';
import { readOwner } from '../../state/owner.ts';
import { swarmupHome, type StateStore } from '../../state/store.ts';
import { byRoleThenNumber, wantedNodes } from '../node-names.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import type { SeenNetwork } from '../../net/networks.ts';
import { withDeadline } from '../../transport/deadline.ts';
import { sleep } from '../../transport/ssh-connection.ts';
import { chooseNodeSubnet, gatewayOf, slotAddress } from './addresses.ts';
import { dockerEndpoint } from './endpoint.ts';
import { describeLabelled, listLabelled, removalLines, removeLabelled } from './cleanup.ts';
import { anyOwnerFilter, createLabels, NODE_LABEL, ownFilter, ROLE_LABEL, SUBNET_LABEL } from './labels.ts';
import { foreignNamesakes, namesOf, type EngineObject } from './namesakes.ts';
import { customNode, engineNode, fallbackSecurity, type NodeFlavour } from './node-boot.ts';
import { ensureNodeImage } from './node-image.ts';

/** Node containers come back with their engine: after a restart of it or of the host, the swarm re-forms. */
const RESTART_POLICY = { Name: 'unless-stopped' } as const;

/**
 * Each node is a container on the local engine (DOCKER_HOST honoured) running its own Docker engine and sshd, on a
 * bridge network of the cluster's own with a subnet of its own, each node at the fixed address of its slot (so a
 * restarted manager is where raft expects it). sshd is published on 127.0.0.1 only, so it works the same on Docker
 * Desktop.
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
  ) {
    this.flavour =
      flavour ??
      (spec.docker?.nodeImage ? customNode(spec.docker.nodeImage) : engineNode(spec.docker?.suite));
  }

  /** Node images run an engine from boot; bare machines (tests) have none. */
  get enginePreinstalled(): boolean {
    return this.flavour.engine;
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
    // Before anything is made or recorded: objects of the cluster's names that are not this home's are refused.
    await this.refuseNamesakes();
    this.state.clusterKey();
    this.state.write({
      name: this.spec.name,
      provider: 'docker',
      endpoint: dockerEndpoint(),
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
  async seenNetworks(): Promise<SeenNetwork[]> {
    const networks = await withDeadline(
      this.docker.listNetworks(),
      30_000,
      'the local Docker engine: networks',
    );
    return [
      ...networks.flatMap((n) =>
        (n.IPAM?.Config ?? []).flatMap((c) =>
          c.Subnet ? [{ cidr: c.Subnet, where: `network ${n.Name} of the local engine` }] : [],
        ),
      ),
      ...localNetworks(),
    ];
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

  async location(): Promise<string> {
    return `the Docker engine at ${dockerEndpoint()}`;
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

  /**
   * Refused (bad input, nothing changed) when the engine has objects labelled for this cluster or named as its
   * objects are that this state home did not make: another home's cluster of the same name (two CI jobs with the
   * default name on one engine), an older swarmup's, or not swarmup's at all.
   */
  private async refuseNamesakes(): Promise<void> {
    const names = namesOf(
      this.spec.name,
      this.wanted().map((n) => n.name),
    );
    // By label (any owner), and by name: the engine matches a name filter as a part of the name (names are made of
    // [a-z0-9-], the same read as a pattern), so each exact name is among what it returns.
    const byLabel = anyOwnerFilter(this.spec.name);
    const d = this.docker;
    const [containers, volumes, networks] = await Promise.all([
      Promise.all(
        [byLabel, { name: names.container }].map((filters) => d.listContainers({ all: true, filters })),
      ),
      Promise.all([byLabel, { name: names.volume }].map((filters) => d.listVolumes({ filters }))),
      Promise.all([byLabel, { name: names.network }].map((filters) => d.listNetworks({ filters }))),
    ]);
    const objects: EngineObject[] = [
      ...containers.flat().map((c) => ({
        kind: 'container' as const,
        name: c.Names[0]?.slice(1) ?? c.Id,
        labels: c.Labels,
      })),
      ...volumes
        .flatMap((v) => v.Volumes ?? [])
        .map((v) => ({ kind: 'volume' as const, name: v.Name, labels: v.Labels })),
      ...networks.flat().map((n) => ({ kind: 'network' as const, name: n.Name, labels: n.Labels })),
    ];
    const foreign = foreignNamesakes(objects, this.spec.name, readOwner(), names);
    if (foreign.length === 0) return;
    throw new InputError(
      `cluster ${this.spec.name}: the Docker engine at ${dockerEndpoint()} has ${foreign.length === 1 ? 'an object' : 'objects'} ` +
        `of its names that this state home (${swarmupHome()}) did not make: ${foreign.join('; ')}. ` +
        'Nothing was changed. Use another --name, or remove them where they were made ' +
        `(swarmup down in that state home; swarmup cleanup --provider docker --name ${this.spec.name} --any-owner deletes another owner's)`,
    );
  }

  /** A node container that does not run: why, from its state and the last lines it wrote (a bad image says so). */
  private async whyNotRunning(name: string): Promise<StepError> {
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (!c) return new StepError(name, 'find node container', 'no container of that name');
    const container = this.docker.getContainer(c.Id);
    const inspect = (await container.inspect()) as {
      State?: { Status?: string; ExitCode?: number; Restarting?: boolean };
      RestartCount?: number;
    };
    const logs = await container
      .logs({ stdout: true, stderr: true, tail: 5 })
      .then((b) => demux(b as unknown as Buffer))
      .catch(() => '');
    const state = inspect.State;
    const what =
      state?.Restarting || (inspect.RestartCount ?? 0) > 0
        ? 'it stops as soon as it boots'
        : `it is ${state?.Status ?? c.State}${state?.ExitCode ? ` (exit ${state.ExitCode})` : ''}`;
    return new StepError(name, 'boot node container', `${what}${logs ? `: ${logs}` : ''} (image ${c.Image})`);
  }

  private async containerId(name: string): Promise<string> {
    const c = (await this.listContainers()).find((x) => x.Labels[NODE_LABEL] === name);
    if (!c) throw new StepError(name, 'find node container', 'no container of that name');
    return c.Id;
  }

  private listContainers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: ownFilter(this.spec.name) });
  }

  /**
   * The cluster's bridge network, with a subnet of its own (so each node keeps the address of its slot); true when
   * it had to be made. A network an older swarmup made without one is kept, and said so: its nodes get a new
   * address when they restart (and `up` then repairs the nodes whose address moved).
   */
  private async ensureNetwork(progress: ProgressSink): Promise<boolean> {
    const existing = (
      await this.docker.listNetworks({
        filters: { name: [this.network], ...ownFilter(this.spec.name) },
      })
    ).find((n) => n.Name === this.network);
    if (existing) {
      this.subnet = existing.Labels?.[SUBNET_LABEL] ?? null;
      if (this.subnet === null)
        progress(
          `network ${this.network} was made by an older swarmup without a subnet of its own: its node containers ` +
            'get new addresses when they restart; swarmup up repairs a node whose address moved',
        );
      return false;
    }
    const recorded = this.state.read()?.addrPool ?? [];
    const given = this.spec.swarm.defaultAddrPool ?? [];
    // Another cluster's network may be made at the same moment from the same view of the engine: the engine refuses
    // the second of two overlapping subnets, and the choice is made again from what it has then.
    let subnet: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const seen = [
        ...(await this.seenNetworks()),
        ...[...given, ...recorded].map((cidr) => ({ cidr, where: "the swarm's address pool" })),
      ];
      subnet = chooseNodeSubnet(seen);
      if (!subnet)
        throw new StepError(
          'local',
          `create network ${this.network}`,
          `every private /22 overlaps a network seen (${seen.length} of them)`,
        );
      try {
        await this.docker.createNetwork({
          Name: this.network,
          Driver: 'bridge',
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gatewayOf(subnet) }] },
          Labels: { ...createLabels(this.spec.name), [SUBNET_LABEL]: subnet },
        });
        break;
      } catch (err) {
        if (attempt >= 5 || !/overlap/i.test(errorMessage(err))) throw err;
        await sleep(100 * attempt);
      }
    }
    this.subnet = subnet;
    progress(`network ${this.network}: subnet ${subnet}, one fixed address per node`);
    return true;
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
      return this.booted(node.name, fallback);
    }
    await this.booted(node.name, container);
  }

  /**
   * Wait until the node's sshd greets (what the first SSH connection would wait for anyway), or fail at once, with
   * what the container wrote, when it stops: an image without sshd or dockerd says so in its log.
   */
  private async booted(name: string, container: Docker.Container, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = (await container.inspect()) as {
        State?: { Running?: boolean; Restarting?: boolean };
        RestartCount?: number;
        NetworkSettings?: { Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> };
      };
      // Its restart policy brings a node whose boot failed back, to fail again: stopped is not the only sign.
      if (!info.State?.Running || info.State.Restarting || (info.RestartCount ?? 0) > 0)
        throw await this.whyNotRunning(name);
      const port = Number(
        info.NetworkSettings?.Ports?.['22/tcp']?.find((p) => p.HostIp === '127.0.0.1')?.HostPort,
      );
      if (port && (await sshGreets(port))) return;
      if (Date.now() > deadline)
        throw new StepError(
          name,
          'boot node container',
          `its sshd did not answer within ${timeoutMs / 1000} s`,
        );
      await sleep(100);
    }
  }
}

/** Whether an SSH server greets on 127.0.0.1:port within half a second (docker-proxy accepts before sshd runs). */
function sshGreets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/**
 * This machine's own IPv4 networks, when the engine is on this machine (a unix socket): a node network or a swarm
 * pool overlapping one would hide it from the containers.
 */
function localNetworks(): SeenNetwork[] {
  if (!dockerEndpoint().startsWith('unix://')) return [];
  return Object.entries(networkInterfaces()).flatMap(([iface, addrs]) =>
    (addrs ?? []).flatMap((a) =>
      a.family === 'IPv4' && !a.internal && a.cidr
        ? [{ cidr: a.cidr, where: `interface ${iface} here` }]
        : [],
    ),
  );
}

/** The text of a container log as the Engine API sends it (8-byte frame headers without a terminal). */
function demux(buf: Buffer): string {
  const out: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  const lines = (out.length > 0 ? out.join('') : buf.toString('utf8')).trim().split('\n');
  return [...new Set(lines.slice(-3))].join(' / ');
}
