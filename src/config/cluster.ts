import { homedir } from 'node:os';
import { InputError } from '../errors.ts';
import { providerNamed } from '../providers/registry.ts';
import { parseBastion, type JumpHost } from './bastion.ts';

export { parseBastion, type JumpHost } from './bastion.ts';
import { defaultManagerCount, managerCountProblem } from './policy.ts';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from './names.ts';
import type { ConfigFile, ProviderName } from './schema.ts';
import { resolveSwarmOptions, type SwarmFlags, type SwarmOptions } from './swarm-options.ts';

export type Role = 'manager' | 'worker';

/** A machine to reach over SSH, fully resolved (defaults applied). */
export interface HostSpec {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKey?: string;
  /** The address other nodes reach this one on (Swarm's --advertise-addr). */
  advertiseAddress: string;
  role: Role | 'auto';
  /** Reach this host through a jump host (bastion), as `ssh -J` does. */
  jump?: JumpHost;
  /** Pin the host key under this name rather than address:port (node containers: their port changes). */
  hostKeyAlias?: string;
}

/** Everything `up` needs to know about the wanted cluster, from flags and the config file. */
export interface ClusterSpec {
  name: string;
  provider: ProviderName;
  managers: number;
  /** Machines the provider creates (docker); for ssh the hosts are given. */
  workers: number;
  hosts: HostSpec[];
  /** `sourceDefaulted`: engine.source was not given (docker-ce by default, which a system may replace by its own). */
  engine: { source: 'docker-ce' | 'distro' | 'script' | 'none'; version?: string; sourceDefaulted?: true };
  /** Settings of `swarm init` and autolock. */
  swarm: SwarmOptions;
  ec2?: Ec2Spec;
  multipass?: MultipassSpec;
  docker?: DockerSpec;
  configFile?: string;
}

/** The docker provider's node containers: the Debian suite their image is built from, or an image of your own. */
export interface DockerSpec {
  suite: 'bookworm' | 'trixie' | 'sid';
  nodeImage?: string;
}

/** EC2 settings, flags over the file's `ec2:` section. */
export interface Ec2Spec {
  region?: string;
  profile?: string;
  instanceType: string;
  diskGiB: number;
  ami?: string;
  amiParameter: string;
  /** Login user; by default from the image (ubuntu, admin, ec2-user). */
  user?: string;
  /** Who may reach SSH; undefined: this machine's public address, learnt at `up`. */
  sshCidrs?: string[];
  /** Public key to import; by default the cluster's own key pair, made locally. */
  sshKey?: string;
  subnets?: string[];
  encryptedOverlay: boolean;
  allowSshFromAnywhere: boolean;
  /** `[user@]host[:port]`: SSH to the instances' private addresses through this jump host. */
  bastion?: string;
}

/** Multipass VMs, flags over the file's `multipass:` section; sizes as Multipass reads them (`1G`, `512M`). */
export interface MultipassSpec {
  image: string;
  cpus: number;
  memory: string;
  disk: string;
}

export const DEFAULT_AMI_PARAMETER =
  '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';
/** The same image for arm64 instance types (Graviton: t4g, m7g, ...). */
export const DEFAULT_AMI_PARAMETER_ARM64 =
  '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id';

export interface CliFlags extends SwarmFlags {
  name?: string;
  provider?: string;
  managers?: string;
  workers?: string;
  region?: string;
  profile?: string;
  instanceType?: string;
  ami?: string;
  sshCidr?: string;
  sshKey?: string;
  subnets?: string;
  encryptedOverlay?: boolean;
  allowSshFromAnywhere?: boolean;
  bastion?: string;
  /** docker: the Debian suite of the node image (SWARMUP_ENGINE_SUITE), or an image of your own. */
  engineSuite?: string;
  nodeImage?: string;
  /** Multipass: image, CPUs, memory and disk of each VM. */
  image?: string;
  cpus?: string;
  memory?: string;
  disk?: string;
}

export const defaultClusterName = 'local';

