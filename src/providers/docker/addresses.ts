import { firstFreeBlock, type SeenNetwork } from '../../net/networks.ts';
import { parseCidr } from '../../net/cidr.ts';
import type { NodeWanted } from '../provider.ts';

/**
 * Fixed addresses for node containers. A manager whose address changes breaks raft (its peers dial the address it
 * joined with), and Docker gives a container on a network without a configured subnet a new address each time it
 * starts. So the cluster's network is made with a subnet of its own, chosen clear of every network seen, and each
 * node gets the address of its slot: the gateway .1, managers from .2 (at most 8), workers from .10. Pure.
 */

/** The cluster network's size: a /22 holds the 7 managers and up to 1013 workers. */
export const NODE_SUBNET_PREFIX = 22;
const MAX_MANAGERS = 8;

/** Where the cluster's subnet is looked for: Docker's own bridge ranges first, well clear of the swarm's pool (10/8). */
const NODE_RANGES = ['172.16.0.0/12', '192.168.0.0/16', '10.0.0.0/8'];

/** The subnet for a new cluster network, overlapping none of the networks seen; undefined when every one does. */
export function chooseNodeSubnet(seen: SeenNetwork[]): string | undefined {
  return firstFreeBlock(NODE_RANGES, NODE_SUBNET_PREFIX, seen);
}

/** The node's slot: manager-N and worker-N by their number. */
function slot(node: NodeWanted): number {
  const n = Number(/-(\d+)$/.exec(node.name)?.[1] ?? NaN);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${node.name}: not a numbered node name`);
  if (node.role === 'manager') {
    if (n > MAX_MANAGERS) throw new Error(`${node.name}: at most ${MAX_MANAGERS} manager slots`);
    return 1 + n;
  }
  return 1 + MAX_MANAGERS + n;
}

/** The address of a node's slot in the subnet (its gateway is the first address). */
export function slotAddress(subnet: string, node: NodeWanted): string {
  const block = parseCidr(subnet);
  if (!block || block.family !== 4) throw new Error(`${subnet}: not an IPv4 subnet`);
  const offset = BigInt(slot(node));
  const size = 1n << BigInt(32 - block.prefix);
  if (offset >= size - 1n)
    throw new Error(
      `${node.name}: no slot left in ${subnet} (the cluster network holds ${size - 2n} addresses)`,
    );
  const a = block.start + offset;
  return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 0xffn)).join('.');
}

/** The subnet's gateway (its first address), as Docker gives it when asked for none. */
export function gatewayOf(subnet: string): string {
  const block = parseCidr(subnet)!;
  const a = block.start + 1n;
  return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 0xffn)).join('.');
}
