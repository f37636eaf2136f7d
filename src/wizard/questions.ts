import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { confirm, input, select } from '@inquirer/prompts';
import { defaultClusterName } from '../config/cluster.ts';
import { defaultManagerCount } from '../config/policy.ts';
import { engineSchema, hostSchema, type ConfigFile, type ProviderName } from '../config/schema.ts';
import { publicKeyFor } from '../providers/ec2/access.ts';
import { MULTIPASS_DEFAULTS } from '../providers/multipass/spec.ts';
import { StateStore } from '../state/store.ts';
import {
  cidrAnswer,
  configProblem,
  fieldProblem,
  given,
  MANAGER_POLICY,
  specOf,
  validator,
  wholeNumber,
} from './check.ts';
import { inventory, type HostAnswer } from './hosts.ts';
import { PendingKnownHosts, unreachable } from './ssh-check.ts';

/** The questions, in order; every answer is checked by the config file's rules as it is given (check.ts). */

export type Say = (line: string) => void;

export interface Answers {
  config: ConfigFile;
  /** ssh: the host keys of the machines checked, pinned once the file is written. */
  knownHosts?: PendingKnownHosts;
}

const count = (field: string, build: (n: number) => ConfigFile) =>
  validator((a) => {
    const n = wholeNumber(a);
    return n === undefined ? `${field}: a whole number, e.g. 3` : build(n);
  });

export async function askConfig(say: Say): Promise<Answers> {
  const provider = await select<ProviderName>({
    message: 'Where do the machines come from?',
    choices: [
      { value: 'docker', name: "docker: node containers on this machine's Docker engine" },
      { value: 'ssh', name: 'ssh: machines you have, reached over SSH' },
      { value: 'ec2', name: 'ec2: instances made in your AWS account' },
      { value: 'multipass', name: 'multipass: local VMs made with Multipass' },
    ],
    default: 'docker',
  });
  const config: ConfigFile = { provider };
  config.name = (
    await input({
      message: 'Cluster name',
      default: defaultClusterName,
      validate: validator((name) => ({ ...config, name })),
    })
  ).trim();

  let knownHosts: PendingKnownHosts | undefined;
  if (provider === 'ssh') {
    knownHosts = new PendingKnownHosts(new StateStore(config.name).knownHosts().path);
    Object.assign(config, inventory(await askHosts(config, knownHosts, say)));
    say(MANAGER_POLICY);
    config.managers = wholeNumber(
      await input({
        message: `How many of the ${config.hosts!.length} hosts are managers?`,
        default: String(defaultManagerCount(config.hosts!.length)),
        validate: count('managers', (managers) => ({ ...config, managers })),
      }),
    );
  } else {
    say(MANAGER_POLICY);
    config.managers = wholeNumber(
      await input({
        message: 'How many managers? (1, 3, 5 or 7)',
        default: '3',
        validate: count('managers', (managers) => ({ ...config, managers })),
      }),
    );
    config.workers = wholeNumber(
      await input({
        message: 'How many workers?',
        default: '2',
        validate: count('workers', (workers) => ({ ...config, workers })),
      }),
    );
  }
  if (provider === 'ec2') config.ec2 = await askEc2(config);
  if (provider === 'multipass') config.multipass = await askMultipass(config);
  // Node containers carry their engine; machines that may lack one get it from the source asked here.
  if (provider !== 'docker') config.engine = await askEngine(config);
  return { config, ...(knownHosts ? { knownHosts } : {}) };
}

async function askEc2(config: ConfigFile): Promise<NonNullable<ConfigFile['ec2']>> {
  const ec2: NonNullable<ConfigFile['ec2']> = {};
  const ask = async (
    key: 'region' | 'profile' | 'instanceType' | 'sshKey',
    message: string,
    fallback: string,
    extra?: (c: ConfigFile) => string | undefined,
  ) => {
    const answer = (
      await input({
        message,
        default: fallback,
        validate: validator((v) => {
          const c = { ...config, ec2: given({ ...ec2, [key]: v }) };
          return (configProblem(c) === undefined && v && extra?.(c)) || c;
        }),
      })
    ).trim();
    if (answer) ec2[key] = answer;
  };
  const env = process.env;
  await ask('region', 'AWS region', env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'eu-west-1');
  await ask(
    'profile',
    'AWS profile (blank: AWS_PROFILE or the default credential chain)',
    env.AWS_PROFILE ?? '',
  );
  await ask('instanceType', 'Instance type', 't3.small');
  await ask(
    'sshKey',
    'Public key file for the instances (blank: a key pair made for the cluster)',
    '',
    (c) => {
      try {
        publicKeyFor(specOf(c).ec2!, new StateStore(c.name!));
        return undefined;
      } catch (err) {
        return `ec2.sshKey: ${(err as Error).message.replace(/^--ssh-key: /, '')}`;
      }
    },
  );
  const cidr = await input({
    message: "Who may reach SSH? CIDR blocks, comma-separated (blank: this machine's public address/32)",
    validate: validator((v) => ({ ...config, ec2: given({ ...ec2, sshCidr: cidrAnswer(v) }) })),
  });
  const sshCidr = cidrAnswer(cidr);
  if (sshCidr) ec2.sshCidr = sshCidr;
  return ec2;
}

