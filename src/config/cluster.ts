import { homedir } from 'node:os';
import { InputError } from '../errors.ts';
import { defaultManagerCount, managerCountProblem } from './policy.ts';
import { clusterName, type ConfigFile, type ProviderName } from './schema.ts';

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
  configFile?: string;
}

export interface CliFlags {
  name?: string;
  provider?: string;
  managers?: string;
  workers?: string;
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
  const parsedName = clusterName.safeParse(name);
  if (!parsedName.success) {
    throw new InputError(
      `${flags.name ? '--name' : where('name')}: "${name}": ${parsedName.error.issues[0]?.message}`,
    );
  }

  const provider = (flags.provider ?? file?.provider ?? (file?.hosts ? 'ssh' : 'docker')) as ProviderName;
  if (!(['docker', 'ssh', 'ec2', 'multipass'] as string[]).includes(provider)) {
    throw new InputError(`--provider: "${provider}" is not a provider (docker, ssh, ec2, multipass)`);
  }
  if (provider === 'ec2' || provider === 'multipass') {
    throw new InputError(
      `--provider ${provider}: not available in this version of swarmup (docker and ssh are)`,
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

  if (provider === 'docker') {
    if (file?.hosts)
      throw new InputError(where('hosts: only for provider ssh (the docker provider creates its nodes)'));
    const managers = wantedManagers ?? 3;
    const workers = flagWorkers ?? file?.workers ?? 2;
    if (workers > 100)
      throw new InputError(`${flagWorkers !== undefined ? '--workers' : where('workers')}: at most 100`);
    const problem = managerCountProblem(managers, managers + workers);
    if (problem) throw new InputError(`${managersField}: ${problem}`);
    return { name, provider, managers, workers, hosts: [], engine, ...(configFile ? { configFile } : {}) };
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
