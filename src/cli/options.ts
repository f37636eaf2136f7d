// The flags several commands share, and the check of the common ones. Light imports only (see main.ts).
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InputError } from '../errors.ts';
import { stages } from '../swarm/actions.ts';
import { providerRegistry } from '../providers/registry.ts';
import type { CommonOptions } from './session.ts';

/** The config file read when none is named (what the wizard writes), in the current folder. */
export const DEFAULT_CONFIG = 'swarmup.yaml';

/*
 * The common flags each have an environment variable (commander's Option.env, shown in --help): a flag given wins
 * over its variable, which wins over the config file, which wins over the default.
 */
export const nameOption = () =>
  new Option('--name <name>', 'cluster name (default: "local", or the config file\'s name)').env(
    'SWARMUP_NAME',
  );
export const inventoryOption = () =>
  new Option(
    '-i, --inventory <file>',
    "swarmup's YAML as --config, or an Ansible inventory (INI or YAML; told apart by content)",
  );
export const configOption = () =>
  new Option(
    '-c, --config <file>',
    `config / inventory file (YAML; default: ./${DEFAULT_CONFIG} when there is one)`,
  ).env('SWARMUP_CONFIG');
export const managersOption = (description: string) =>
  new Option('--managers <n>', description).env('SWARMUP_MANAGERS');
export const workersOption = (description: string) =>
  new Option('--workers <n>', description).env('SWARMUP_WORKERS');

/** The flags of every command that opens a cluster. */
export function common(cmd: Command): Command {
  return cmd
    .addOption(nameOption())
    .addOption(
      new Option('--provider <provider>', 'where the machines come from')
        .choices(['docker', 'ssh', 'ec2', 'multipass'])
        .env('SWARMUP_PROVIDER'),
    )
    .addOption(configOption())
    .option('--no-config', `read no config file, not even ./${DEFAULT_CONFIG}`)
    .addOption(inventoryOption())
    .option('--managers-group <group>', 'Ansible inventory: the group of managers (default "managers")')
    .option('--workers-group <group>', 'Ansible inventory: the group of workers (default "workers")')
    .option(
      '--no-ssh-config',
      'do not resolve ssh hosts through ~/.ssh/config (ssh -G; SWARMUP_SSH_CONFIG names another file)',
    )
    .option('--json', 'print one JSON object per line instead of progress')
    .option('-q, --quiet', 'print only problems, errors and the result')
    .option(
      '-v, --verbose',
      'also print each command run on a host and each Docker API call (secrets redacted)',
    )
    .option('--no-color', 'no colours (as NO_COLOR=1 does)')
    .option('--timeout <seconds>', 'deadline of each Docker Engine API call (default 60)')
    .option('-y, --yes', 'do not ask for confirmation');
}

/** Settings of `swarm init` (and autolock): for the commands that make a swarm. */
export function swarmFlags(cmd: Command): Command {
  return cmd
    .option('--autolock', "encrypt the managers' raft data with a key needed after each engine restart")
    .option('--no-autolock', 'turn autolock off (a cluster made with --autolock keeps it otherwise)')
    .option(
      '--default-addr-pool <cidrs>',
      'address pools of overlay networks (default: one that overlaps nothing seen)',
    )
    .option('--subnet-size <n>', "prefix length of each overlay network's subnet (default 24)")
    .option('--data-path-port <port>', 'UDP port of overlay traffic, VXLAN (default 4789)')
    .option(
      '--data-path-addr <addr>',
      'address or interface of overlay traffic (default: the advertise address)',
    );
}

/** The data-plane test, for `verify` and `up`. */
export function smokeFlags(cmd: Command): Command {
  return cmd
    .option('--smoke', 'also prove the data plane: containers on every node talk over an overlay network')
    .option('--smoke-timeout <seconds>', 'deadline of the smoke test (default 60)')
    .option(
      '--smoke-port <port>',
      'host-mode published port the smoke test checks (default: random, 20000-29999)',
    );
}

/** Each provider's own flags (EC2's region, instance type...); `all` for the commands that create. */
export function providerFlags(cmd: Command, all: boolean): Command {
  for (const d of providerRegistry) d.flags?.(cmd, all);
  return cmd;
}

/**
 * The config file to read: the one named (--config, --inventory, SWARMUP_CONFIG), else ./swarmup.yaml when it is
 * there (`found`: the caller says so), else none; `--no-config` (config false): none. Pure but for `present`.
 */
export function configToRead(
  named: string | false | undefined,
  present: (file: string) => boolean,
): { config?: string; found?: true } {
  if (named === false) return {};
  if (named) return { config: named };
  return present(DEFAULT_CONFIG) ? { config: DEFAULT_CONFIG, found: true } : {};
}

/** The note on stderr when ./swarmup.yaml is read without being named. */
export const FOUND_CONFIG_NOTE = `swarmup: reading ./${DEFAULT_CONFIG} (found in this folder; --config FILE names another, --no-config none)\n`;

export function normalise(
  opts: Omit<CommonOptions, 'config'> & { config?: string | false; inventory?: string },
  present: (file: string) => boolean = existsSync,
): CommonOptions & { configFound?: true } {
  if (opts.inventory && opts.config && opts.inventory !== opts.config) {
    throw new InputError('--config and --inventory name different files; give one');
  }
  if (opts.until && !(stages as readonly string[]).includes(opts.until)) {
    throw new InputError(`--until: "${opts.until}" is not a stage (${stages.join(', ')})`);
  }
  const { config: named, ...rest } = opts;
  const { config, found } = configToRead(named === false ? false : (named ?? opts.inventory), present);
  return { ...rest, ...(config ? { config } : {}), ...(found ? { configFound: true as const } : {}) };
}
