import { existsSync } from 'node:fs';
import type { CliFlags, ClusterSpec } from '../config/cluster.ts';
import { resolveCluster } from '../cluster/spec-resolve.ts';
import { JsonReporter, type Reporter } from '../playbook/events.ts';
import { humanReporter } from '../playbook/progress.ts';
import { PlaybookContext, type RunOptions } from '../playbook/playbook.ts';
import type { ProviderOptions } from '../providers/descriptor.ts';
import { providerNamed } from '../providers/registry.ts';
import { StateStore, type ClusterState } from '../state/store.ts';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../config/names.ts';
import { InputError } from '../errors.ts';
import { ConnectionPool } from '../transport/pool.ts';

export interface CommonOptions extends CliFlags {
  config?: string;
  json?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  until?: string;
  /** Deadline of each Engine API call, in seconds (default 60). */
  timeout?: string;
  /** Join a swarm that existed before swarmup (a host of the inventory already manages it). */
  adopt?: boolean;
  /** The recorded swarm is gone (no host is a member of it): make a new one in its place. */
  newSwarm?: boolean;
  /** `down`: delete the cluster's backups with its state folder (kept by default). */
  deleteBackups?: boolean;
  /** No progress output at all (status --json prints one object; ls --check). */
  silent?: boolean;
  /** `--quiet`: only problems, errors and the result. */
  quiet?: boolean;
  /** `--verbose`: also every command run on a host and every Engine API call. */
  verbose?: boolean;
  /** false with `--no-color`. */
  color?: boolean;
  /** Ansible inventory: the groups of managers and workers. */
  managersGroup?: string;
  workersGroup?: string;
  /** false with `--no-ssh-config`. */
  sshConfig?: boolean;
}

/**
 * Everything one command works with, built from flags, the config file and the cluster's recorded state. All
 * validation happens here, before anything is touched.
 */
