import { InputError } from '../errors.ts';
import { flagOverFile } from './flag-over-file.ts';
import { parseCidr } from '../net/cidr.ts';
import type { ConfigFile } from './schema.ts';

/**
 * Settings Swarm takes only at `swarm init` (the address pool, the data path) or that change how the cluster is
 * run (autolock). Flags over the file's `swarm:` section; validated before anything is touched.
 */
export interface SwarmOptions {
  /** Managers' raft data encrypted with a key that must be given after each engine restart. */
  autolock: boolean;
  /** Address pools overlay networks' subnets come from (Docker's default: 10.0.0.0/8); undefined: chosen. */
  defaultAddrPool?: string[];
  /** Prefix length of each overlay network's subnet (Docker's default: 24). */
  subnetSize?: number;
  /** The VXLAN data path's UDP port (Docker's default: 4789). */
  dataPathPort?: number;
  /** Address or interface for the data path (default: the advertise address). */
  dataPathAddr?: string;
}

export interface SwarmFlags {
  autolock?: boolean;
  defaultAddrPool?: string;
  subnetSize?: string;
  dataPathPort?: string;
  dataPathAddr?: string;
}

function intIn(field: string, value: string | number | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InputError(`${field}: expected a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

export function resolveSwarmOptions(
  file: ConfigFile | undefined,
  flags: SwarmFlags,
  where: (field: string) => string,
): SwarmOptions {
  const f = file?.swarm ?? {};
  const given = flagOverFile(
    flags.defaultAddrPool,
    '--default-addr-pool',
    f.defaultAddrPool,
    'swarm.defaultAddrPool',
    where,
  );
  const poolField = given.field;
  const pool = given.flag !== undefined ? given.flag.split(',').map((c) => c.trim()) : given.file;
  for (const c of pool ?? []) {
    const block = parseCidr(c);
    if (!block || block.family !== 4)
      throw new InputError(`${poolField}: "${c}" is not an IPv4 CIDR block like 10.20.0.0/16`);
  }
  const size = flagOverFile(flags.subnetSize, '--subnet-size', f.subnetSize, 'swarm.subnetSize', where);
  const subnetSize = intIn(size.field, size.value, 8, 29);
  for (const c of pool ?? []) {
    const prefix = parseCidr(c)!.prefix;
    if (prefix > (subnetSize ?? 24))
      throw new InputError(
        `${poolField}: "${c}" is smaller than one overlay subnet (/${subnetSize ?? 24}); give a wider pool or a larger --subnet-size`,
      );
  }
  // Swarm refuses ports below 1024 and above 49151 for the data path.
  const port = flagOverFile(
    flags.dataPathPort,
    '--data-path-port',
    f.dataPathPort,
    'swarm.dataPathPort',
    where,
  );
  const dataPathPort = intIn(port.field, port.value, 1024, 49151);
  const dataPathAddr = flags.dataPathAddr ?? f.dataPathAddr;
  return {
    autolock: flags.autolock ?? f.autolock ?? false,
    ...(pool ? { defaultAddrPool: pool } : {}),
    ...(subnetSize !== undefined ? { subnetSize } : {}),
    ...(dataPathPort !== undefined ? { dataPathPort } : {}),
    ...(dataPathAddr ? { dataPathAddr } : {}),
  };
}
