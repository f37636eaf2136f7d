import type { Instance } from '@aws-sdk/client-ec2';
import type { MachineListing } from '../provider.ts';
import { GONE_STATES } from './launch-token.ts';
import { LAUNCH_TAG, ROLE_TAG, tagValue } from './tags.ts';

/** States of an instance that is a machine of the cluster (it runs, or can run again). */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** StateReason codes of an instance that died during its launch (AWS's own list): it never was a machine. */
const LAUNCH_FAILURES = new Set([
  'Server.InsufficientInstanceCapacity',
  'Server.InternalError',
  'Client.InternalError',
  'Client.InvalidSnapshot.NotFound',
  'Client.VolumeLimitExceeded',
]);

export const nodeName = (i: Instance): string => tagValue(i.Tags, 'Name') ?? i.InstanceId!;

/** Whether the instance has its node's Name (not yet, when its run stopped between its launch and its naming). */
export const isNamed = (i: Instance): boolean => tagValue(i.Tags, 'Name') !== undefined;

/** The life token of the node an instance was launched or adopted for: its launch tag, else (older swarmups) its ClientToken. */
export const launchTokenOf = (i: Instance): string | undefined =>
  tagValue(i.Tags, LAUNCH_TAG) ?? i.ClientToken;

/** What AWS says about an instance's last change of state, if anything. */
export function stateReason(i: Instance): string | undefined {
  return i.StateReason?.Message || i.StateReason?.Code || undefined;
}

const isLive = (i: Instance) => LIVE_STATES.includes(i.State?.Name ?? '');
const isGone = (i: Instance) => GONE_STATES.includes(i.State?.Name ?? '');
const newestFirst = (a: Instance, b: Instance) =>
  (b.LaunchTime?.getTime() ?? 0) - (a.LaunchTime?.getTime() ?? 0);

/** Of several live instances with one Name (a duplicate launch), the one that is furthest along. */
function best(live: Instance[]): Instance {
  const rank = (i: Instance) => ['running', 'pending', 'stopping', 'stopped'].indexOf(i.State?.Name ?? '');
  return [...live].sort((a, b) => rank(a) - rank(b))[0]!;
}

function byName(instances: Instance[]): Map<string, Instance[]> {
  const map = new Map<string, Instance[]>();
  for (const i of instances) map.set(nodeName(i), [...(map.get(nodeName(i)) ?? []), i]);
  return map;
}

/**
 * The cluster's machines from its instances in any state: one entry per Name. A terminated (or terminating)
 * instance is no machine any more, unless it died during its launch and no other instance has its Name: then the
 * node is listed `failed`, with AWS's reason, so the plan replaces it and says why. An instance without a Name is
 * no machine yet: its run stopped between launch and naming, and the next launch adopts it (launch-batch.ts).
 */
export function machineListing(instances: Instance[]): MachineListing[] {
  const out: MachineListing[] = [];
  for (const [name, its] of byName(instances.filter(isNamed))) {
    const live = its.filter(isLive);
    const some = live.length > 0 ? best(live) : its.filter(isGone).sort(newestFirst)[0];
    if (!some) continue;
    const role = tagValue(some.Tags, ROLE_TAG) === 'manager' ? 'manager' : 'worker';
    const reason = stateReason(some);
    const state = some.State?.Name;
    if (live.length === 0) {
      if (!LAUNCH_FAILURES.has(some.StateReason?.Code ?? '')) continue;
      out.push({ name, role, state: 'failed', ...(reason ? { reason } : {}) });
    } else if (state === 'running') out.push({ name, role, state: 'running' });
    else if (state === 'pending') out.push({ name, role, state: 'starting' });
    else out.push({ name, role, state: 'stopped', ...(reason ? { reason } : {}) });
  }
  return out;
}

export interface ReachStatus {
  /** Running with its private address, one per name. */
  ready: Instance[];
  /** Not there yet, with what is seen of them. */
  waiting: Array<{ name: string; seen: string }>;
  /** The instance launched for the node is terminated or terminating: waiting would not help. */
  died: Array<{ name: string; id: string; state: string; reason?: string }>;
}

/**
 * Where the named nodes are on their way to running. A gone instance counts as the node's own death only when it
 * was launched with the node's current token (`currentToken`), or, where that token is unknown, when it is the
 * newest instance of the Name: an older life's terminated instance must not fail a node whose replacement is
 * launched but not listed yet.
 */
export function reachStatus(
  names: string[],
  instances: Instance[],
  currentToken: (name: string) => string | undefined,
): ReachStatus {
  const status: ReachStatus = { ready: [], waiting: [], died: [] };
  const named = byName(instances);
  for (const name of names) {
    const its = named.get(name) ?? [];
    const live = its.filter(isLive);
    const running = live.find((i) => i.State?.Name === 'running' && i.PrivateIpAddress);
    if (running) {
      status.ready.push(running);
      continue;
    }
    if (live.length > 0) {
      const state = best(live).State?.Name ?? 'unknown';
      status.waiting.push({ name, seen: state === 'running' ? 'running, no address yet' : state });
      continue;
    }
    const token = currentToken(name);
    const gone = its.filter(isGone).sort(newestFirst);
    const mine = token ? gone.find((i) => launchTokenOf(i) === token) : gone[0];
    if (mine) {
      const reason = stateReason(mine);
      status.died.push({
        name,
        id: mine.InstanceId!,
        state: mine.State?.Name ?? 'terminated',
        ...(reason ? { reason } : {}),
      });
    } else status.waiting.push({ name, seen: 'not listed yet' });
  }
  return status;
}
