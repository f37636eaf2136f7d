// The flags several commands share, and the check of the common ones. Light imports only (see main.ts).
import { Option, type Command } from 'commander';
import { InputError } from '../errors.ts';
import { stages } from '../swarm/actions.ts';
import { providerRegistry } from '../providers/registry.ts';
import type { CommonOptions } from './session.ts';

/** The flags of every command that opens a cluster. */
export function common(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'cluster name (default: "local", or the config file\'s name)')
    .addOption(
      new Option('--provider <provider>', 'where the machines come from').choices([
        'docker',
        'ssh',
        'ec2',
        'multipass',
      ]),
    )
    .option('-c, --config <file>', 'config / inventory file (YAML)')
    .option(
      '-i, --inventory <file>',
      "swarmup's YAML as --config, or an Ansible inventory (INI or YAML; told apart by content)",
    )
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

export function normalise(opts: CommonOptions & { inventory?: string }): CommonOptions {
  if (opts.inventory && opts.config && opts.inventory !== opts.config) {
    throw new InputError('--config and --inventory name different files; give one');
  }
  const config = opts.config ?? opts.inventory;
  if (opts.until && !(stages as readonly string[]).includes(opts.until)) {
    throw new InputError(`--until: "${opts.until}" is not a stage (${stages.join(', ')})`);
  }
  return { ...opts, ...(config ? { config } : {}) };
}
