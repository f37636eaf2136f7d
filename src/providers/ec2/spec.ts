import { parseBastion } from '../../config/bastion.ts';
import { DEFAULT_AMI_PARAMETER, expandHome, type CliFlags, type Ec2Spec } from '../../config/cluster.ts';
import type { ConfigFile } from '../../config/schema.ts';
import { InputError } from '../../errors.ts';

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const CIDR6 = /^[0-9a-fA-F:]+\/\d{1,3}$/;

/** The EC2 part of the cluster spec: flags over the file's `ec2:` section, validated before anything is made. */
export function resolveEc2(
  file: ConfigFile | undefined,
  flags: CliFlags,
  where: (f: string) => string,
): Ec2Spec {
  const f = file?.ec2 ?? {};
  const cidrs =
    flags.sshCidr !== undefined
      ? flags.sshCidr.split(',').map((c) => c.trim())
      : f.sshCidr === undefined
        ? undefined
        : [f.sshCidr].flat();
  const cidrField = flags.sshCidr !== undefined ? '--ssh-cidr' : where('ec2.sshCidr');
  for (const c of cidrs ?? []) {
    const m = CIDR4.exec(c);
    const ok = m ? m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32 : CIDR6.test(c);
    if (!ok) throw new InputError(`${cidrField}: "${c}" is not a CIDR block like 203.0.113.7/32`);
  }
  const allowWorld = flags.allowSshFromAnywhere ?? f.allowSshFromAnywhere ?? false;
  const world = (cidrs ?? []).filter((c) => c === '0.0.0.0/0' || c === '::/0'); // refused unless explicitly allowed
  if (world.length > 0 && !allowWorld) {
    throw new InputError(
      `${cidrField}: ${world.join(', ')} would open SSH to the whole internet; pass --allow-ssh-from-anywhere if you mean it`,
    );
  }
  const subnets = flags.subnets ? flags.subnets.split(',').map((x) => x.trim()) : f.subnets;
  for (const sn of subnets ?? []) {
    if (!/^subnet-[0-9a-f]+$/.test(sn))
      throw new InputError(`--subnets: "${sn}" is not a subnet id like subnet-0123abcd`);
  }
  const bastion = flags.bastion ?? f.bastion;
  if (bastion) parseBastion(bastion, flags.bastion ? '--bastion' : where('ec2.bastion'), 'root');
  const ami = flags.ami ?? f.ami;
  if (ami && !/^ami-[0-9a-f]+$/.test(ami))
    throw new InputError(`--ami: "${ami}" is not an AMI id like ami-0123456789abcdef0`);
  return {
    ...((flags.region ?? f.region) ? { region: (flags.region ?? f.region)! } : {}),
    ...((flags.profile ?? f.profile) ? { profile: (flags.profile ?? f.profile)! } : {}),
    instanceType: flags.instanceType ?? f.instanceType ?? 't3.small',
    diskGiB: f.diskGiB ?? 20,
    ...(ami ? { ami } : {}),
    amiParameter: f.amiParameter ?? DEFAULT_AMI_PARAMETER,
    ...(f.user ? { user: f.user } : {}),
    ...(cidrs ? { sshCidrs: cidrs } : {}),
    ...((flags.sshKey ?? f.sshKey) ? { sshKey: expandHome((flags.sshKey ?? f.sshKey)!) } : {}),
    ...(subnets ? { subnets } : {}),
    encryptedOverlay: flags.encryptedOverlay ?? f.encryptedOverlay ?? false,
    allowSshFromAnywhere: allowWorld,
    ...((flags.bastion ?? f.bastion) ? { bastion: (flags.bastion ?? f.bastion)! } : {}),
  };
}
