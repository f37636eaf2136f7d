import type { RouteTable } from '@aws-sdk/client-ec2';

/** How a subnet's traffic to the internet leaves the VPC, by its route table's default route. */
export type InternetRoute = 'gateway' | 'nat' | 'none';

/** What swarmup needs to know of a subnet to launch instances it can reach. */
export interface SubnetFacts {
  id: string;
  zone: string;
  /** The subnet gives its instances a public IPv4 address (MapPublicIpOnLaunch). */
  mapsPublicIp: boolean;
  /** IPv6-only: instances get no IPv4 address at all. */
  ipv6Native: boolean;
  internet: InternetRoute;
}

/** A subnet as swarmup launches into it. */
export interface LaunchSubnet {
  id: string;
  zone: string;
  /** Ask for a public IPv4 address at launch: the subnet routes to an internet gateway but would not give one. */
  askPublicIp: boolean;
}

/**
 * The route table that applies to a subnet: the one explicitly associated with it, else the VPC's main table
 * (AWS's rule). Its IPv4 default route says how the subnet reaches the internet: an internet gateway (`igw-`),
 * a NAT gateway or instance (outbound only), or not at all.
 */
export function internetRoute(subnetId: string, vpcId: string, tables: RouteTable[]): InternetRoute {
  const inVpc = tables.filter((t) => t.VpcId === vpcId);
  const table =
    inVpc.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ??
    inVpc.find((t) => t.Associations?.some((a) => a.Main));
  const route = table?.Routes?.find(
    (r) => r.DestinationCidrBlock === '0.0.0.0/0' && (r.State ?? 'active') === 'active',
  );
  if (!route) return 'none';
  if (route.GatewayId?.startsWith('igw-')) return 'gateway';
  if (route.NatGatewayId || route.InstanceId || route.NetworkInterfaceId || route.TransitGatewayId)
    return 'nat';
  return 'none';
}

export interface SubnetVerdict {
  /** Where instances can go, and how. */
  subnets: LaunchSubnet[];
  /** Why a subnet cannot be used (bad input: said before anything is created). */
  refused: string[];
  /** Said, not refused: things that will make the engine step slower or fail later. */
  notes: string[];
}

/**
 * Which subnets swarmup can launch into and reach. Swarm advertises an IPv4 address and swarmup's SSH needs one:
 * an IPv6-only subnet is refused. Without a bastion swarmup connects to public addresses, so a subnet must route to
 * an internet gateway; where it would not map a public IPv4, the launch asks for one. With a bastion the private
 * addresses are used, and a subnet with no way out is only noted (the engine install needs a package source).
 */
export function judgeSubnets(facts: SubnetFacts[], opts: { bastion: boolean }): SubnetVerdict {
  const verdict: SubnetVerdict = { subnets: [], refused: [], notes: [] };
  const ipv6Only: string[] = [];
  const unreachable: string[] = [];
  const isolated: string[] = [];
  for (const s of facts) {
    const where = `${s.id} (${s.zone}${s.internet === 'nat' ? ', NAT only' : ''})`;
    if (s.ipv6Native) ipv6Only.push(where);
    else if (opts.bastion) {
      if (s.internet === 'none') isolated.push(where);
      verdict.subnets.push({ id: s.id, zone: s.zone, askPublicIp: false });
    } else if (s.internet !== 'gateway') unreachable.push(where);
    else verdict.subnets.push({ id: s.id, zone: s.zone, askPublicIp: !s.mapsPublicIp });
  }
  const subnets = (list: string[]) =>
    list.length === 1 ? `subnet ${list[0]} is` : `subnets ${list.join(', ')} are`;
  if (ipv6Only.length > 0)
    verdict.refused.push(
      `${subnets(ipv6Only)} IPv6-only: Swarm and swarmup's SSH need an IPv4 address; pass --subnets with dual-stack or IPv4 subnets`,
    );
  if (unreachable.length > 0)
    verdict.refused.push(
      `${subnets(unreachable)} not routed to an internet gateway, so instances there cannot be reached over SSH from ` +
        'here: pass --bastion [user@]host (a jump host in that VPC) or --subnets routed to an internet gateway',
    );
  if (isolated.length > 0)
    verdict.notes.push(
      `${subnets(isolated)} not routed to the internet (no internet or NAT gateway): installing the engine needs a package mirror reachable from there`,
    );
  return verdict;
}