export async function openContext(
  opts: CommonOptions,
  reporter?: Reporter,
  providerOptions: ProviderOptions = {},
): Promise<PlaybookContext> {
  if (opts.quiet && opts.verbose) throw new InputError('--quiet and --verbose: give one of them');
  // The YAML parser and the schema are loaded only when there is a file to read.
  const groups = {
    ...(opts.managersGroup ? { managersGroup: opts.managersGroup } : {}),
    ...(opts.workersGroup ? { workersGroup: opts.workersGroup } : {}),
  };
  if (!opts.config && (groups.managersGroup || groups.workersGroup))
    throw new InputError(
      `${groups.managersGroup ? '--managers-group' : '--workers-group'}: only with --inventory FILE (an Ansible inventory)`,
    );
  const input = opts.config ? (await import('../config/load.ts')).loadInput(opts.config, groups) : undefined;
  const file = input?.config;
  const name = opts.name ?? file?.name;
  // The name becomes a folder: checked before any path is built from it.
  if (opts.name !== undefined && !CLUSTER_NAME.test(opts.name))
    throw new InputError(`${opts.fromEnv?.name ?? '--name'}: "${opts.name}": ${CLUSTER_NAME_RULE}`);
  // The machine counts a docker cluster was made with are remembered, so status and down need no flags.
  const recorded = new StateStore(name ?? 'local').read();
  const flags: CliFlags = { ...opts };
  if (recorded && providerNamed(recorded.provider).createsMachines && !opts.config) {
    flags.provider ??= recorded.provider;
    if (recorded.region) flags.region ??= recorded.region;
    flags.managers ??= recorded.managers !== undefined ? String(recorded.managers) : undefined;
    flags.workers ??= recorded.workers !== undefined ? String(recorded.workers) : undefined;
    // The nodes of a docker cluster stay alike: the recorded suite or image, unless a flag says otherwise.
    if (flags.engineSuite === undefined && flags.nodeImage === undefined) {
      if (recorded.nodeImage) flags.nodeImage = recorded.nodeImage;
      else if (recorded.engineSuite) flags.engineSuite = recorded.engineSuite;
    }
    // Autolock is remembered by its key: a re-run without --autolock keeps it on (--no-autolock turns it off).
    if (existsSync(new StateStore(name ?? 'local').unlockKeyPath())) flags.autolock ??= true;
  }
  // ~/.ssh/config as OpenSSH reads it, for an ssh inventory's hosts (asked of `ssh -G`, all hosts at once).
  const sshHosts =
    (flags.provider ?? file?.provider ?? (file?.hosts ? 'ssh' : 'docker')) === 'ssh'
      ? (file?.hosts ?? [])
      : [];
  const sshResolve =
    opts.sshConfig === false || sshHosts.length === 0
      ? undefined
      : await (
          await import('../transport/openssh-config.ts')
        ).opensshResolver(sshHosts.map((h) => h.address ?? h.name));
  const spec: ClusterSpec = resolveCluster(file, flags, opts.config, sshResolve);
  if (input?.inventory) spec.inventory = input.inventory;
  if (recorded) whereItWasMade(spec, recorded);
  keyFilesExist(spec, opts.config);
  const state = new StateStore(spec.name);
  const descriptor = providerNamed(spec.provider);
  const provider = await descriptor.open(spec, state, providerOptions);
  const progress =
    reporter ??
    (opts.silent ? new JsonReporter(() => undefined) : opts.json ? new JsonReporter() : humanReporter(opts));
  const pool = new ConnectionPool({
    knownHosts: state.knownHosts(),
    // Machines swarmup just created may still be starting sshd; machines the user brings should answer now.
    retryForMs: descriptor.sshRetryMs,
    ...(opts.timeout !== undefined ? { apiDeadlineMs: timeoutMs(opts.timeout) } : {}),
    ...(opts.verbose ? { trace: (host: string, line: string) => progress.trace(host, line) } : {}),
  });
  const runOptions: RunOptions = {
    dryRun: opts.dryRun ?? false,
    yes: opts.yes ?? false,
    ...(opts.adopt ? { adopt: true } : {}),
    ...(opts.newSwarm ? { newSwarm: true } : {}),
    ...(opts.deleteBackups ? { deleteBackups: true } : {}),
    ...(opts.until ? { until: opts.until as RunOptions['until'] } : {}),
  };
  return new PlaybookContext(spec, provider, state, pool, progress, runOptions);
}

/**
 * A cluster is looked for where it was made: the region the SDK resolved at `up` (the engine the node containers
 * run on: see the docker descriptor). A flag, file or environment that points elsewhere is refused (a `down` there would find nothing).
 */
function whereItWasMade(spec: ClusterSpec, recorded: ClusterState): void {
  // Another provider under the same name would write over this record (its key, its unlock key, its backups'
  // folder) and look for the cluster where it never was.
  if (spec.provider !== recorded.provider)
    throw new InputError(
      `cluster ${spec.name} was made with the ${recorded.provider} provider (${new StateStore(spec.name).dir}); ` +
        `this run asks for ${spec.provider}: give --provider ${recorded.provider}, or --name NAME for another cluster`,
    );
  if (spec.ec2 && recorded.region) {
    if (!spec.ec2.region) spec.ec2.region = recorded.region;
    else if (spec.ec2.region !== recorded.region)
      throw new InputError(
        `--region ${spec.ec2.region}: cluster ${spec.name} was made in ${recorded.region}; give --region ${recorded.region} (or none)`,
      );
  }
  // The docker provider's engine: checked where it is resolved (the docker descriptor's open).
}

function timeoutMs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3600)
    throw new InputError(`--timeout: expected whole seconds from 1 to 3600, got "${value}"`);
  return Number(value) * 1000;
}

/** A private key file named in the inventory that is not there is bad input, said before any connection. */
function keyFilesExist(spec: ClusterSpec, configFile: string | undefined): void {
  for (const h of spec.hosts ?? []) {
    if (h.privateKey && !existsSync(h.privateKey))
      throw new InputError(
        `${configFile ? `${configFile}: ` : ''}host ${h.name}: private key ${h.privateKey}: no such file`,
      );
  }
}
