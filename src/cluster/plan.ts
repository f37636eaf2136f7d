import type { Role } from '../config/cluster.ts';
import type { MachineListing } from '../providers/provider.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { engineRefusals } from '../swarm/engine-support.ts';
import { PlanError, planSwarm, type Problem, type SwarmPlan } from '../swarm/plan.ts';
import type { SeenNetwork } from '../swarm/addr-pool.ts';
import { stages, type Action, type Phase, type Stage } from '../swarm/actions.ts';
import type { LabelsWanted } from '../swarm/plan-labels.ts';
import type { Labels } from '../config/labels.ts';
import { heldEngineNotice } from './engine-work.ts';
import { planInitOptions, type InitOptionsPlan, type InitSettingsWanted } from './init-options.ts';

/**
 * What the cluster is made of now, as read before anything changes: the provider's machines, what each running
 * host's engine says of its swarm, and the engine work each host needs.
 */
export interface ClusterFacts {
  /** The machines the cluster should have, in inventory order. */
  hosts: ReadonlyArray<{ name: string; role: Role | 'auto' }>;
  /** Whether the provider creates machines (and so removes the surplus ones). */
  createsMachines: boolean;
  /** The machines that exist, in any state (for ssh: the inventory's hosts). */
  listing: MachineListing[];
  /** ssh: hosts of an earlier run that are no longer in the inventory (they leave the swarm). */
  dropped?: string[];
  /** Swarm facts of the hosts whose engine answered. */
  facts: HostFacts[];
  /**
   * Hosts whose swarm is read only once this run has started them: their machine is stopped (or starting), their
   * engine is stopped, or it did not answer about its swarm yet. The swarm part is planned after they answer.
   */
  later?: string[];
  /** Running hosts whose engine runs but whose swarm swarmup cannot read, and why: the plan refuses. */
  refused?: Array<{ host: string; reason: string }>;
  /** Workers not reached over SSH, and why: left out of the run (problems of the plan), the others go on. */
  leftOut?: Array<{ host: string; reason: string }>;
  /** Engine work on hosts that exist: step titles, per host that needs any. */
  engines: Array<{ host: string; steps: string[] }>;
  /** Swarm members whose engine answers at another version than engine.version: left to `swarmup upgrade`. */
  engineHeld?: Array<{ host: string; version: string }>;
  /** engine.version, when the config pins one. */
  enginePin?: string;
  /** Engine work on a machine yet to be created; undefined when machines come with an engine that starts itself. */
  newMachineEngine?: string[];
  managers: number;
  /** Join a swarm that existed before swarmup (ssh inventories). */
  adopt?: boolean;
  /** The NodeIDs a swarm swarmup adopted had before (state): it is someone else's swarm. */
  preexisting?: string[];
  /** The recorded swarm is gone: a new one is made in its place (refused while any host is a member of it). */
  newSwarm?: boolean;
  /** Only the machines are planned (`--until provision`): no host is connected to, no swarm read. */
  machinesOnly?: boolean;
  knownClusterId?: string;
  recordedNodeIds?: Record<string, string>;
  /** Wanted autolock (swarm.autolock, --autolock). */
  autolock?: boolean;
  /** Node labels the config declares, and those swarmup set on each host's node before (state). */
  labels?: LabelsWanted;
  recordedLabels?: Record<string, Labels>;
  joinedDrained?: string[];
  /**
   * What smoke tests of this cluster left on each engine (a run killed before its cleanup), found by swarmup's smoke
   * labels and names; `services` only on managers. Removed by up before any other swarm change.
   */
  smokeLeftovers?: Array<{ host: string; services: string[]; other: string[] }>;
  /** Settings of `swarm init` the spec gives (pool, subnet size, data path). */
  initSettings?: InitSettingsWanted;
  /** Networks the provider sees (the address pool overlaps none); the hosts' routes come with their facts. */
  seenNetworks?: SeenNetwork[];
  /** The address pool an earlier run chose for this cluster. */
  recordedPool?: string[];
}

