import { existsSync, readFileSync } from 'node:fs';
import type { KnownHostsFile } from '../../transport/known-hosts.ts';
import { parseKnownHosts } from '../../transport/known-hosts.ts';

/**
 * EC2 host keys belong to instances. A node's instance can be replaced (healed, relaunched, scaled away and back)
 * and its addresses are reused by other instances, so neither the node's name nor an address says which machine a
 * key is of: swarmup pins each instance's key under its instance ID (the SSH HostKeyAlias), learnt on its first
 * connection, and drops the pin when the instance is terminated.
 */

/** One instance of the cluster as DescribeInstances lists it (any state). */
export interface InstanceSeen {
  id: string;
  /** Its node (the Name tag). */
  node: string;
  state: string;
  /** Where swarmup connects to it (`address` or `[address]:port`): an address pins no machine on EC2. */
  target?: string;
}

/** Instances in these states are gone for good: their keys pin nothing any more. */
const GONE = new Set(['shutting-down', 'terminated']);
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * What to change in the cluster's known_hosts, given the patterns pinned now (pure):
 *  - drop: the pins of instances seen gone (or no longer listed at all); pins under the address swarmup connects to an instance at (an older
 *    swarmup pinned by address; EC2 gives that address to other instances in turn), never the bastion's;
 *  - carry: a pin under a node's name (how swarmup pinned EC2 keys before) moves to the instance ID when it can
 *    only be that instance's: the node's one instance AWS lists, live. Otherwise it is dropped: which instance it
 *    was learnt from cannot be told, and a replaced one's key must not stop its successor.
 */
export function pinChanges(
  pinned: ReadonlySet<string>,
  instances: InstanceSeen[],
  keep: ReadonlySet<string> = new Set(),
): { drop: string[]; carry: Array<{ from: string; to: string }> } {
  const drop = new Set<string>();
  const carry: Array<{ from: string; to: string }> = [];
  for (const i of instances) {
    if (GONE.has(i.state) && pinned.has(i.id)) drop.add(i.id);
    if (!GONE.has(i.state) && i.target && pinned.has(i.target) && !keep.has(i.target)) drop.add(i.target);
  }
  // An instance AWS no longer lists at all was terminated long ago (the list keeps them for about an hour).
  const listed = new Set(instances.map((i) => i.id));
  for (const p of pinned) if (INSTANCE_ID.test(p) && !listed.has(p)) drop.add(p);
  const byNode = new Map<string, InstanceSeen[]>();
  for (const i of instances) byNode.set(i.node, [...(byNode.get(i.node) ?? []), i]);
  for (const [node, mine] of byNode) {
    if (!pinned.has(node) || keep.has(node)) continue;
    const only = mine.length === 1 && !GONE.has(mine[0]!.state) ? mine[0]! : undefined;
    if (only && !pinned.has(only.id)) carry.push({ from: node, to: only.id });
    drop.add(node);
  }
  return { drop: [...drop], carry };
}

/** The patterns the file pins keys under now (real file system). */
export function pinnedPatterns(file: KnownHostsFile): Set<string> {
  if (!existsSync(file.path)) return new Set();
  return new Set(parseKnownHosts(readFileSync(file.path, 'utf8')).map((e) => e.pattern));
}

/** Apply pinChanges to the file: carried keys are pinned under the instance ID first, then the drops go. */
export function applyPinChanges(file: KnownHostsFile, changes: ReturnType<typeof pinChanges>): void {
  if (changes.carry.length > 0) {
    const entries = parseKnownHosts(readFileSync(file.path, 'utf8'));
    for (const c of changes.carry) {
      // One key per instance: the one its first connection presented (swarmup pins the key it was shown).
      const e = entries.find((x) => x.pattern === c.from);
      if (e) file.verify(c.from, c.to, Buffer.from(e.key, 'base64'));
    }
  }
  for (const p of changes.drop) file.forget(p);
}

/** Forget the pins of these instances (terminated, or about to be replaced) and the node's own legacy pin. */
export function forgetInstances(file: KnownHostsFile, ids: string[], node?: string): void {
  const pinned = pinnedPatterns(file);
  for (const p of [...ids, ...(node ? [node] : [])]) if (pinned.has(p)) file.forget(p);
}
