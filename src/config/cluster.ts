import { homedir } from 'node:os';
import type { JumpHost } from './bastion.ts';
import type { InventoryRead } from './ansible-inventory.ts';
import type { Labels } from './labels.ts';

export { parseBastion, type JumpHost } from './bastion.ts';
import type { ProviderName } from './schema.ts';
import type { SwarmFlags, SwarmOptions } from './swarm-options.ts';

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
  /** The fields ~/.ssh/config gave it (HostName, Port, ...), said by `plan`. */
  fromSshConfig?: string[];
  /** Labels of its node (`labels:` of the host), over the role's. */
  labels?: Labels;
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
  /** Node labels per role (`labels: { managers, workers }`); a host's own labels win over them. */
  labels?: { managers?: Labels; workers?: Labels };
  ec2?: Ec2Spec;
  multipass?: MultipassSpec;
  docker?: DockerSpec;
  configFile?: string;
  /** An Ansible inventory read as the config: what was read, said by `plan`. */
  inventory?: InventoryRead;
}

/** The docker provider's node containers: the Debian suite their image is built from, or an image of your own. */
export interface DockerSpec {
  suite: 'bookworm' | 'trixie' | 'sid';
  nodeImage?: string;
  /** `--docker-context`: the docker CLI context whose engine the node containers run on (else as the CLI finds it). */
  context?: string;
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
  /** docker: the docker CLI context of the engine to use (over DOCKER_HOST and the current context). */
  dockerContext?: string;
  /** Multipass: image, CPUs, memory and disk of each VM. */
  image?: string;
  cpus?: string;
  memory?: string;
  disk?: string;
  /**
   * The environment variable a flag's value came from (`{ managers: 'SWARMUP_MANAGERS' }`): messages name it in
   * place of the flag the user never typed.
   */
  fromEnv?: Partial<Record<'name' | 'provider' | 'managers' | 'workers', string>>;
}

export const defaultClusterName = 'local';

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}
