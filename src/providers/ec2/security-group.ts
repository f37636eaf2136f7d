import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import type { ProgressSink } from '../provider.ts';
import type { AwsApi } from './aws.ts';
import { canonicalCidr } from '../../net/cidr.ts';
import { errorCode, EVENTUAL_CODES, retryEventual, type RetryOptions } from './consistency.ts';
import { CLUSTER_TAG, ownFilter, tagSpec, tagValue } from './tags.ts';

/**
 * What marks an SSH rule as swarmup's own: only rules with this description are ever revoked (when --ssh-cidr
 * changes). Rules added by hand (any other description, or none) are left alone. Kept as first released.
 */
export const SSH_RULE_DESCRIPTION = 'ssh for swarmup';

/**
 * The cluster's security group, as data. Swarm's ports are opened only between members of the group itself
 * (self-referencing rules); SSH only from the given CIDRs. Nothing is opened to the world unless the caller
 * passes 0.0.0.0/0 explicitly (the CLI demands a flag for it).
 */
export function wantedIngress(
  groupId: string,
  sshCidrs: string[],
  encryptedOverlay: boolean,
  /** The swarm's data path (VXLAN) port when not Docker's 4789 (swarm.dataPathPort). */
  dataPathPort = 4789,
): IpPermission[] {
  const self = (IpProtocol: string, port: number, Description: string): IpPermission => ({
    IpProtocol,
    FromPort: port,
    ToPort: port,
    UserIdGroupPairs: [{ GroupId: groupId, Description }],
  });
  const rules: IpPermission[] = [
    self('tcp', 2377, 'swarm cluster management'),
    self('tcp', 7946, 'swarm node communication'),
    self('udp', 7946, 'swarm node communication'),
    self('udp', dataPathPort, 'swarm overlay network (VXLAN)'),
  ];
  if (encryptedOverlay) {
    // ESP (IP protocol 50) carries encrypted overlay traffic; it has no ports (-1).
    rules.push({
      IpProtocol: '50',
      FromPort: -1,
      ToPort: -1,
      UserIdGroupPairs: [{ GroupId: groupId, Description: 'swarm encrypted overlay (ESP)' }],
    });
  }
  if (sshCidrs.length > 0) {
    rules.push({
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      IpRanges: sshCidrs
        .filter((c) => !c.includes(':'))
        .map((CidrIp) => ({ CidrIp, Description: SSH_RULE_DESCRIPTION })),
      Ipv6Ranges: sshCidrs
        .filter((c) => c.includes(':'))
        .map((CidrIpv6) => ({ CidrIpv6, Description: SSH_RULE_DESCRIPTION })),
    });
  }
  return rules;
}

const PROTOCOLS: Record<string, string> = { '6': 'tcp', '17': 'udp', esp: '50' };

/** One string per (protocol, ports, source) so rules can be compared whatever way AWS groups them. */
export function ruleKeys(perms: IpPermission[]): string[] {
  const keys: string[] = [];
  for (const p of perms) {
    const proto = PROTOCOLS[String(p.IpProtocol).toLowerCase()] ?? String(p.IpProtocol).toLowerCase();
    const ports = proto === '50' || proto === '-1' ? '' : `${p.FromPort}-${p.ToPort}`;
    for (const g of p.UserIdGroupPairs ?? []) keys.push(`${proto}|${ports}|sg:${g.GroupId}`);
    for (const r of p.IpRanges ?? []) keys.push(`${proto}|${ports}|${r.CidrIp}`);
    for (const r of p.Ipv6Ranges ?? []) keys.push(`${proto}|${ports}|${r.CidrIpv6}`);
  }
  return keys.sort();
}