/** The one plan of a run: built once from facts, printed by `plan`, applied by `up`. Pure data. */
export interface ClusterPlan {
  phases: Phase[];
  /** The swarm part's choices: which swarm, through which manager, which role each host gets. */
  swarm: Pick<SwarmPlan, 'clusterId' | 'entry' | 'roles' | 'adopted'>;
  problems: Problem[];
  /** The swarm's address pool: what init is given, or what the existing swarm has. */
  addrPool?: InitOptionsPlan['addrPool'];
  /** Worth saying, not refusing (a configured pool overlapping a network; a setting an existing swarm cannot take). */
  notices: string[];
  /**
   * Hosts whose swarm state could not be read yet (machines or engines this plan starts, or busy): read again,
   * with every other host, once they run; the swarm part is planned then (`deferred`).
   */
  later: string[];
  /** The swarm part waits for `later` (the plan's swarm phases are empty until then). */
  deferred: boolean;
}

/**
 * Machines to create, start and remove, engines to install or start, and the swarm's changes, in the order they
 * are applied. Surplus machines leave the swarm (drained, demoted) before they are destroyed. Throws PlanError for
 * what cannot be done safely (lost quorum, a change that would break quorum), before anything is changed.
 */
export function planCluster(input: ClusterFacts): ClusterPlan {
  refuseUnreadable(input);
  const machines = machineChanges(input);
  const later = [...new Set(input.later ?? [])];
  const swarm = planSwarmPart(input, machines.retire, later);
  const phases = clusterPhases(input, machines, swarm);
  const init = input.machinesOnly
    ? { phases, notices: [] }
    : planInitOptions({
        wanted: input.initSettings ?? {},
        seen: input.seenNetworks ?? [],
        ...(input.recordedPool ? { recordedPool: input.recordedPool } : {}),
        facts: input.facts,
        ...(swarm.clusterId ? { clusterId: swarm.clusterId } : {}),
        phases,
      });

  return {
    phases: init.phases,
    swarm: {
      ...(swarm.clusterId ? { clusterId: swarm.clusterId } : {}),
      entry: swarm.entry,
      roles: swarm.roles,
      ...(swarm.adopted ? { adopted: swarm.adopted } : {}),
    },
    problems: swarm.problems,
    ...(init.addrPool ? { addrPool: init.addrPool } : {}),
    notices: [
      ...deferredNotice(swarm),
      ...(swarm.notices ?? []),
      ...init.notices,
      ...heldEngineNotice(input.engineHeld ?? [], input.enginePin),
    ],
    later,
    deferred: !!swarm.deferred,
  };
}

/**
 * Throws PlanError for kept hosts that cannot be read, and for engines swarm changes must not be made on (too old;
 * nftables).
 */
function refuseUnreadable(input: ClusterFacts): void {
  const kept = new Set(input.hosts.map((h) => h.name));
  const refused = [
    ...(input.refused ?? []),
    ...(input.machinesOnly ? [] : engineRefusals(input.facts)),
  ].filter((r) => kept.has(r.host));
  if (refused.length > 0)
    throw new PlanError(
      refused.map((r) => `${r.host}: ${r.reason}`).join('\n') +
        '\nnothing was changed: a host whose swarm cannot be read, or whose engine cannot run swarm mode, is ' +
        'neither joined, demoted nor removed',
    );
}

type Wanted = ClusterFacts['hosts'][number];

interface MachineChanges {
  /** Hosts whose machine is missing or failed. */
  create: Wanted[];
  /** Hosts whose machine is stopped. */
  start: Wanted[];
  /** Surplus machines (when the provider creates machines) and hosts dropped from an inventory: they leave. */
  retire: Array<{ name: string; machine: boolean }>;
}

/** Which machines are created, started and retired, from the provider's listing. */
function machineChanges(input: ClusterFacts): MachineChanges {
  const listed = new Map(input.listing.map((m) => [m.name, m]));
  const wanted = new Set(input.hosts.map((h) => h.name));
  const create = input.hosts.filter((h) => {
    const m = listed.get(h.name);
    return !m || m.state === 'failed';
  });
  const start = input.hosts.filter((h) => listed.get(h.name)?.state === 'stopped');
  const retire = [
    ...(input.createsMachines
      ? input.listing.filter((m) => !wanted.has(m.name) && m.state !== 'failed').map((m) => m.name)
      : []),
    ...(input.dropped ?? []),
  ].map((name) => ({ name, machine: input.createsMachines }));
  return { create, start, retire };
}

