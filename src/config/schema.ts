import { z } from 'zod';
import { CLUSTER_NAME, CLUSTER_NAME_RULE } from './names.ts';
import { LABEL_KEY, LABEL_KEY_RULE } from './labels.ts';
import { ENGINE_VERSION_RULE, HOST_ADDRESS_RULE, isEngineVersion, isHostAddress } from './validate.ts';
import { MAX_WORKERS, MAX_WORKERS_WHY } from './policy.ts';

/** Cluster names become container names, labels, tags and folder names: keep them to one safe alphabet. */
export const clusterName = z.string().regex(CLUSTER_NAME, CLUSTER_NAME_RULE);

const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-"');
const port = z.number().int().min(1).max(65535);

export const providers = ['docker', 'ssh', 'ec2', 'multipass'] as const;
export type ProviderName = (typeof providers)[number];

export const sshDefaultsSchema = z.strictObject({
  user: z.string().min(1).optional(),
  port: port.optional(),
  privateKey: z.string().min(1).optional(),
  /** `[user@]host[:port]`: reach every host through this jump host. */
  bastion: z.string().min(1).optional(),
});

/** Node labels: `{ zone: a }`; keys as Docker takes them, values strings (numbers and booleans read as strings). */
export const labelMapSchema = z.record(
  z.string().regex(LABEL_KEY, LABEL_KEY_RULE),
  z.union([z.string(), z.number(), z.boolean()]),
);

/** Labels every node of a role gets (a host's own labels win over them). */
export const roleLabelsSchema = z.strictObject({
  managers: labelMapSchema.optional(),
  workers: labelMapSchema.optional(),
});

export const hostSchema = z.strictObject({
  name: hostName,
  /** By default the name: an alias ~/.ssh/config resolves, or a DNS name. */
  address: z.string().refine(isHostAddress, HOST_ADDRESS_RULE).optional(),
  port: port.optional(),
  user: z.string().min(1).optional(),
  privateKey: z.string().min(1).optional(),
  advertiseAddress: z.string().refine(isHostAddress, HOST_ADDRESS_RULE).optional(),
  role: z.enum(['manager', 'worker', 'auto']).optional(),
  /** Labels of this host's node (over the role's labels). */
  labels: labelMapSchema.optional(),
});

export const engineSchema = z.strictObject({
  source: z.enum(['docker-ce', 'distro', 'script', 'none']).optional(),
  version: z.string().refine(isEngineVersion, ENGINE_VERSION_RULE).optional(),
});

export const ec2Schema = z.strictObject({
  region: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  instanceType: z.string().min(1).optional(),
  diskGiB: z.number().int().min(8).max(16384).optional(),
  ami: z
    .string()
    .regex(/^ami-[0-9a-f]+$/, 'an AMI id like ami-0123456789abcdef0')
    .optional(),
  amiParameter: z.string().startsWith('/').optional(),
  user: z.string().min(1).optional(),
  sshCidr: z.union([z.string(), z.array(z.string())]).optional(),
  sshKey: z.string().min(1).optional(),
  subnets: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).optional(),
  encryptedOverlay: z.boolean().optional(),
  allowSshFromAnywhere: z.boolean().optional(),
  bastion: z.string().min(1).optional(),
});

/** Multipass VMs (src/providers/multipass/spec.ts checks the sizes as Multipass reads them). */
export const multipassSchema = z.strictObject({
  image: z.string().min(1).optional(),
  cpus: z.number().int().min(1).max(64).optional(),
  memory: z.string().min(1).optional(),
  disk: z.string().min(1).optional(),
});

/** The docker provider's node containers: which engine they run (src/providers/docker/spec.ts checks them). */
export const dockerSchema = z.strictObject({
  /** Debian suite the node image is built from: bookworm (Docker 20.10), trixie (26.1, default), sid (28.x). */
  engineSuite: z.enum(['bookworm', 'trixie', 'sid']).optional(),
  /** An image of your own to run as each node (it needs sshd and dockerd; see docs/providers/docker.md, "Node images"). */
  nodeImage: z.string().min(1).optional(),
});

/** Settings of `swarm init` and how the swarm is run (src/config/swarm-options.ts checks their values). */
export const swarmSchema = z.strictObject({
  autolock: z.boolean().optional(),
  defaultAddrPool: z.array(z.string()).min(1).optional(),
  subnetSize: z.number().int().optional(),
  dataPathPort: z.number().int().optional(),
  dataPathAddr: z.string().min(1).optional(),
});

/** The config / inventory file. Unknown keys are refused (strict objects). */
export const configFileSchema = z.strictObject({
  name: clusterName.optional(),
  provider: z.enum(providers).optional(),
  managers: z.number().int().optional(),
  workers: z.number().int().min(0).max(MAX_WORKERS, { message: MAX_WORKERS_WHY }).optional(),
  ssh: sshDefaultsSchema.optional(),
  engine: engineSchema.optional(),
  swarm: swarmSchema.optional(),
  hosts: z.array(hostSchema).optional(),
  /** Node labels per role, for every provider. */
  labels: roleLabelsSchema.optional(),
  ec2: ec2Schema.optional(),
  multipass: multipassSchema.optional(),
  docker: dockerSchema.optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type HostEntry = z.infer<typeof hostSchema>;