/** The wanted rules not yet in the group: what a re-run still has to authorise (existing rules are tolerated). */
export function missingIngress(wanted: IpPermission[], existing: IpPermission[]): IpPermission[] {
  const have = new Set(ruleKeys(existing));
  return wanted.flatMap((w) => {
    const keep = (key: string) => !have.has(key);
    const proto = PROTOCOLS[String(w.IpProtocol)] ?? String(w.IpProtocol);
    const ports = proto === '50' ? '' : `${w.FromPort}-${w.ToPort}`;
    const groups = (w.UserIdGroupPairs ?? []).filter((g) => keep(`${proto}|${ports}|sg:${g.GroupId}`));
    const v4 = (w.IpRanges ?? []).filter((r) => keep(`${proto}|${ports}|${r.CidrIp}`));
    const v6 = (w.Ipv6Ranges ?? []).filter((r) => keep(`${proto}|${ports}|${r.CidrIpv6}`));
    if (groups.length + v4.length + v6.length === 0) return [];
    return [
      {
        ...w,
        ...(w.UserIdGroupPairs ? { UserIdGroupPairs: groups } : {}),
        ...(w.IpRanges ? { IpRanges: v4 } : {}),
        ...(w.Ipv6Ranges ? { Ipv6Ranges: v6 } : {}),
      },
    ];
  });
}

/**
 * The SSH rules swarmup added earlier for CIDRs no longer wanted: tcp 22 from an IPv4 or IPv6 range carrying
 * swarmup's description. Rules without it (added by hand) and the rules between members are never returned.
 */
export function staleSshIngress(existing: IpPermission[], sshCidrs: string[]): IpPermission[] {
  const wanted = new Set(sshCidrs.map(canonicalCidr));
  const ours = (r: { Description?: string | undefined }, cidr: string | undefined) =>
    r.Description === SSH_RULE_DESCRIPTION && cidr !== undefined && !wanted.has(canonicalCidr(cidr));
  const ssh = existing.filter(
    (p) =>
      (PROTOCOLS[String(p.IpProtocol).toLowerCase()] ?? String(p.IpProtocol).toLowerCase()) === 'tcp' &&
      p.FromPort === 22 &&
      p.ToPort === 22,
  );
  const v4 = ssh.flatMap((p) => (p.IpRanges ?? []).filter((r) => ours(r, r.CidrIp)));
  const v6 = ssh.flatMap((p) => (p.Ipv6Ranges ?? []).filter((r) => ours(r, r.CidrIpv6)));
  if (v4.length + v6.length === 0) return [];
  return [
    {
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      ...(v4.length > 0 ? { IpRanges: v4.map((r) => ({ CidrIp: r.CidrIp! })) } : {}),
      ...(v6.length > 0 ? { Ipv6Ranges: v6.map((r) => ({ CidrIpv6: r.CidrIpv6! })) } : {}),
    },
  ];
}

/** One rule in words, for what `prepare` reports: `tcp 2377 from the group`, `ESP from the group`. */
export function describeRule(p: IpPermission): string {
  const proto = PROTOCOLS[String(p.IpProtocol).toLowerCase()] ?? String(p.IpProtocol).toLowerCase();
  const what =
    proto === '50'
      ? 'ESP'
      : `${proto} ${p.FromPort}${p.ToPort !== undefined && p.ToPort !== p.FromPort ? `-${p.ToPort}` : ''}`;
  const from = [
    ...(p.UserIdGroupPairs ?? []).map(() => 'the group'),
    ...(p.IpRanges ?? []).map((r) => r.CidrIp),
    ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
  ];
  return `${what} from ${from.join(', ')}`;
}

/**
 * The cluster's security group in the VPC, made where missing, with every wanted rule authorised (rules that exist
 * are kept) and the SSH rules swarmup added for CIDRs no longer given revoked (after the new ones are in, so SSH
 * is never closed in between). Returns its id and one line per change. Calls naming a group just created are
 * retried while AWS has not propagated it yet (consistency.ts; `retry` sets the pauses, for tests).
 */
