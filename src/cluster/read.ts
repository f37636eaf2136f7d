import { readEngineFacts, planEngines, type EngineReading } from '../engine/ensure.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine, MachineListing } from '../providers/provider.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { readSwarmOfHosts } from './read-swarm.ts';
import { findSmokeLeftovers } from '../swarm/smoke-cleanup.ts';
import { errorMessage } from '../errors.ts';
import { withDeadline } from '../transport/deadline.ts';
import type { ClusterState } from '../state/store.ts';
import type { ClusterFacts } from './plan.ts';
import { judgeUnread, laterHosts } from './unread.ts';
import { engineWork } from './engine-work.ts';

/** What was read, with the handles `up` goes on with (connections are pooled; the hosts' SSH targets). */
export interface ClusterReading {
  input: ClusterFacts;
  /** SSH targets of every machine that runs now (kept, surplus and dropped hosts that answered). */
  machines: Map<string, Machine>;
  engineReading: EngineReading;
}

/**
 * Read everything the plan needs, in parallel and one round trip per host, changing nothing: the provider's
 * machines, every running host's swarm (and, where no engine answers, its OS and engine facts).
 */
export async function readCluster(
  ctx: PlaybookContext,
  opts: { machinesOnly?: boolean } = {},
): Promise<ClusterReading> {
  const { provider } = ctx;
  const state = ctx.state.read();
  // The networks the provider sees, read beside the listing (the swarm's address pool must overlap none).
  const seenReading = opts.machinesOnly ? undefined : provider.seenNetworks?.();
  seenReading?.catch(() => undefined); // awaited below
  const listing: MachineListing[] = await provider.list();
  const hosts = provider.createsMachines
    ? provider.wanted()
    : ctx.cluster.hosts.map((h) => ({ name: h.name, role: h.role }));
  const recorded = recordedSettings(ctx, state);
  if (opts.machinesOnly) {
    // --until provision: machines only; no host is connected to (they may not answer yet).
    const input = { hosts, createsMachines: provider.createsMachines, listing, facts: [], engines: [] };
    return {
      input: { ...input, ...recorded, machinesOnly: true },
      machines: new Map(),
      engineReading: { facts: new Map(), offsets: new Map() },
    };
  }
  const running = listing.filter((m) => m.state === 'running').map((m) => m.name);
  const reached = running.length > 0 ? await provider.reach(running) : [];
  const machines = new Map(reached.map((m) => [m.name, m]));
  const dropped = droppedHosts(ctx, state, reached);
  for (const h of dropped) machines.set(h.name, h);

  const swarmRead = await readSwarmOfHosts(ctx, ctx.withHosts(reached), state, reached, dropped);
  const { facts, unread: unreadNow, vouched } = swarmRead;
  // Workers not reached over SSH are left out of everything that follows (the plan names them as problems).
  const leftOut = swarmRead.unreachable.map((u) => ({
    host: u.host,
    reason: `not reached over SSH (${u.reason}): left out of this run, nothing done to it; the other hosts go on`,
  }));
  for (const u of leftOut) machines.delete(u.host);
  const live = reached.filter((h) => machines.has(h.name));
  const keptCtx = ctx.withHosts(live);

  // What a smoke test killed before its cleanup left (read at the same time as the engine facts below).
  const smokeReading = readSmokeLeftovers(ctx, live, facts, vouched);
  const { engineReading, engines, held } = await readEngineWork(ctx, keptCtx, live, facts);
  // A running host whose swarm was not read is never planned as a fresh one while its engine may hold a swarm.
  const unread = judgeUnread(unreadNow, engineReading.facts, new Set(engines.map((e) => e.host)));
  const later = laterHosts({ hosts, listing, facts, unreadLater: unread.later });

  return {
    input: {
      hosts,
      createsMachines: provider.createsMachines,
      listing,
      ...(dropped.length > 0 ? { dropped: dropped.map((h) => h.name) } : {}),
      facts,
      engines,
      ...(held.length > 0 ? { engineHeld: held, enginePin: ctx.cluster.engine.version! } : {}),
      ...(later.length > 0 ? { later } : {}),
      ...(unread.refused.length > 0 ? { refused: unread.refused } : {}),
      ...(leftOut.length > 0 ? { leftOut } : {}),
      ...(provider.enginePreinstalled ? {} : { newMachineEngine: newMachineEngineSteps(ctx) }),
      ...recorded,
      seenNetworks: (await seenReading) ?? [],
      smokeLeftovers: await smokeReading,
    },
    machines,
    engineReading,
  };
}

