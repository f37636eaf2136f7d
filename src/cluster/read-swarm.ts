import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import type { ClusterState } from '../state/store.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { readSwarm, readSwarmFacts, type SwarmReading, type UnreachableHost } from '../swarm/read-facts.ts';
import { hostPattern } from '../transport/known-hosts.ts';
import { vouchedWorkers } from '../swarm/vouch.ts';
import { movedSilent } from './unread.ts';

/**
 * The swarm facts of the running hosts (a silent one the swarm lists at an address it no longer has read as the
 * swarm sees it), then of the dropped hosts that still answer; with the running hosts whose swarm was not read, and
 * the workers left out because they could not be reached over SSH.
 */
export async function readSwarmOfHosts(
  ctx: PlaybookContext,
  keptCtx: PlaybookContext,
  state: ClusterState | undefined,
  reached: Machine[],
  dropped: Machine[],
): Promise<{
  facts: HostFacts[];
  unread: ReturnType<typeof movedSilent>['unread'];
  unreachable: UnreachableHost[];
  vouched: Set<string>;
}> {
  const swarmReading = await readSwarmOrVouch(ctx, keptCtx, state, reached);
  // A silent host the swarm lists at an address it no longer has: read as the swarm sees it (moved).
  const moved = movedSilent(
    swarmReading.unread,
    swarmReading.facts,
    state?.nodeIds ?? {},
    (n) => reached.find((m) => m.name === n)?.advertiseAddress,
  );
  const facts: HostFacts[] = [...swarmReading.facts, ...moved.facts];
  if (dropped.length > 0) facts.push(...(await readDroppedFacts(ctx, dropped)));
  return {
    facts,
    unread: moved.unread,
    unreachable: swarmReading.unreachable,
    vouched: swarmReading.vouched,
  };
}

/**
 * The swarm facts of the running hosts. On a swarm this state home made, the managers (and every host not wanted
 * as a worker) are read first; the workers their node list vouches for (vouchedWorkers) are not connected to, and
 * only the others are read then. A first run, an adoption or a new swarm reads every host at once.
 */
async function readSwarmOrVouch(
  ctx: PlaybookContext,
  keptCtx: PlaybookContext,
  state: ClusterState | undefined,
  reached: Machine[],
): Promise<SwarmReading & { vouched: Set<string> }> {
  if (reached.length === 0) return { facts: [], unread: [], unreachable: [], vouched: new Set() };
  const wantedWorkers = (ctx.provider.createsMachines ? ctx.provider.wanted() : ctx.cluster.hosts)
    .filter((h) => h.role === 'worker')
    .map((h) => h.name);
  const opts = {
    engineWaitMs: ctx.provider.enginePreinstalled ? 60_000 : 0,
    tolerateNoEngine: true,
    routes: true,
    // A worker that cannot be reached over SSH is left out of the run (a problem of the plan) and the others go
    // on; a manager, or a host whose role is decided here (auto), stops the run before any change.
    leaveOutUnreachable: new Set(wantedWorkers),
  };
  const workers = new Set(wantedWorkers.filter((h) => !state?.joinedDrained?.includes(h)));
  // Only hosts swarmup has logged in to at this very SSH target before: a host whose address or port changed is
  // connected to (its key pinned there, as `swarmup ssh` and the docker context need), not taken on trust.
  const pinned = ctx.state.knownHosts();
  const candidates = reached.filter(
    (h) => workers.has(h.name) && pinned.has(h.hostKeyAlias ?? hostPattern(h.address, h.port)),
  );
  const first = reached.filter((h) => !candidates.includes(h));
  const knownClusterId = state?.clusterId;
  if (
    !knownClusterId ||
    !state?.nodeIds ||
    ctx.options.adopt ||
    ctx.options.newSwarm ||
    candidates.length === 0 ||
    first.length === 0
  )
    return { ...(await readSwarm(keptCtx, opts)), vouched: new Set() };

  const managers = await readSwarm(keptCtx.withHosts(first), opts);
  const vouched = vouchedWorkers({
    candidates,
    recordedNodeIds: state.nodeIds,
    knownClusterId,
    managerFacts: managers.facts,
  });
  const others = candidates.filter((h) => !vouched.has(h.name));
  const rest =
    others.length > 0
      ? await readSwarm(keptCtx.withHosts(others), {
          ...opts,
          known: [...managers.facts, ...vouched.values()],
        })
      : { facts: [], unread: [], unreachable: [] };
  if (vouched.size > 0)
    ctx.log(
      `${vouched.size} of ${candidates.length} workers read from the managers' node list (Ready at their own addresses): not connected to`,
    );
  const byHost = new Map([...managers.facts, ...vouched.values(), ...rest.facts].map((f) => [f.host, f]));
  return {
    facts: reached.flatMap((h) => (byHost.has(h.name) ? [byHost.get(h.name)!] : [])),
    unread: [...managers.unread, ...rest.unread],
    unreachable: [...managers.unreachable, ...rest.unreachable],
    vouched: new Set(vouched.keys()),
  };
}

/** A dropped host that does not answer any more is not an error: its node is removed by NodeID. */
async function readDroppedFacts(ctx: PlaybookContext, dropped: Machine[]): Promise<HostFacts[]> {
  try {
    return await readSwarmFacts(ctx.withHosts(dropped), {
      engineWaitMs: 0,
      tolerateNoEngine: true,
      settleMs: 0,
    });
  } catch (err) {
    ctx.reporter.emit({
      event: 'log',
      message: `hosts taken out of the inventory: ${(err as Error).message}`,
    });
    return [];
  }
}