export async function ensureSecurityGroup(
  api: AwsApi,
  want: {
    cluster: string;
    groupName: string;
    vpcId: string;
    sshCidrs: string[];
    encryptedOverlay: boolean;
    dataPathPort?: number;
  },
  progress: ProgressSink,
  retry: Omit<RetryOptions, 'codes'> = {},
): Promise<{ id: string; created: string[] }> {
  const found = await api.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [...ownFilter(want.cluster), { Name: 'vpc-id', Values: [want.vpcId] }],
    }),
  );
  let group = found.SecurityGroups?.find((g) => tagValue(g.Tags, CLUSTER_TAG) === want.cluster);
  const created: string[] = [];
  if (!group) {
    progress(`creating security group ${want.groupName}`);
    const r = await api.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: want.groupName,
        Description: `swarmup cluster ${want.cluster}: swarm ports between members, ssh from the operator`,
        VpcId: want.vpcId,
        TagSpecifications: [tagSpec('security-group', want.cluster, want.groupName)],
      }),
    );
    group = { GroupId: r.GroupId!, IpPermissions: [] };
    created.push(`security group ${want.groupName} (${r.GroupId!})`);
  }
  const wanted = wantedIngress(group.GroupId!, want.sshCidrs, want.encryptedOverlay, want.dataPathPort);
  const missing = missingIngress(wanted, group.IpPermissions ?? []);
  if (missing.length > 0) {
    progress(
      `authorising ${missing.length} ingress rule${missing.length === 1 ? '' : 's'} on ${want.groupName}`,
    );
    const added = await authoriseIngress(api, group.GroupId!, wanted, missing, progress, retry);
    created.push(...added.map((p) => `ingress ${describeRule(p)} on ${want.groupName}`));
  }
  const groupId = group.GroupId!;
  const stale = staleSshIngress(group.IpPermissions ?? [], want.sshCidrs);
  if (stale.length > 0) {
    const lines = stale.map(describeRule);
    progress(`revoking ${lines.join('; ')} on ${want.groupName} (no longer in --ssh-cidr)`);
    try {
      await retryEventual(
        () => api.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: stale })),
        { ...retry, codes: EVENTUAL_CODES.RevokeSecurityGroupIngress },
      );
    } catch (err) {
      // Another run revoked them in between: they are gone, which is what is wanted.
      if (errorCode(err) !== 'InvalidPermission.NotFound') throw err;
    }
    created.push(...lines.map((l) => `revoked ingress ${l} on ${want.groupName}`));
  }
  return { id: group.GroupId!, created };
}

/** Each rule with one source per permission, so each can be authorised (and found a duplicate) on its own. */
export function singleRules(perms: IpPermission[]): IpPermission[] {
  return perms.flatMap((p) => {
    const { UserIdGroupPairs, IpRanges, Ipv6Ranges, ...rest } = p;
    return [
      ...(UserIdGroupPairs ?? []).map((g) => ({ ...rest, UserIdGroupPairs: [g] })),
      ...(IpRanges ?? []).map((r) => ({ ...rest, IpRanges: [r] })),
      ...(Ipv6Ranges ?? []).map((r) => ({ ...rest, Ipv6Ranges: [r] })),
    ];
  });
}

/**
 * Authorise the missing rules; returns those this call added. AWS refuses a whole request with
 * InvalidPermission.Duplicate when any one of its rules exists already (added by a run in parallel, or there but
 * listed late): then the group is re-read and what it still lacks is authorised one rule at a time, where a
 * duplicate means that very rule is in place, which is what is wanted.
 */
async function authoriseIngress(
  api: AwsApi,
  groupId: string,
  wanted: IpPermission[],
  missing: IpPermission[],
  progress: ProgressSink,
  retry: Omit<RetryOptions, 'codes'>,
): Promise<IpPermission[]> {
  const authorise = (perms: IpPermission[]) =>
    retryEventual(
      () =>
        api.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: perms })),
      { ...retry, codes: EVENTUAL_CODES.AuthorizeSecurityGroupIngress },
    );
  const unlessDuplicate = (err: unknown) => {
    if (errorCode(err) !== 'InvalidPermission.Duplicate') throw err;
  };
  try {
    await authorise(missing);
    return missing;
  } catch (err) {
    unlessDuplicate(err);
  }
  progress(`some ingress rules on ${groupId} exist already: re-reading the group, adding only the rest`);
  const reread = await retryEventual(
    () => api.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })),
    { ...retry, codes: EVENTUAL_CODES.DescribeSecurityGroups },
  );
  const still = singleRules(missingIngress(wanted, reread.SecurityGroups?.[0]?.IpPermissions ?? []));
  const added: IpPermission[] = [];
  for (const rule of still) {
    try {
      await authorise([rule]);
      added.push(rule);
    } catch (err) {
      unlessDuplicate(err);
    }
  }
  return added;
}