/** What the spec, the options and the state record say the swarm should be (the plan's input beside the facts). */
function recordedSettings(ctx: PlaybookContext, state: ClusterState | undefined) {
  const { cluster } = ctx;
  return {
    managers: cluster.managers,
    autolock: cluster.swarm.autolock,
    ...(ctx.options.adopt ? { adopt: true } : {}),
    ...(ctx.options.newSwarm ? { newSwarm: true } : {}),
    ...(state?.clusterId ? { knownClusterId: state.clusterId } : {}),
    ...(state?.nodeIds ? { recordedNodeIds: state.nodeIds } : {}),
    ...(state?.preexisting?.length ? { preexisting: state.preexisting } : {}),
    initSettings: {
      ...(cluster.swarm.defaultAddrPool ? { defaultAddrPool: cluster.swarm.defaultAddrPool } : {}),
      ...(cluster.swarm.subnetSize !== undefined ? { subnetSize: cluster.swarm.subnetSize } : {}),
      ...(cluster.swarm.dataPathPort !== undefined ? { dataPathPort: cluster.swarm.dataPathPort } : {}),
      ...(cluster.swarm.dataPathAddr ? { dataPathAddr: cluster.swarm.dataPathAddr } : {}),
    },
    ...(state?.addrPool ? { recordedPool: state.addrPool } : {}),
    labels: {
      ...cluster.labels,
      hosts: Object.fromEntries(cluster.hosts.filter((h) => h.labels).map((h) => [h.name, h.labels!])),
    },
    ...(state?.labels ? { recordedLabels: state.labels } : {}),
    ...(state?.joinedDrained?.length ? { joinedDrained: state.joinedDrained } : {}),
  };
}

/** ssh: hosts of the last run that are no longer in the inventory leave the swarm (if they still answer). */
function droppedHosts(ctx: PlaybookContext, state: ClusterState | undefined, reached: Machine[]): Machine[] {
  const { provider } = ctx;
  const inventory = new Set(provider.wanted().map((n) => n.name));
  return provider.createsMachines
    ? []
    : (state?.hosts ?? []).filter(
        (h) => !inventory.has(h.name) && !reached.some((m) => m.address === h.address && m.port === h.port),
      );
}

/** Engines: hosts with no engine answering (or not the pinned version) are read further and planned. */
async function readEngineWork(
  ctx: PlaybookContext,
  keptCtx: PlaybookContext,
  reached: Machine[],
  facts: HostFacts[],
): Promise<{
  engineReading: EngineReading;
  engines: ClusterFacts['engines'];
  held: NonNullable<ClusterFacts['engineHeld']>;
}> {
  const work = engineWork(
    reached.map((h) => h.name),
    facts,
    ctx.cluster.engine.version,
  );
  const needEngine = work.need;
  const engineReading = await readEngineFacts(keptCtx, needEngine);
  const engines = planEngines(
    keptCtx.withHosts(reached.filter((h) => needEngine.includes(h.name))),
    engineReading,
  )
    .filter((p) => p.steps.length > 0)
    .map((p) => ({ host: p.host, steps: p.steps.map((s) => s.title) }));
  return { engineReading, engines, held: work.held };
}

/**
 * Smoke test leftovers of this cluster on every host whose engine answered (services on managers that list the
 * nodes). Each read has a deadline; a host that cannot say is named in a log line, and nothing is planned for it.
 * Workers vouched for by the node list (not connected to) are looked at only when a host read shows leftovers: a
 * smoke run loads its probe image and runs a task on every node, managers included, so a run cut short leaves its
 * marks on the managers too.
 */
async function readSmokeLeftovers(
  ctx: PlaybookContext,
  reached: Machine[],
  facts: HostFacts[],
  vouched: ReadonlySet<string>,
): Promise<NonNullable<ClusterFacts['smokeLeftovers']>> {
  const found = await smokeLeftoversOf(
    ctx,
    reached,
    facts.filter((f) => !vouched.has(f.host)),
  );
  if (found.length === 0 || vouched.size === 0) return found;
  return [
    ...found,
    ...(await smokeLeftoversOf(
      ctx,
      reached,
      facts.filter((f) => vouched.has(f.host)),
    )),
  ];
}

async function smokeLeftoversOf(
  ctx: PlaybookContext,
  reached: Machine[],
  facts: HostFacts[],
): Promise<NonNullable<ClusterFacts['smokeLeftovers']>> {
  const read = await Promise.all(
    facts.flatMap((f) => {
      const m = reached.find((h) => h.name === f.host);
      if (!m || f.state === 'locked') return [];
      return [
        withDeadline(
          (async () => {
            const docker = (await ctx.connection(m)).docker;
            return { host: f.host, ...(await findSmokeLeftovers(ctx.cluster.name, docker, !!f.nodes)) };
          })(),
          10_000,
          `${f.host}: smoke test leftovers`,
        ).catch((err: unknown) => {
          ctx.reporter.emit({
            event: 'log',
            message: `${f.host}: could not look for smoke test leftovers: ${errorMessage(err)}`,
          });
          return undefined;
        }),
      ];
    }),
  );
  return read.filter((r) => r !== undefined && r.services.length + r.other.length > 0) as NonNullable<
    ClusterFacts['smokeLeftovers']
  >;
}

/** What a machine yet to be created will need: its OS is known only once it runs. */
function newMachineEngineSteps(ctx: PlaybookContext): string[] {
  const source = ctx.cluster.engine.source;
  return source === 'none'
    ? ['check that an engine runs (source none)']
    : [`read the OS, then install and start the engine where missing (source ${source})`];
}