async function askMultipass(config: ConfigFile): Promise<NonNullable<ConfigFile['multipass']>> {
  const mp: NonNullable<ConfigFile['multipass']> = {};
  const ask = async (key: 'image' | 'cpus' | 'memory' | 'disk', message: string) => {
    const fallback = String(MULTIPASS_DEFAULTS[key]);
    const value = (a: string) => (key === 'cpus' ? (wholeNumber(a) ?? Number.NaN) : a.trim());
    const answer = (
      await input({
        message,
        default: fallback,
        validate: validator((a) => ({ ...config, multipass: { ...mp, [key]: value(a) } })),
      })
    ).trim();
    if (answer && answer !== fallback) (mp as Record<string, unknown>)[key] = value(answer);
  };
  await ask('image', 'Image of each VM (a Multipass image: 24.04, noble, ...)');
  await ask('cpus', 'CPUs of each VM');
  await ask('memory', 'Memory of each VM (e.g. 1G, 2G)');
  await ask('disk', 'Disk of each VM (e.g. 10G)');
  return mp;
}

async function askEngine(config: ConfigFile): Promise<NonNullable<ConfigFile['engine']>> {
  const source = await select({
    message: 'Where does a host without Docker get its engine?',
    choices: [
      { value: 'docker-ce', name: "docker-ce: Docker's own apt/dnf repository" },
      { value: 'distro', name: "distro: the OS's package (docker.io on Debian and Ubuntu)" },
      { value: 'script', name: 'script: get.docker.com, with a version you give' },
      { value: 'none', name: 'none: install nothing, an engine must be there' },
    ] as const,
    default: 'docker-ce',
  });
  const version = (
    await input({
      message:
        source === 'script' ? 'Engine version, e.g. 27.3' : 'Engine version to pin (blank: the newest)',
      validate: (v) =>
        source === 'script' && !v.trim()
          ? 'engine.version: the script installs whatever is newest otherwise; give a version'
          : v.trim()
            ? fieldProblem('engine.version', engineSchema.shape.version, v.trim())
            : validator(() => ({ ...config, engine: { source } }))(''),
    })
  ).trim();
  return { source, ...(version ? { version } : {}) };
}

async function askHosts(config: ConfigFile, knownHosts: PendingKnownHosts, say: Say): Promise<HostAnswer[]> {
  const hosts: HostAnswer[] = [];
  const myKey = join(homedir(), '.ssh', 'id_ed25519');
  for (;;) {
    const before = hosts.at(-1);
    let draft: Partial<HostAnswer> = {
      user: before?.user ?? 'root',
      port: before?.port ?? 22,
      ...(before
        ? { privateKey: before.privateKey }
        : existsSync(myKey)
          ? { privateKey: '~/.ssh/id_ed25519' }
          : {}),
    };
    say(`Host ${hosts.length + 1}:`);
    for (;;) {
      const host = await askHost(hosts.length, draft);
      const candidate = { ...config, ...inventory([...hosts, host]) };
      const problem = configProblem(candidate);
      draft = host;
      if (problem) {
        say(`  ${problem}; asking again`);
        continue;
      }
      const target = specOf(candidate).hosts[hosts.length]!;
      say(`  logging in to ${target.user}@${target.address}:${target.port} ...`);
      const why = await unreachable(target, knownHosts);
      if (why) {
        say(`  unreachable: ${why}`);
        say('  asking again (Ctrl-C stops; nothing has been written)');
        continue;
      }
      say(`  ${host.name} answered`);
      hosts.push(host);
      break;
    }
    if (!(await confirm({ message: 'Add another host?', default: hosts.length < 3 }))) return hosts;
  }
}

async function askHost(index: number, draft: Partial<HostAnswer>): Promise<HostAnswer> {
  const field = (f: string) => `hosts[${index}].${f}`;
  const shape = hostSchema.shape;
  const address = await input({
    message: 'Address (IP or DNS name)',
    ...(draft.address ? { default: draft.address } : {}),
    validate: (v) => fieldProblem(field('address'), shape.address, v.trim()),
  });
  const name = await input({
    message: 'Node name',
    default: draft.name ?? `node-${index + 1}`,
    validate: (v) => fieldProblem(field('name'), shape.name, v.trim()),
  });
  const user = await input({
    message: 'SSH user',
    default: draft.user ?? 'root',
    validate: (v) => fieldProblem(field('user'), shape.user, v.trim()),
  });
  const port = await input({
    message: 'SSH port',
    default: String(draft.port ?? 22),
    validate: (v) => fieldProblem(field('port'), shape.port, wholeNumber(v) ?? v),
  });
  const key = await input({
    message: 'Private key file (blank: ssh-agent)',
    default: draft.privateKey ?? '',
  });
  return {
    name: name.trim(),
    address: address.trim(),
    user: user.trim(),
    port: wholeNumber(port)!,
    ...(key.trim() ? { privateKey: key.trim() } : {}),
  };
}
