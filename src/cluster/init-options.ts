import type { SwarmOptions } from '../config/swarm-options.ts';
import {
  chooseAddrPool,
  describePool,
  initSettingNotices,
  type AddrPool,
  type SeenNetwork,
} from '../swarm/addr-pool.ts';
import type { HostFacts } from '../swarm/facts.ts';
import type { Action, Phase } from '../swarm/actions.ts';

/** The settings of `swarm init` the cluster spec gives (autolock is handled elsewhere). */
export type InitSettingsWanted = Pick<
  SwarmOptions,
  'defaultAddrPool' | 'subnetSize' | 'dataPathPort' | 'dataPathAddr'
>;

export interface InitOptionsInput {
  wanted: InitSettingsWanted;
  /** Networks the provider sees (VPC, local engine networks); the hosts' routes come with their facts. */
  seen: SeenNetwork[];
  /** A pool chosen by an earlier run whose init did not happen (or whose swarm is gone). */
  recordedPool?: string[];
  facts: HostFacts[];
  /** The swarm being converged, when one exists. */
  clusterId?: string;
  phases: Phase[];
}

export interface InitOptionsPlan {
  /** The pool the swarm has or gets, with how it came to be, and how many networks were looked at. */
  addrPool?: AddrPool & { seen: number; description: string };
  notices: string[];
  /** The phases with the init (and join) actions carrying the settings they are made with. */
  phases: Phase[];
}

/**
 * The init options of the plan (pure): for a new swarm, its address pool (given, or chosen to overlap none of the
 * networks seen) and data path, carried by the init action so `plan` shows what `up` does; for an existing swarm,
 * its settings read back, and a notice for each the config asks differently (they cannot change).
 */
export function planInitOptions(input: InitOptionsInput): InitOptionsPlan {
  const { wanted } = input;
  const hasInit = input.phases.some((p) => p.actions.some((a) => a.kind === 'init'));
  const seen = [...input.seen, ...input.facts.flatMap((f) => f.routes ?? [])];
  let pool: AddrPool | undefined;
  let notices: string[] = [];
  const withPath = (a: Action): Action => {
    if (a.kind === 'join' && wanted.dataPathAddr) return { ...a, dataPathAddr: wanted.dataPathAddr };
    if (a.kind !== 'init') return a;
    return {
      ...a,
      ...(pool ? { defaultAddrPool: pool.pool, subnetSize: pool.subnetSize } : {}),
      ...(wanted.dataPathPort !== undefined ? { dataPathPort: wanted.dataPathPort } : {}),
      ...(wanted.dataPathAddr ? { dataPathAddr: wanted.dataPathAddr } : {}),
    };
  };
  if (hasInit) {
    ({ pool, notices } = chooseAddrPool({
      ...(wanted.defaultAddrPool ? { given: wanted.defaultAddrPool } : {}),
      ...(wanted.subnetSize !== undefined ? { subnetSize: wanted.subnetSize } : {}),
      ...(input.recordedPool ? { recorded: input.recordedPool } : {}),
      seen,
    }));
  } else if (input.clusterId) {
    const settings = input.facts.find((f) => f.clusterId === input.clusterId && f.initSettings)?.initSettings;
    if (settings) {
      pool = { pool: settings.defaultAddrPool, subnetSize: settings.subnetSize, source: 'swarm' };
      notices = initSettingNotices(wanted, settings);
    }
  }
  return {
    ...(pool
      ? { addrPool: { ...pool, seen: seen.length, description: describePool(pool, seen.length) } }
      : {}),
    notices,
    phases: input.phases.map((p) => ({ ...p, actions: p.actions.map(withPath) })),
  };
}