function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError(`${flag}: expected a whole number, got "${value}"`);
  return Number(value);
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** Merge flags over the config file, apply defaults and the manager policy, and refuse anything inconsistent. */
export function resolveCluster(
  file: ConfigFile | undefined,
  flags: CliFlags,
  configFile?: string,
): ClusterSpec {
  const where = (field: string) => (configFile ? `${configFile}: ${field}` : field);

  const name = flags.name ?? file?.name ?? defaultClusterName;
  if (!CLUSTER_NAME.test(name)) {
    throw new InputError(`${flags.name ? '--name' : where('name')}: "${name}": ${CLUSTER_NAME_RULE}`);
  }

  const provider = (flags.provider ?? file?.provider ?? (file?.hosts ? 'ssh' : 'docker')) as ProviderName;
  const descriptor = providerNamed(provider, flags.provider ? '--provider' : where('provider'));

  const flagManagers = intFlag('--managers', flags.managers);
  const flagWorkers = intFlag('--workers', flags.workers);
  const managersField = flagManagers !== undefined ? '--managers' : where('managers');
  const wantedManagers = flagManagers ?? file?.managers;

  const engine = {
    // docker-ce (Docker's own repository) is what real machines get by default; a host whose engine is present
    // (every docker-provider node) is not touched whatever the source.
    source: file?.engine?.source ?? 'docker-ce',
    ...(file?.engine?.version ? { version: file.engine.version } : {}),
    ...(file?.engine?.source ? {} : { sourceDefaulted: true }),
  } as ClusterSpec['engine'];
  const swarm = resolveSwarmOptions(file, flags, where);

  if (descriptor.createsMachines) {
    if (file?.hosts)
      throw new InputError(
        where(`hosts: only for provider ssh (the ${provider} provider creates its nodes)`),
      );
    const managers = wantedManagers ?? 3;
    const workers = flagWorkers ?? file?.workers ?? 2;
    if (workers > 100)
      throw new InputError(`${flagWorkers !== undefined ? '--workers' : where('workers')}: at most 100`);
    const problem = managerCountProblem(managers, managers + workers);
    if (problem) throw new InputError(`${managersField}: ${problem}`);
    return {
      name,
      provider,
      managers,
      workers,
      hosts: [],
      engine,
      swarm,
      ...descriptor.resolve?.(file, flags, where),
      ...(configFile ? { configFile } : {}),
    };
  }

  // provider ssh: the machines are the hosts listed in the file.
  const hostsIn = file?.hosts ?? [];
  if (hostsIn.length === 0) {
    throw new InputError(
      configFile
        ? where('hosts: provider ssh needs at least one host')
        : '--config: provider ssh needs a config file with hosts',
    );
  }
  if (flagWorkers !== undefined)
    throw new InputError(`--workers: only for providers that create machines, not ${provider}`);
  const sshDefaults = file?.ssh ?? {};
  const hosts: HostSpec[] = hostsIn.map((h) => ({
    name: h.name,
    address: h.address,
    port: h.port ?? sshDefaults.port ?? 22,
    user: h.user ?? sshDefaults.user ?? 'root',
    ...((h.privateKey ?? sshDefaults.privateKey)
      ? { privateKey: expandHome((h.privateKey ?? sshDefaults.privateKey)!) }
      : {}),
    advertiseAddress: h.advertiseAddress ?? h.address,
    role: h.role ?? 'auto',
  }));
  if (sshDefaults.bastion) {
    // Every host through the same jump host, with the host's own user and key (or ssh-agent).
    for (const h of hosts)
      h.jump = parseBastion(sshDefaults.bastion, where('ssh.bastion'), h.user, h.privateKey);
  }

  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    if (seen.has(h.name))
      throw new InputError(
        where(`hosts[${i}].name: "${h.name}" is already used by hosts[${seen.get(h.name)}]`),
      );
    seen.set(h.name, i);
  });
  const targets = new Map<string, number>();
  hosts.forEach((h, i) => {
    const key = `${h.address}:${h.port}`;
    if (targets.has(key))
      throw new InputError(where(`hosts[${i}]: ${key} is already used by hosts[${targets.get(key)}]`));
    targets.set(key, i);
  });

  const explicitManagers = hosts.filter((h) => h.role === 'manager').length;
  const explicitWorkers = hosts.filter((h) => h.role === 'worker').length;
  const managers = wantedManagers ?? Math.max(defaultManagerCount(hosts.length), explicitManagers);
  const problem = managerCountProblem(managers, hosts.length);
  if (problem) throw new InputError(`${managersField}: ${problem}`);
  if (explicitManagers > managers) {
    throw new InputError(
      where(`hosts: ${explicitManagers} hosts have role manager but managers is ${managers}`),
    );
  }
  if (hosts.length - explicitWorkers < managers) {
    throw new InputError(
      where(
        `hosts: ${explicitWorkers} of ${hosts.length} hosts have role worker, leaving fewer than the ${managers} managers`,
      ),
    );
  }
  return {
    name,
    provider,
    managers,
    workers: hosts.length - managers,
    hosts,
    engine,
    swarm,
    ...(configFile ? { configFile } : {}),
  };
}
