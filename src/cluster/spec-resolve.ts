import { InputError } from '../errors.ts';
import { parseBastion } from '../config/bastion.ts';
import { defaultClusterName, type CliFlags, type ClusterSpec, type HostSpec } from '../config/cluster.ts';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../config/names.ts';
import { defaultManagerCount, managerCountProblem, MAX_WORKERS, MAX_WORKERS_WHY } from '../config/policy.ts';
import type { ConfigFile, ProviderName } from '../config/schema.ts';
import { resolveSwarmOptions } from '../config/swarm-options.ts';
import { labelStrings } from '../config/labels.ts';
import { reachedAs, type SshResolve } from '../config/ssh-config-hosts.ts';
import type { ProviderDescriptor } from '../providers/descriptor.ts';
import { providerNamed } from '../providers/registry.ts';

/*
 * Spec resolution (flags | file | wizard answers -> ClusterSpec), above both config and providers: config holds the
 * schema, loading, defaults and policy; each provider descriptor resolves its own part (`descriptor.resolve`),
 * called from here.
 */

/** How a message names a flag: by the variable its value came from when it came from one (`SWARMUP_MANAGERS`). */
function flagName(flags: CliFlags, key: keyof NonNullable<CliFlags['fromEnv']>): string {
  return flags.fromEnv?.[key] ?? `--${key}`;
}

function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError(`${flag}: expected a whole number, got "${value}"`);
  return Number(value);
}

/** What both branches of resolveCluster (machines the provider creates; an ssh inventory) start from. */
interface Resolving {
  file: ConfigFile | undefined;
  flags: CliFlags;
  configFile: string | undefined;
  /** A field's name as a message gives it: prefixed with the config file when there is one. */
  where: (field: string) => string;
  name: string;
  provider: ProviderName;
  engine: ClusterSpec['engine'];
  swarm: ClusterSpec['swarm'];
  flagWorkers: number | undefined;
  wantedManagers: number | undefined;
  /** Where the manager count comes from (--managers or the file's field), as a message names it. */
  managersField: string;
  /** ~/.ssh/config as OpenSSH resolves it (see resolveCluster). */
  sshResolve: SshResolve | undefined;
}

/** Merge flags over the config file, apply defaults and the manager policy, and refuse anything inconsistent. */
export function resolveCluster(
  file: ConfigFile | undefined,
  flags: CliFlags,
  configFile?: string,
  /** ~/.ssh/config as OpenSSH resolves it, for the ssh provider's hosts (none: --no-ssh-config, or no ssh). */
  sshResolve?: SshResolve,
): ClusterSpec {
  const where = (field: string) => (configFile ? `${configFile}: ${field}` : field);

  const name = flags.name ?? file?.name ?? defaultClusterName;
  if (!CLUSTER_NAME.test(name)) {
    throw new InputError(
      `${flags.name ? flagName(flags, 'name') : where('name')}: "${name}": ${CLUSTER_NAME_RULE}`,
    );
  }

  const provider = (flags.provider ?? file?.provider ?? (file?.hosts ? 'ssh' : 'docker')) as ProviderName;
  const descriptor = providerNamed(
    provider,
    flags.provider ? flagName(flags, 'provider') : where('provider'),
  );

  const flagManagers = intFlag(flagName(flags, 'managers'), flags.managers);
  const flagWorkers = intFlag(flagName(flags, 'workers'), flags.workers);
  const r: Resolving = {
    file,
    flags,
    configFile,
    where,
    name,
    provider,
    engine: engineOf(file, provider),
    swarm: resolveSwarmOptions(file, flags, where),
    flagWorkers,
    wantedManagers: flagManagers ?? file?.managers,
    managersField: flagManagers !== undefined ? flagName(flags, 'managers') : where('managers'),
    sshResolve,
  };
  return descriptor.createsMachines ? resolveCreatedMachines(r, descriptor) : resolveInventory(r);
}

function engineOf(file: ConfigFile | undefined, provider: ProviderName): ClusterSpec['engine'] {
  return {
    // docker-ce (Docker's own repository) is what real machines get by default. The docker provider's nodes carry
    // Debian's docker.io (the node images are built from the Debian mirror): distro there, so that an engine
    // installed later (`swarmup upgrade`) stays in the package family the node has.
    source: file?.engine?.source ?? (provider === 'docker' ? 'distro' : 'docker-ce'),
    ...(file?.engine?.version ? { version: file.engine.version } : {}),
    ...(file?.engine?.source ? {} : { sourceDefaulted: true }),
  } as ClusterSpec['engine'];
}

