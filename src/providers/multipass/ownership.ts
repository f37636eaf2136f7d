import type { Role } from '../../config/cluster.ts';
import type { Marker } from './cloud-init.ts';
import type { VmEntry } from './json.ts';

/**
 * Which Multipass VMs are a cluster's (pure): named as swarmup names them (`<cluster>-manager-N`,
 * `<cluster>-worker-N`) AND marked by swarmup at creation (the marker names the cluster and this state home's owner
 * id). A stopped VM's marker cannot be read; it counts as the cluster's when the cluster's state recorded its launch.
 */

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The role in a name swarmup gives; undefined for any other name. */
export function roleInName(cluster: string, name: string): Role | undefined {
  const m = new RegExp(`^${escape(cluster)}-(manager|worker)-\\d+$`).exec(name);
  return m ? (m[1] as Role) : undefined;
}

/** The cluster a swarmup-style name could belong to (`lab` of `lab-worker-2`); for cleanup's first sieve. */
export function clusterInName(name: string): string | undefined {
  return /^(.+)-(manager|worker)-\d+$/.exec(name)?.[1];
}

/** What a VM is to a cluster: its own, or why not (the refusal's words when the name is wanted). */
export type Verdict = { ours: true } | { ours: false; why: string };

export function verdict(
  vm: VmEntry,
  cluster: string,
  owner: string | undefined,
  marker: Marker | undefined,
  recorded: readonly string[],
): Verdict {
  if (!roleInName(cluster, vm.name))
    return { ours: false, why: 'not named as swarmup names the cluster’s VMs' };
  if (vm.state === 'Deleted')
    return {
      ours: false,
      why: `it is deleted but not purged (\`multipass purge\`, or \`multipass recover ${vm.name}\`)`,
    };
  if (vm.state !== 'Running') {
    if (recorded.includes(vm.name)) return { ours: true };
    return {
      ours: false,
      why: `it is ${vm.state} and was not launched from this state home, so its swarmup marker cannot be read (\`multipass start ${vm.name}\` lets swarmup check it)`,
    };
  }
  if (!marker)
    return { ours: false, why: 'it has no swarmup marker (/etc/swarmup/owner): swarmup did not create it' };
  if (marker.cluster !== cluster || marker.node !== vm.name)
    return { ours: false, why: `its swarmup marker names cluster ${marker.cluster}, node ${marker.node}` };
  if (marker.owner !== owner)
    return {
      ours: false,
      why: `another state home made it (owner ${marker.owner}; cleanup --provider multipass --name ${cluster} --any-owner removes it)`,
    };
  return { ours: true };
}

/** Multipass's state as the cluster plan reads it. */
export function listingState(state: VmEntry['state']): 'running' | 'starting' | 'stopped' | 'failed' {
  if (state === 'Running') return 'running';
  if (state === 'Starting' || state === 'Restarting') return 'starting';
  if (state === 'Unavailable' || state === 'Unknown') return 'failed';
  return 'stopped';
}
