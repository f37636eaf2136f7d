import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { InputError } from '../../errors.ts';
import { selectedForCleanup } from '../../state/owner.ts';
import { connectAws, type AwsApi } from './aws.ts';
import { byOwner, deleteClusterResources, listTagged, type ClusterResources } from './resources.ts';
import { anyOwnerFilter } from './tags.ts';

export interface CleanupOptions {
  region?: string;
  allRegions: boolean;
  profile?: string;
  /** Only this cluster; without it, every cluster that has no local state (orphans of failed or forgotten runs). */
  name?: string;
  /** Without name: the orphans of every owner, not only this state home's. */
  anyOwner?: boolean;
  /** This state home's owner id (undefined: none made yet, so no orphan is this home's). */
  owner?: string;
  dryRun: boolean;
}

export interface CleanupDeps {
  aws?: (region?: string) => Promise<AwsApi>;
  hasLocalState: (cluster: string) => boolean;
  /** Asked once, with the full list, before anything is deleted; false stops. */
  confirm: (found: Array<{ region: string; resources: ClusterResources }>) => Promise<boolean>;
  progress: (message: string) => void;
  pollMs?: number;
}

export interface CleanupResult {
  found: Array<{ region: string; resources: ClusterResources; selected: boolean }>;
  removed: string[];
}

/**
 * Find everything tagged swarmup:cluster (never an untagged resource, whatever its name), grouped by region,
 * cluster and owner (swarmup:owner), and delete the selected groups' resources: the named cluster whatever its
 * owner, else orphans of this state home's owner (of any owner with anyOwner).
 */
export async function cleanupEc2(opts: CleanupOptions, deps: CleanupDeps): Promise<CleanupResult> {
  const aws =
    deps.aws ??
    ((region?: string) =>
      connectAws({ ...(region ? { region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) }));
  if (opts.allRegions && opts.region) throw new InputError('--region and --all-regions: give one');
  const home = await aws(opts.region);
  let regions = [home.region];
  if (opts.allRegions) {
    const r = await home.ec2.send(new DescribeRegionsCommand({}));
    regions = (r.Regions ?? []).map((x) => x.RegionName!).sort();
  }
  const found: CleanupResult['found'] = [];
  await Promise.all(
    regions.map(async (region) => {
      const api = region === home.region ? home : await aws(region);
      // One entry per cluster and owner: two state homes may each have a cluster of the same name.
      for (const resources of [...(await listTagged(api, anyOwnerFilter(opts.name))).values()].flatMap(
        byOwner,
      )) {
        const selected = selectedForCleanup(
          { ...opts, hasLocalState: deps.hasLocalState },
          resources.cluster,
          resources.owner,
        );
        found.push({ region, resources, selected });
      }
    }),
  );
  found.sort(
    (a, b) =>
      a.region.localeCompare(b.region) ||
      a.resources.cluster.localeCompare(b.resources.cluster) ||
      (a.resources.owner ?? '').localeCompare(b.resources.owner ?? ''),
  );
  const selected = found.filter((f) => f.selected);
  const removed: string[] = [];
  if (opts.dryRun || selected.length === 0) return { found, removed };
  if (!(await deps.confirm(selected))) return { found, removed };
  for (const f of selected) {
    const api = f.region === home.region ? home : await aws(f.region);
    deps.progress(`${f.region}: removing cluster ${f.resources.cluster}`);
    const r = await deleteClusterResources(api, f.resources, {
      progress: deps.progress,
      ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
    });
    removed.push(...r.map((x) => `${f.region} ${f.resources.cluster}: ${x}`));
  }
  return { found, removed };
}

/** What deleteClusterResources removes, one line per kind, every id spelled out (what `down` asks about). */
export function removalLines(r: ClusterResources): string[] {
  return [
    r.instances.length > 0 &&
      `instances: ${r.instances.map((i) => (i.name ? `${i.id} (${i.name})` : i.id)).join(', ')}`,
    r.volumes.length > 0 && `volumes: ${r.volumes.map((v) => v.id).join(', ')}`,
    r.securityGroups.length > 0 &&
      `security group: ${r.securityGroups.map((g) => (g.name ? `${g.id} (${g.name})` : g.id)).join(', ')}`,
    r.keyPairs.length > 0 && `key pair: ${r.keyPairs.map((k) => k.name || k.id).join(', ')}`,
  ].filter((l): l is string => typeof l === 'string');
}

/** One cluster's tagged resources, in a line. */
export function summarize(r: ClusterResources): string {
  return [
    r.instances.length &&
      `${r.instances.length} instance${r.instances.length === 1 ? '' : 's'} (${r.instances.map((i) => i.id).join(', ')})`,
    r.securityGroups.length && `security group ${r.securityGroups.map((g) => g.id).join(', ')}`,
    r.keyPairs.length && `key pair ${r.keyPairs.map((k) => k.name).join(', ')}`,
    r.volumes.length && `${r.volumes.length} volume${r.volumes.length === 1 ? '' : 's'}`,
  ]
    .filter(Boolean)
    .join('; ');
}