/** A provider that creates machines: counts of managers and workers (no hosts), and the provider's own part. */
function resolveCreatedMachines(r: Resolving, descriptor: ProviderDescriptor): ClusterSpec {
  const { file, flags, where, provider, flagWorkers } = r;
  if (file?.hosts)
    throw new InputError(where(`hosts: only for provider ssh (the ${provider} provider creates its nodes)`));
  const managers = r.wantedManagers ?? 3;
  const workers = flagWorkers ?? file?.workers ?? 2;
  if (workers > MAX_WORKERS)
    throw new InputError(
      `${flagWorkers !== undefined ? flagName(flags, 'workers') : where('workers')}: ${MAX_WORKERS_WHY}`,
    );
  const problem = managerCountProblem(managers, managers + workers);
  if (problem) throw new InputError(`${r.managersField}: ${problem}`);
  return {
    name: r.name,
    provider,
    managers,
    workers,
    hosts: [],
    engine: r.engine,
    swarm: r.swarm,
    ...roleLabels(file),
    ...descriptor.resolve?.(file, flags, where),
    ...(r.configFile ? { configFile: r.configFile } : {}),
  };
}

/** Provider ssh: the machines are the hosts listed in the file; the manager count fits their roles. */
function resolveInventory(r: Resolving): ClusterSpec {
  const hosts = inventoryHosts(r);
  refuseDuplicateHosts(hosts, r.where);
  const managers = inventoryManagers(r, hosts);
  return {
    name: r.name,
    provider: r.provider,
    managers,
    workers: hosts.length - managers,
    hosts,
    engine: r.engine,
    swarm: r.swarm,
    ...roleLabels(r.file),
    ...(r.configFile ? { configFile: r.configFile } : {}),
  };
}

/** The file's `labels: { managers, workers }`, values as strings (none: no field). */
function roleLabels(file: ConfigFile | undefined): Pick<ClusterSpec, 'labels'> {
  const l = file?.labels;
  if (!l) return {};
  return {
    labels: {
      ...(l.managers ? { managers: labelStrings(l.managers) } : {}),
      ...(l.workers ? { workers: labelStrings(l.workers) } : {}),
    },
  };
}

/** The file's hosts, with the ssh defaults (port, user, key, bastion) applied. */
function inventoryHosts(r: Resolving): HostSpec[] {
  const { file, configFile, where } = r;
  const hostsIn = file?.hosts ?? [];
  if (hostsIn.length === 0) {
    throw new InputError(
      configFile
        ? where('hosts: provider ssh needs at least one host')
        : '--config: provider ssh needs a config file with hosts',
    );
  }
  if (r.flagWorkers !== undefined)
    throw new InputError(
      `${flagName(r.flags, 'workers')}: only for providers that create machines, not ${r.provider}`,
    );
  const sshDefaults = file?.ssh ?? {};
  const hosts: HostSpec[] = hostsIn.map((h) => {
    const reached = reachedAs(h, sshDefaults, r.sshResolve, r.where);
    return {
      name: h.name,
      ...reached,
      advertiseAddress: h.advertiseAddress ?? reached.address,
      role: h.role ?? 'auto',
      ...(h.labels ? { labels: labelStrings(h.labels) } : {}),
    };
  });
  if (sshDefaults.bastion) {
    // Every host through the same jump host, with the host's own user and key (or ssh-agent).
    for (const h of hosts)
      h.jump = parseBastion(sshDefaults.bastion, where('ssh.bastion'), h.user, h.privateKey);
  }
  return hosts;
}

/** Two hosts with the same name, or the same address and port, are refused. */
function refuseDuplicateHosts(hosts: HostSpec[], where: (field: string) => string): void {
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
}

/** The manager count (wanted, or the policy's default), refused when the hosts' roles leave it impossible. */
function inventoryManagers(r: Resolving, hosts: HostSpec[]): number {
  const { where } = r;
  const explicitManagers = hosts.filter((h) => h.role === 'manager').length;
  const explicitWorkers = hosts.filter((h) => h.role === 'worker').length;
  const managers = r.wantedManagers ?? Math.max(defaultManagerCount(hosts.length), explicitManagers);
  const problem = managerCountProblem(managers, hosts.length);
  if (problem) throw new InputError(`${r.managersField}: ${problem}`);
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
  return managers;
}
