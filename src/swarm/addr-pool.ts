import { InputError } from '../errors.ts';
import { canonicalCidr, type Cidr } from '../net/cidr.ts';
import { overlaps, relevant, split, v4, type SeenNetwork } from '../net/networks.ts';

export { firstFreeBlock, overlaps, type SeenNetwork } from '../net/networks.ts';

/**
 * The swarm's default address pool (where overlay networks' subnets come from): Docker's own default, 10.0.0.0/8,
 * collides with VPCs, VPNs and corporate networks, and can be set only at `swarm init`. Unless the config gives one,
 * swarmup chooses a pool that overlaps none of the networks it can see. Pure: no I/O.
 */

/** The pool a new swarm is made with, or the one an existing swarm has. */
export interface AddrPool {
  pool: string[];
  subnetSize: number;
  /** given: the config's; chosen: by swarmup now; recorded: chosen by an earlier run; swarm: read back from it. */
  source: 'given' | 'chosen' | 'recorded' | 'swarm';
}

/** What `swarm init` fixed for good, as a manager reports it (GET /info Swarm.Cluster). */
export interface SwarmInitSettings {
  defaultAddrPool: string[];
  subnetSize: number;
  dataPathPort: number;
}

/** Docker's values when none is given. */
export const DOCKER_DEFAULTS: SwarmInitSettings = {
  defaultAddrPool: ['10.0.0.0/8'],
  subnetSize: 24,
  dataPathPort: 4789,
};

/** Private ranges to choose from, in order of preference (10/8 first: Docker's local bridges use 172/12 and 192.168/16). */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
/** Overlay networks a pool should hold at least. */
const SUBNETS_WANTED = 256;

/** Whether any block of the pool overlaps a network seen (those that count: see `relevant`). */
export function poolOverlaps(pool: string[], seen: SeenNetwork[]): boolean {
  const blocks = relevant(seen);
  return pool.some((c) => {
    const b = v4(c);
    return !!b && blocks.some((s) => overlaps(b, s.block));
  });
}

/** The size of pool that holds SUBNETS_WANTED subnets of `subnetSize`, never narrower than a /16. */
export function poolPrefix(subnetSize: number): number {
  return Math.max(8, Math.min(16, subnetSize - Math.log2(SUBNETS_WANTED)));
}

export interface PoolInput {
  /** The config's pool (honoured as given). */
  given?: string[];
  subnetSize?: number;
  /** A pool an earlier run chose (kept while it still overlaps nothing seen). */
  recorded?: string[];
  seen: SeenNetwork[];
}

/**
 * The pool a new swarm gets: the config's as given (with a notice per seen network it overlaps); else the one an
 * earlier run chose, if it still overlaps nothing; else the first private block (a /16 unless the subnet size needs
 * more) that overlaps none of the networks seen. Throws InputError when every candidate overlaps something.
 */
export function chooseAddrPool(input: PoolInput): { pool: AddrPool; notices: string[] } {
  const subnetSize = input.subnetSize ?? DOCKER_DEFAULTS.subnetSize;
  const seen = relevant(input.seen);
  const clashes = (block: Cidr) => seen.filter((s) => overlaps(block, s.block));
  if (input.given) {
    const notices = input.given.flatMap((c) =>
      clashes(v4(c)!).map(
        (s) => `swarm.defaultAddrPool: ${c} overlaps ${s.cidr} (${s.where}); kept as given`,
      ),
    );
    return { pool: { pool: input.given, subnetSize, source: 'given' }, notices };
  }
  const recorded = input.recorded?.map(v4);
  if (recorded?.length && recorded.every((b) => b && clashes(b).length === 0))
    return { pool: { pool: input.recorded!, subnetSize, source: 'recorded' }, notices: [] };
  const prefix = poolPrefix(subnetSize);
  for (const range of PRIVATE) {
    const found = split(v4(range)!, prefix).find((b) => clashes(b).length === 0);
    if (found) return { pool: { pool: [found.text], subnetSize, source: 'chosen' }, notices: [] };
  }
  throw new InputError(
    `swarm.defaultAddrPool: every private /${prefix} overlaps a network seen (${seen.length} of them, e.g. ` +
      `${seen
        .slice(0, 3)
        .map((s) => `${s.cidr} (${s.where})`)
        .join(', ')}); give a pool in the config (swarm.defaultAddrPool) or --default-addr-pool`,
  );
}

