import { selectedForCleanup } from '../../state/owner.ts';
import type { CleanupFound, CleanupRequest } from '../descriptor.ts';
import { multipassOk } from './cli.ts';
import { deleteArgs } from './commands.ts';
import { listVms, readMarker } from './multipass-provider.ts';
import { clusterInName } from './ownership.ts';

interface Group {
  cluster: string;
  owner: string;
  vms: string[];
}

/**
 * `cleanup --provider multipass`: the running VMs named as swarmup names them whose marker (read back with
 * `multipass exec`) says swarmup made them for that cluster and node, grouped by cluster and owner; the selected
 * groups deleted and purged. A VM without a marker is never touched, whatever its name; a stopped one cannot be
 * checked and is reported.
 */
export async function cleanupMultipass(
  req: CleanupRequest,
): Promise<{ found: CleanupFound[]; removed: string[] }> {
  const vms = (await listVms()).filter((v) => {
    const c = clusterInName(v.name);
    return c !== undefined && (req.name === undefined || c === req.name);
  });
  const groups = new Map<string, Group>();
  for (const vm of vms) {
    if (vm.state !== 'Running') {
      if (vm.state !== 'Deleted')
        req.progress(
          `${vm.name}: ${vm.state}, so its swarmup marker cannot be read: not checked (start it to include it)`,
        );
      continue;
    }
    const marker = await readMarker(vm.name);
    if (!marker || marker.node !== vm.name || (req.name !== undefined && marker.cluster !== req.name))
      continue;
    const key = `${marker.cluster}\n${marker.owner}`;
    if (!groups.has(key)) groups.set(key, { cluster: marker.cluster, owner: marker.owner, vms: [] });
    groups.get(key)!.vms.push(vm.name);
  }
  const entries = [...groups.values()]
    .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.owner.localeCompare(b.owner))
    .map((g) => ({
      group: g,
      found: {
        where: 'multipass',
        cluster: g.cluster,
        summary: `${g.vms.length} VM${g.vms.length === 1 ? '' : 's'} (${g.vms.join(', ')})`,
        owner: g.owner,
        selected: selectedForCleanup(req, g.cluster, g.owner),
      },
    }));
  const found = entries.map((e) => e.found);
  const selected = entries.filter((e) => e.found.selected);
  const removed: string[] = [];
  if (!req.dryRun && selected.length > 0 && (await req.confirm(selected.map((e) => e.found)))) {
    for (const { group } of selected) {
      req.progress(`removing cluster ${group.cluster}`);
      await multipassOk(group.cluster, 'delete VMs', deleteArgs(group.vms));
      removed.push(...group.vms.map((n) => `${group.cluster}: VM ${n}`));
    }
  }
  return { found, removed };
}