/** The swarm part of the plan (nothing of it when only machines are planned). */
function planSwarmPart(input: ClusterFacts, retire: MachineChanges['retire'], later: string[]): SwarmPlan {
  if (input.machinesOnly) return { entry: '', roles: {}, phases: [], problems: [] };
  return planSwarm({
    hosts: input.hosts,
    ownMachines: input.createsMachines,
    ...(input.adopt ? { adopt: true } : {}),
    ...(input.preexisting ? { preexisting: input.preexisting } : {}),
    ...(input.newSwarm ? { newSwarm: true } : {}),
    retire,
    ...(input.leftOut ? { leftOut: input.leftOut } : {}),
    managers: input.managers,
    facts: input.facts,
    ...(input.knownClusterId ? { knownClusterId: input.knownClusterId } : {}),
    ...(input.recordedNodeIds ? { recordedNodeIds: input.recordedNodeIds } : {}),
    later,
    ...(input.autolock !== undefined ? { autolock: input.autolock } : {}),
    ...(input.labels ? { labels: input.labels } : {}),
    ...(input.recordedLabels ? { recordedLabels: input.recordedLabels } : {}),
    ...(input.joinedDrained ? { joinedDrained: input.joinedDrained } : {}),
  });
}

/** The phases in the order they are applied: machines, engines, smoke leftovers, the swarm; empty ones left out. */
function clusterPhases(input: ClusterFacts, machines: MachineChanges, swarm: SwarmPlan): Phase[] {
  const roleOf = (h: Wanted): Role => swarm.roles[h.name] ?? (h.role === 'auto' ? 'worker' : h.role);
  const engines: Action[] = [
    ...input.engines.map((e): Action => ({ kind: 'engine', host: e.host, steps: e.steps })),
    ...(input.newMachineEngine
      ? machines.create.map((h): Action => ({ kind: 'engine', host: h.name, steps: input.newMachineEngine! }))
      : []),
  ];
  return [
    {
      stage: 'provision' as const,
      title: 'create and start machines',
      mode: 'parallel' as const,
      actions: [
        ...machines.create.map((h): Action => ({ kind: 'create-machine', host: h.name, role: roleOf(h) })),
        ...machines.start.map((h): Action => ({ kind: 'start-machine', host: h.name })),
      ],
    },
    {
      stage: 'engine' as const,
      title: 'install and start engines',
      mode: 'parallel' as const,
      actions: engines,
    },
    smokePhase(input),
    ...swarm.phases,
  ].filter((p) => p.actions.length > 0);
}

/** Says when the swarm part waits for hosts this run starts. */
function deferredNotice(swarm: SwarmPlan): string[] {
  if (!swarm.deferred || swarm.deferred.length === 0) return [];
  return [
    `the swarm is planned once ${swarm.deferred.join(', ')} ${swarm.deferred.length === 1 ? 'answers' : 'answer'} ` +
      '(machines and engines are started first, then the managers are waited for until they have a leader)',
  ];
}

/**
 * A smoke test killed before its cleanup (SIGKILL, a lost terminal) leaves its global service publishing a
 * host-mode port on every node: removed first, before any node joins (it would get a task too). Through a manager
 * that lists the service; the probe image and task containers on each host that has them.
 */
function smokePhase(input: ClusterFacts): Phase {
  const found = input.machinesOnly ? [] : (input.smokeLeftovers ?? []);
  const seen = found.filter((f) => f.services.length + f.other.length > 0);
  const manager = seen.find((f) => f.services.length > 0)?.host;
  return {
    stage: 'swarm',
    title: 'remove smoke test leftovers',
    mode: 'serial',
    actions:
      seen.length === 0
        ? []
        : [
            {
              kind: 'remove-smoke',
              ...(manager ? { manager } : {}),
              hosts: seen.map((f) => f.host),
              found: [
                ...new Set(seen.flatMap((f) => f.services)),
                ...seen.flatMap((f) => f.other.map((o) => `${o} on ${f.host}`)),
              ],
            },
          ],
  };
}

/** The phases up to and including a stage (`--until`). */
export function phasesUntil(phases: Phase[], until?: Stage): Phase[] {
  if (!until) return phases;
  const last = stages.indexOf(until);
  return phases.filter((p) => stages.indexOf(p.stage) <= last);
}
