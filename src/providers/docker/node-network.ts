import { networkInterfaces } from 'node:os';
import type Docker from 'dockerode';
import type { ClusterSpec } from '../../config/cluster.ts';
import { errorMessage, StepError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';
import type { SeenNetwork } from '../../net/networks.ts';
import { withDeadline } from '../../transport/deadline.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressSink } from '../provider.ts';
import { chooseNodeSubnet, gatewayOf } from './addresses.ts';
import { createLabels, ownFilter, SUBNET_LABEL } from './labels.ts';

/** The name of a cluster's bridge network. */
export function networkName(spec: ClusterSpec): string {
  return `swarmup-${spec.name}`;
}

/** Every network of the engine the node containers run on (theirs among them, once made). */
export async function seenNetworks(docker: Docker): Promise<SeenNetwork[]> {
  const networks = await withDeadline(docker.listNetworks(), 30_000, 'the local Docker engine: networks');
  return [
    ...networks.flatMap((n) =>
      (n.IPAM?.Config ?? []).flatMap((c) =>
        c.Subnet ? [{ cidr: c.Subnet, where: `network ${n.Name} of the local engine` }] : [],
      ),
    ),
    ...localNetworks(docker),
  ];
}

/**
 * The cluster's bridge network, with a subnet of its own (so each node keeps the address of its slot); made says
 * whether it had to be made, subnet is null for a network an older swarmup made without one. That network is kept,
 * and said so: its nodes get a new address when they restart (and `up` then repairs the nodes whose address moved).
 */
export async function ensureNodeNetwork(
  docker: Docker,
  spec: ClusterSpec,
  state: StateStore,
  progress: ProgressSink,
): Promise<{ made: boolean; subnet: string | null }> {
  const network = networkName(spec);
  const existing = (
    await docker.listNetworks({
      filters: { name: [network], ...ownFilter(spec.name) },
    })
  ).find((n) => n.Name === network);
  if (existing) {
    const subnet = existing.Labels?.[SUBNET_LABEL] ?? null;
    if (subnet === null)
      progress(
        `network ${network} was made by an older swarmup without a subnet of its own: its node containers ` +
          'get new addresses when they restart; swarmup up repairs a node whose address moved',
      );
    return { made: false, subnet };
  }
  const recorded = state.read()?.addrPool ?? [];
  const given = spec.swarm.defaultAddrPool ?? [];
  // Another cluster's network may be made at the same moment from the same view of the engine: the engine refuses
  // the second of two overlapping subnets, and the choice is made again from what it has then.
  let subnet: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const seen = [
      ...(await seenNetworks(docker)),
      ...[...given, ...recorded].map((cidr) => ({ cidr, where: "the swarm's address pool" })),
    ];
    subnet = chooseNodeSubnet(seen);
    if (!subnet)
      throw new StepError(
        'local',
        `create network ${network}`,
        `every private /22 overlaps a network seen (${seen.length} of them)`,
      );
    try {
      await docker.createNetwork({
        Name: network,
        Driver: 'bridge',
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gatewayOf(subnet) }] },
        Labels: { ...createLabels(spec.name), [SUBNET_LABEL]: subnet },
      });
      break;
    } catch (err) {
      if (attempt >= 5 || !/overlap/i.test(errorMessage(err))) throw err;
      await sleep(100 * attempt);
    }
  }
  progress(`network ${network}: subnet ${subnet}, one fixed address per node`);
  return { made: true, subnet };
}

/**
 * This machine's own IPv4 networks, when the engine is on this machine (a unix socket): a node network or a swarm
 * pool overlapping one would hide it from the containers.
 */
function localNetworks(docker: Docker): SeenNetwork[] {
  // A unix socket (dockerode has a host only for tcp:// and ssh:// engines).
  if ((docker.modem as { host?: string }).host) return [];
  return Object.entries(networkInterfaces()).flatMap(([iface, addrs]) =>
    (addrs ?? []).flatMap((a) =>
      a.family === 'IPv4' && !a.internal && a.cidr
        ? [{ cidr: a.cidr, where: `interface ${iface} here` }]
        : [],
    ),
  );
}
