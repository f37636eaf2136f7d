import { InputError } from '../errors.ts';
import { parseBastion } from '../config/bastion.ts';
import { defaultClusterName, type CliFlags, type ClusterSpec, type HostSpec } from '../config/cluster.ts';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../config/names.ts';
import { defaultManagerCount, managerCountProblem } from '../config/policy.ts';
import type { ConfigFile, ProviderName } from '../config/schema.ts';
import { resolveSwarmOptions } from '../config/swarm-options.ts';
import { reachedAs, type SshResolve } from '../config/ssh-config-hosts.ts';
import { providerNamed } from '../providers/registry.ts';

/*
 * Spec resolution (flags | file | wizard answers -> ClusterSpec), above both config and providers: config holds the
 * schema, loading, defaults and policy; each provider descriptor resolves its own part (`descriptor.resolve`),
 * called from here.
 */

function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError(`${flag}: expected a whole number, got "${value}"`);
  return Number(value);
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
  const hosts: HostSpec[] = hostsIn.map((h) => {
    const reached = reachedAs(h, sshDefaults, sshResolve, where);
    return {
      name: h.name,
      ...reached,
      advertiseAddress: h.advertiseAddress ?? reached.address,
      role: h.role ?? 'auto',
    };
  });
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