/** A short account of the pool for a log line and the plan. */
export function describePool(p: AddrPool, seenCount: number): string {
  const what = `address pool ${p.pool.join(', ')} (/${p.subnetSize} subnets)`;
  switch (p.source) {
    case 'chosen':
      return `${what}: chosen, overlaps none of the ${seenCount} networks seen`;
    case 'recorded':
      return `${what}: chosen by an earlier run, still overlaps none of the ${seenCount} networks seen`;
    case 'given':
      return `${what}: as configured`;
    case 'swarm':
      return `${what}: the swarm's own (set at init)`;
  }
}

/** The swarm settings as the engine's GET /info reports them (managers only; undefined elsewhere). Pure. */
export function parseInitSettings(cluster: unknown): SwarmInitSettings | undefined {
  const c = (cluster ?? {}) as {
    DefaultAddrPool?: string[] | null;
    SubnetSize?: number;
    DataPathPort?: number;
  };
  if (!c.DefaultAddrPool && c.SubnetSize === undefined && c.DataPathPort === undefined) return undefined;
  return {
    defaultAddrPool: c.DefaultAddrPool?.length ? c.DefaultAddrPool : DOCKER_DEFAULTS.defaultAddrPool,
    subnetSize: c.SubnetSize || DOCKER_DEFAULTS.subnetSize,
    dataPathPort: c.DataPathPort || DOCKER_DEFAULTS.dataPathPort,
  };
}

/**
 * An existing swarm keeps what it was made with: a setting the config gives differently is reported (it cannot be
 * changed), never applied.
 */
export function initSettingNotices(
  wanted: { defaultAddrPool?: string[]; subnetSize?: number; dataPathPort?: number },
  swarm: SwarmInitSettings,
): string[] {
  const differ: string[] = [];
  const norm = (l: string[]) => l.map(canonicalCidr).sort().join(',');
  if (wanted.defaultAddrPool && norm(wanted.defaultAddrPool) !== norm(swarm.defaultAddrPool))
    differ.push(
      `swarm.defaultAddrPool: the swarm has ${swarm.defaultAddrPool.join(', ')}, the config asks ${wanted.defaultAddrPool.join(', ')}`,
    );
  if (wanted.subnetSize !== undefined && wanted.subnetSize !== swarm.subnetSize)
    differ.push(
      `swarm.subnetSize: the swarm has /${swarm.subnetSize}, the config asks /${wanted.subnetSize}`,
    );
  if (wanted.dataPathPort !== undefined && wanted.dataPathPort !== swarm.dataPathPort)
    differ.push(
      `swarm.dataPathPort: the swarm has ${swarm.dataPathPort}, the config asks ${wanted.dataPathPort}`,
    );
  return differ.map((d) => `${d}; set at init: recreating the swarm is the only way (left as it is)`);
}

/** Routes of `ip -4 route` output as networks seen on a host (the default route and non-network lines skipped). */
export function parseRoutes(host: string, stdout: string): SeenNetwork[] {
  return stdout.split('\n').flatMap((line) => {
    const first = line.trim().split(/\s+/)[0] ?? '';
    // `ip route` prints a /32 without its prefix; route types (local, broadcast, unreachable...) come first.
    const dest = /^[a-z]+$/.test(first) && first !== 'default' ? (line.trim().split(/\s+/)[1] ?? '') : first;
    const block = dest && dest !== 'default' ? v4(dest) : undefined;
    return block ? [{ cidr: canonicalCidr(block.text), where: `route on ${host}` }] : [];
  });
}
