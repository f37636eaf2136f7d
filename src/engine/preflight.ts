/** What the pre-flight script reports about a host (free disk, addresses); EngineFacts has the same fields. */
export interface HostReport {
  diskFreeKiB?: number;
  addresses?: string[];
}

/** Swarm's certificates are checked against each node's clock: more skew than this makes joins fail. */
export const MAX_CLOCK_SKEW_S = 10;
/** Below this much free space where the engine keeps its data, images and the raft log fail to write. */
export const MIN_DISK_FREE_KIB = 1024 * 1024;

export interface PreflightProblem {
  host: string;
  check: 'clock' | 'address' | 'disk' | 'ports';
  message: string;
}

export interface PreflightInput {
  hosts: ReadonlyArray<{ name: string; advertiseAddress: string }>;
  facts: ReadonlyMap<string, HostReport>;
  /** Host clock minus this machine's clock, in seconds, estimated at the middle of the facts round trip. */
  clockOffsets: ReadonlyMap<string, number>;
  /** The first manager: every clock is compared with its clock. */
  reference: string;
}

/** The checks that need no extra round trip: clock skew, advertise address, free disk. Pure. */
export function preflightChecks(input: PreflightInput): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const ref = input.clockOffsets.get(input.reference);
  for (const h of input.hosts) {
    const f = input.facts.get(h.name);
    if (!f) continue;
    const offset = input.clockOffsets.get(h.name);
    if (ref !== undefined && offset !== undefined && h.name !== input.reference) {
      const skew = offset - ref;
      if (Math.abs(skew) > MAX_CLOCK_SKEW_S) {
        problems.push({
          host: h.name,
          check: 'clock',
          message: `clock is ${Math.abs(skew).toFixed(1)} s ${skew > 0 ? 'ahead of' : 'behind'} ${input.reference} (more than ${MAX_CLOCK_SKEW_S} s breaks Swarm's TLS certificates): enable NTP (timedatectl set-ntp true)`,
        });
      }
    }
    const addresses = f.addresses ?? [];
    if (addresses.length > 0 && !addresses.includes(h.advertiseAddress)) {
      problems.push({
        host: h.name,
        check: 'address',
        message: `advertise address ${h.advertiseAddress} is not an address of this host (it has ${addresses.filter((a) => a !== '127.0.0.1' && a !== '::1').join(', ')}); set advertiseAddress to the one the other nodes reach it on`,
      });
    }
    if (f.diskFreeKiB !== undefined && Number.isFinite(f.diskFreeKiB) && f.diskFreeKiB < MIN_DISK_FREE_KIB) {
      problems.push({
        host: h.name,
        check: 'disk',
        message: `only ${(f.diskFreeKiB / 1024).toFixed(0)} MiB free for the engine's data (at least ${MIN_DISK_FREE_KIB / 1024 / 1024} GiB needed)`,
      });
    }
  }
  return problems;
}

/**
 * The ports Swarm needs between nodes: 2377/tcp on managers, 7946 tcp+udp and the data path's UDP port (4789
 * unless the swarm was made with another) on every node.
 */
export function swarmPorts(role: 'manager' | 'worker', dataPathPort = 4789): string[] {
  return [...(role === 'manager' ? ['tcp:2377'] : []), 'tcp:7946', 'udp:7946', `udp:${dataPathPort}`];
}

/** Which probes to run: every joining host from the reference, and the reference from another host. */
export function probePlan(
  hosts: ReadonlyArray<{ name: string; role: 'manager' | 'worker' }>,
  joining: ReadonlySet<string>,
  reference: string,
  dataPathPort?: number,
): Array<{ from: string; to: string; ports: string[] }> {
  const probes: Array<{ from: string; to: string; ports: string[] }> = [];
  for (const h of hosts) {
    if (!joining.has(h.name) || h.name === reference) continue;
    probes.push({ from: reference, to: h.name, ports: swarmPorts(h.role, dataPathPort) });
  }
  const other = hosts.find((h) => h.name !== reference);
  const ref = hosts.find((h) => h.name === reference);
  if (joining.has(reference) && other && ref)
    probes.push({ from: other.name, to: reference, ports: swarmPorts(ref.role, dataPathPort) });
  return probes;
}
