import { Document, isMap, isScalar, isSeq, type Scalar, type YAMLMap } from 'yaml';
import type { ConfigFile } from '../config/schema.ts';
import { configSchemaUrl } from '../cli/version.ts';

/**
 * What each top-level key means, written above it (docs/config.md, "Config / inventory file" says the same); also
 * the descriptions editors show from `swarmup schema config`.
 */
export const ABOUT: Record<keyof ConfigFile, string> = {
  name: ' Cluster name: lowercase letters, digits and "-". Its state lives in $SWARMUP_HOME/<name>.',
  provider:
    ' Where the machines come from: docker (node containers on this engine), ssh (your hosts), ec2,\n' +
    ' multipass (local VMs).',
  managers:
    ' Managers: 1 = no fault tolerance, 3 tolerate the loss of 1, 5 of 2, 7 of 3.\n' +
    " Swarm's raft needs a majority of managers, so an even count adds no fault tolerance.",
  workers:
    ' Workers: machines the provider creates besides the managers (0 to 1000: the count swarmup was tested at;\n' +
    " Docker's Swarm2k ran 2,384 nodes under 3 managers).",
  ssh: ' SSH defaults for every host (a host may override them); ssh-agent when there is no privateKey.',
  hosts:
    ' The machines, each reached over SSH at address:port. Per host also: advertiseAddress (the address the\n' +
    ' other nodes reach it on, default address), role (manager, worker or auto) and labels (its node labels).',
  engine:
    " How a host without Docker gets one: docker-ce (Docker's repository), distro (the OS package),\n" +
    ' script (get.docker.com, needs version) or none; version pins a prefix like "27.3".',
  ec2: ' AWS EC2: flags such as --region and --instance-type override these.',
  multipass:
    ' Multipass VMs, each: image (default 24.04), cpus, memory and disk (sizes like 2G, 512M).\n' +
    ' The flags --image, --cpus, --memory and --disk override these.',
  docker:
    ' Node containers (provider docker): engineSuite, the Debian suite their image is built from\n' +
    ' (bookworm: Docker 20.10, trixie: 26.1, the default, sid: 28.x), or nodeImage, an image of your own.',
  swarm:
    ' Settings of swarm init: autolock, defaultAddrPool + subnetSize (overlay subnets), dataPathPort,\n' +
    ' dataPathAddr. Set once, when the swarm is made.',
  labels:
    " Node labels per role: { managers: { k: v }, workers: { k: v } }; a host's own labels win. Set before a\n" +
    ' node takes tasks; up removes only the labels it set, never one set by hand.',
};

/** Hints written inside a section, for the settings the wizard did not ask about. */
const HINTS: Partial<Record<keyof ConfigFile, string>> = {
  ec2:
    ' diskGiB: 20                   # root volume size\n' +
    ' ami: ami-0123456789abcdef0    # default: Ubuntu 24.04 LTS amd64 (amiParameter, an SSM public parameter)\n' +
    " subnets: [subnet-0a1b2c3d]    # default: the default VPC's\n" +
    ' bastion: ops@203.0.113.9      # reach the private addresses through a jump host\n' +
    ' encryptedOverlay: true        # also allow ESP between nodes, for encrypted overlay networks',
  ssh: ' bastion: ops@jump.example.org:22   # reach every host through a jump host',
};

const ABOUT_EC2: Record<string, string> = {
  region: " AWS region; without it, AWS_REGION, AWS_DEFAULT_REGION or the profile's",
  profile: ' a profile of ~/.aws/config; without it, AWS_PROFILE or the default credential chain',
  instanceType: ' every node has this instance type',
  sshKey: ' public key imported for the instances (default: a key pair made for the cluster)',
  sshCidr: " who may reach SSH (default: this machine's public address /32, learnt at up)",
};

/** The config as a commented YAML file in the documented format; `swarmup plan -c FILE` reads it back as is. Pure. */
export function renderConfig(config: ConfigFile, file: string): string {
  const ordered: ConfigFile = {};
  for (const key of Object.keys(ABOUT) as Array<keyof ConfigFile>) {
    if (config[key] !== undefined) (ordered as Record<string, unknown>)[key] = config[key];
  }
  const doc = new Document(ordered);
  // The modeline of editors' YAML language server: completion and checks from the schema of this version.
  doc.commentBefore =
    ` yaml-language-server: $schema=${configSchemaUrl()}\n` +
    ' swarmup cluster config, written by `swarmup wizard`.\n' +
    ` See what up would do: swarmup plan --config ${file}\n` +
    ` Bring it up:          swarmup up --config ${file}\n` +
    ' Format: docs/config.md, "Config / inventory file". Unknown keys are refused.';
  const top = doc.contents as YAMLMap;
  top.items.forEach((pair, i) => {
    const key = pair.key as Scalar<keyof ConfigFile>;
    // A blank line between sections, except before the first (the header comment is set apart already).
    if (i > 0) key.spaceBefore = true;
    key.commentBefore = ABOUT[key.value];
    const hint = HINTS[key.value];
    if (hint && isMap(pair.value)) pair.value.comment = hint;
    if (key.value === 'ssh' && isMap(pair.value) && !hint) pair.value.flow = true;
    if ((key.value === 'engine' || key.value === 'multipass') && isMap(pair.value)) pair.value.flow = true;
    if (key.value === 'hosts' && isSeq(pair.value))
      for (const h of pair.value.items) if (isMap(h)) h.flow = true;
    if (key.value === 'ec2' && isMap(pair.value)) {
      for (const p of pair.value.items) {
        if (!isScalar(p.key)) continue;
        p.key.commentBefore = ABOUT_EC2[String(p.key.value)];
        if (isSeq(p.value)) p.value.flow = true;
      }
    }
  });
  return doc.toString({ lineWidth: 0 });
}
