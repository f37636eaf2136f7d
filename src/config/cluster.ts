import { homedir } from 'node:os';
import { InputError } from '../errors.ts';
import { defaultManagerCount, managerCountProblem } from './policy.ts';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from './names.ts';
import type { ConfigFile, ProviderName } from './schema.ts';

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
}

export interface JumpHost {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKey?: string;
}

/** `[user@]host[:port]` (IPv6 in brackets), as `ssh -J` takes it. */
export function parseBastion(
  text: string,
  field: string,
  defaultUser: string,
  privateKey?: string,
): JumpHost {
  const m = /^(?:([^@\s]+)@)?(\[[0-9a-fA-F:]+\]|[^:\s@[\]]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m || (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))) {
    throw new InputError(`${field}: "${text}" is not [user@]host[:port]`);
  }
  const address = m[2]!.replace(/^\[|\]$/g, '');
  return {
    name: `bastion ${address}`,
    address,
    port: m[3] ? Number(m[3]) : 22,
    user: m[1] ?? defaultUser,
    ...(privateKey ? { privateKey } : {}),
  };
}

/** Everything `up` needs to know about the wanted cluster, from flags and the config file. */
export interface ClusterSpec {
  name: string;
  provider: ProviderName;
  managers: number;
  /** Machines the provider creates (docker); for ssh the hosts are given. */
  workers: number;
  hosts: HostSpec[];
  engine: { source: 'docker-ce' | 'distro' | 'script' | 'none'; version?: string };
  ec2?: Ec2Spec;
  configFile?: string;
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

export const DEFAULT_AMI_PARAMETER =
  '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';

export interface CliFlags {
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
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const CIDR6 = /^[0-9a-fA-F:]+\/\d{1,3}$/;

function resolveEc2(file: ConfigFile | undefined, flags: CliFlags, where: (f: string) => string): Ec2Spec {
  const f = file?.ec2 ?? {};
  const cidrs =
    flags.sshCidr !== undefined
      ? flags.sshCidr.split(',').map((c) => c.trim())
      : f.sshCidr === undefined
        ? undefined
        : [f.sshCidr].flat();
  const cidrField = flags.sshCidr !== undefined ? '--ssh-cidr' : where('ec2.sshCidr');
  for (const c of cidrs ?? []) {
    const m = CIDR4.exec(c);
    const ok = m ? m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32 : CIDR6.test(c);
    if (!ok) throw new InputError(`${cidrField}: "${c}" is not a CIDR block like 203.0.113.7/32`);
  }
  const allowWorld = flags.allowSshFromAnywhere ?? f.allowSshFromAnywhere ?? false;
  const world = (cidrs ?? []).filter((c) => c === '0.0.0.0/0' || c === '::/0'); // refused unless explicitly allowed
  if (world.length > 0 && !allowWorld) {
    throw new InputError(
      `${cidrField}: ${world.join(', ')} would open SSH to the whole internet; pass --allow-ssh-from-anywhere if you mean it`,
    );
  }
  const subnets = flags.subnets ? flags.subnets.split(',').map((x) => x.trim()) : f.subnets;
  for (const sn of subnets ?? []) {
    if (!/^subnet-[0-9a-f]+$/.test(sn))
      throw new InputError(`--subnets: "${sn}" is not a subnet id like subnet-0123abcd`);
  }
  const bastion = flags.bastion ?? f.bastion;
  if (bastion) parseBastion(bastion, flags.bastion ? '--bastion' : where('ec2.bastion'), 'root');
  const ami = flags.ami ?? f.ami;
  if (ami && !/^ami-[0-9a-f]+$/.test(ami))
    throw new InputError(`--ami: "${ami}" is not an AMI id like ami-0123456789abcdef0`);
  return {
    ...((flags.region ?? f.region) ? { region: (flags.region ?? f.region)! } : {}),
    ...((flags.profile ?? f.profile) ? { profile: (flags.profile ?? f.profile)! } : {}),
    instanceType: flags.instanceType ?? f.instanceType ?? 't3.small',
    diskGiB: f.diskGiB ?? 20,
    ...(ami ? { ami } : {}),
    amiParameter: f.amiParameter ?? DEFAULT_AMI_PARAMETER,
    ...(f.user ? { user: f.user } : {}),
    ...(cidrs ? { sshCidrs: cidrs } : {}),
    ...((flags.sshKey ?? f.sshKey) ? { sshKey: expandHome((flags.sshKey ?? f.sshKey)!) } : {}),
    ...(subnets ? { subnets } : {}),
    encryptedOverlay: flags.encryptedOverlay ?? f.encryptedOverlay ?? false,
    allowSshFromAnywhere: allowWorld,
    ...((flags.bastion ?? f.bastion) ? { bastion: (flags.bastion ?? f.bastion)! } : {}),
  };
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
  if (!(['docker', 'ssh', 'ec2', 'multipass'] as string[]).includes(provider)) {
    throw new InputError(`--provider: "${provider}" is not a provider (docker, ssh, ec2, multipass)`);
  }
  if (provider === 'multipass') {
    throw new InputError(
      `--provider ${provider}: not available in this version of swarmup (docker, ssh and ec2 are)`,
    );
  }

  const flagManagers = intFlag('--managers', flags.managers);
  const flagWorkers = intFlag('--workers', flags.workers);
  const managersField = flagManagers !== undefined ? '--managers' : where('managers');
  const wantedManagers = flagManagers ?? file?.managers;

  const engine = {
    // docker-ce (Docker's own repository) is what real machines get by default; a host whose engine is present
    // (every docker-provider node) is not touched whatever the source.
    source: file?.engine?.source ?? 'docker-ce',
    ...(file?.engine?.version ? { version: file.engine.version } : {}),
  } as ClusterSpec['engine'];

  if (provider === 'docker' || provider === 'ec2') {
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
    const ec2 = provider === 'ec2' ? { ec2: resolveEc2(file, flags, where) } : {};
    return {
      name,
      provider,
      managers,
      workers,
      hosts: [],
      engine,
      ...ec2,
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
    throw new InputError('--workers: only for providers that create machines (docker)');
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
    ...(configFile ? { configFile } : {}),
  };
}
