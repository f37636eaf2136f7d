import { parseBastion } from '../../config/bastion.ts';
import { DEFAULT_AMI_PARAMETER, expandHome, type CliFlags, type Ec2Spec } from '../../config/cluster.ts';
import { flagOverFile } from '../../config/flag-over-file.ts';
import type { ConfigFile } from '../../config/schema.ts';
import { InputError } from '../../errors.ts';
import { blockSize, exposure, parseCidr, WIDEST_PREFIX, type Exposure } from '../../net/cidr.ts';

/** `131072 IPv4 addresses`; IPv6 counted in /48s: `2 /48s of IPv6 addresses`. */
function howMany(e: Exposure): string {
  if (e.family === 4) return `${e.addresses} IPv4 addresses`;
  const unit = blockSize({ family: 6, prefix: WIDEST_PREFIX[6] });
  const whole = e.addresses / unit;
  return `${e.addresses % unit === 0n ? '' : 'over '}${whole} /48${whole === 1n ? '' : 's'} of IPv6 addresses`;
}

/** The EC2 part of the cluster spec: flags over the file's `ec2:` section, validated before anything is made. */
export function resolveEc2(
  file: ConfigFile | undefined,
  flags: CliFlags,
  where: (f: string) => string,
): Ec2Spec {
  const f = file?.ec2 ?? {};
  const given = flagOverFile(flags.sshCidr, '--ssh-cidr', f.sshCidr, 'ec2.sshCidr', where);
  const cidrs =
    given.flag !== undefined
      ? given.flag.split(',').map((c) => c.trim())
      : given.file === undefined
        ? undefined
        : [given.file].flat();
  const cidrField = given.field;
  const blocks = (cidrs ?? []).map((c) => {
    const block = parseCidr(c);
    if (!block) throw new InputError(`${cidrField}: "${c}" is not a CIDR block like 203.0.113.7/32`);
    return block;
  });
  const allowWorld = flags.allowSshFromAnywhere ?? f.allowSshFromAnywhere ?? false;
  // Refused unless explicitly allowed: more than one /16 of IPv4 or one /48 of IPv6, in one block or added up.
  const wide = exposure(blocks).filter((e) => e.tooWide);
  if (wide.length > 0 && !allowWorld) {
    const what = wide
      .map((e) =>
        e.everything
          ? `${e.blocks.join(', ')} would open SSH to the whole ${e.family === 4 ? '' : 'IPv6 '}internet`
          : `${e.blocks.join(', ')} would open SSH to ${howMany(e)}, more than one /${WIDEST_PREFIX[e.family]}`,
      )
      .join('; ');
    throw new InputError(`${cidrField}: ${what}; pass --allow-ssh-from-anywhere if you mean it`);
  }
  const subnets = flags.subnets ? flags.subnets.split(',').map((x) => x.trim()) : f.subnets;
  for (const sn of subnets ?? []) {
    if (!/^subnet-[0-9a-f]+$/.test(sn))
      throw new InputError(`--subnets: "${sn}" is not a subnet id like subnet-0123abcd`);
  }
  const jump = flagOverFile(flags.bastion || undefined, '--bastion', f.bastion, 'ec2.bastion', where);
  const bastion = flags.bastion ?? f.bastion;
  if (bastion) parseBastion(bastion, jump.field, 'root');
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
