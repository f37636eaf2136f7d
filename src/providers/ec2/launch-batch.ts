import { createHash } from 'node:crypto';
import type { NodeWanted } from '../provider.ts';
import { zoneAttemptToken } from './launch.ts';
import { placeNodes } from './placement.ts';

/**
 * How nodes are launched, in batches (pure). AWS throttles RunInstances per account and region with a request
 * bucket of 5 calls refilling 2 a second, and a resource bucket of 1000 instances refilling 2 a second ("Request
 * throttling for the Amazon EC2 API"): one call per node would spend 1000 calls on 1000 nodes, throttled to 2 a
 * second after the first 5, while one call with MaxCount N launches N at once for one request token. So the nodes
 * of a run are launched with one RunInstances per zone and role (managers and workers carry different role tags,
 * and tags given at creation are the same for every instance of a call). Each instance is tagged with the cluster,
 * the owner and its role at creation (nothing untagged ever exists); its Name, which differs per instance, is
 * written right after (CreateTags). A run that stops between the two leaves instances of the cluster without a
 * Name: the next run adopts them for the nodes it would launch (`adopt`), so a crash never launches a node twice.
 * A batch holds at most the 1000 workers the config allows (plus managers), within the resource bucket: one call
 * can always pass at once.
 */
export interface LaunchBatch {
  zone: string;
  role: 'manager' | 'worker';
  /** In the order given (the wanted order): the first launched instance (AmiLaunchIndex 0) gets the first. */
  nodes: NodeWanted[];
}

/**
 * The launches of these nodes: one per zone and role, each node in the zone of its slot, placed over the whole
 * wanted list (so a replacement lands where its slot is). Managers first, zones in order.
 */
export function launchBatches(create: NodeWanted[], wanted: NodeWanted[], zones: string[]): LaunchBatch[] {
  const all = [...wanted, ...create.filter((n) => !wanted.some((w) => w.name === n.name))];
  const placed = placeNodes(all, zones);
  const batches = new Map<string, LaunchBatch>();
  for (const node of create) {
    const zone = placed.get(node.name)!;
    const key = `${node.role === 'manager' ? 0 : 1} ${zone}`;
    if (!batches.has(key)) batches.set(key, { zone, role: node.role, nodes: [] });
    batches.get(key)!.nodes.push(node);
  }
  return [...batches.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, b]) => b);
}

/**
 * RunInstances' idempotency token for a batch in its k-th zone tried: one hash of the nodes' own life tokens
 * (launch-token.ts), so the same nodes in the same lives send the same token (the SDK's retry of a call whose
 * answer was lost gets the same instances back, as does a re-run before AWS lists them), and any other set of
 * nodes or lives another one. At most 64 ASCII characters, as AWS requires.
 */
export function batchToken(nodeTokens: string[], attempt: number): string {
  const digest = createHash('sha256')
    .update([...nodeTokens].sort().join('\n'))
    .digest('hex')
    .slice(0, 40);
  return zoneAttemptToken(`swarmup-${digest}`, attempt);
}

/** An instance of the cluster that has no Name yet (its run stopped between launch and naming). */
export interface Unnamed {
  id: string;
  role: 'manager' | 'worker';
  zone: string;
}

/**
 * Which unnamed instances take which nodes: a node takes one of its role in its own zone, else one of its role in
 * another zone; each instance at most one node. The nodes left launch anew; instances left stay unnamed (`down`
 * removes them with the cluster).
 */
export function adopt<N extends NodeWanted>(
  unnamed: Unnamed[],
  nodes: Array<N & { zone: string }>,
): { adopted: Array<{ node: N; id: string }>; left: N[] } {
  const free = [...unnamed].sort((a, b) => a.id.localeCompare(b.id));
  const adopted: Array<{ node: N; id: string }> = [];
  const left: N[] = [];
  const take = (pick: (u: Unnamed) => boolean) => {
    const i = free.findIndex(pick);
    return i < 0 ? undefined : free.splice(i, 1)[0];
  };
  const wait: Array<N & { zone: string }> = [];
  // Same zone first for every node, then any zone: a node never takes another's same-zone instance.
  for (const n of nodes) {
    const u = take((x) => x.role === n.role && x.zone === n.zone);
    if (u) adopted.push({ node: n, id: u.id });
    else wait.push(n);
  }
  for (const n of wait) {
    const u = take((x) => x.role === n.role);
    if (u) adopted.push({ node: n, id: u.id });
    else left.push(n);
  }
  return { adopted, left };
}

/**
 * Names for the instances one launch made, in their launch order (AmiLaunchIndex), the batch's nodes in order. A
 * launch asks for all or none (MinCount = MaxCount); should an answer hold fewer, the nodes left try the next zone.
 */
export function nameLaunched<N>(
  launched: Array<{ id: string; index: number }>,
  nodes: N[],
): { named: Array<{ node: N; id: string }>; left: N[] } {
  const order = [...launched].sort((a, b) => a.index - b.index).slice(0, nodes.length);
  return {
    named: order.map((x, i) => ({ node: nodes[i]!, id: x.id })),
    left: nodes.slice(order.length),
  };
}
