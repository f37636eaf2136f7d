import {
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteVolumeCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  paginateDescribeInstances,
  paginateDescribeVolumes,
  type Volume,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { errorMessage, StepError } from '../../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsApi } from './aws.ts';
import { retryEventual } from './consistency.ts';
import { LIVE_STATES } from './listing.ts';
import { CLUSTER_TAG, ownFilter, OWNER_TAG, tagValue } from './tags.ts';
import { groupByOwner } from '../owner-groups.ts';

/** Every resource of one cluster, found by its tag. */
export interface ClusterResources {
  cluster: string;
  /** Set on a group of one owner (see byOwner): its `swarmup:owner`, or undefined (made by an older swarmup). */
  owner?: string;
  instances: Array<{ id: string; name: string; state: string; owner?: string }>;
  securityGroups: Array<{ id: string; name: string; owner?: string }>;
  keyPairs: Array<{ id: string; name: string; owner?: string }>;
  volumes: Array<{ id: string; state: string; owner?: string }>;
}

const ownerOf = (tags: Array<{ Key?: string; Value?: string }> | undefined) => {
  const owner = tagValue(tags, OWNER_TAG);
  return owner ? { owner } : {};
};

/** One cluster's resources split by their `swarmup:owner` (two state homes may both have made a cluster "lab"). */
export function byOwner(r: ClusterResources): ClusterResources[] {
  return groupByOwner(r, ['instances', 'securityGroups', 'keyPairs', 'volumes']);
}

const GONE_VOLUME = ['deleting', 'deleted'];
const NOT_TERMINATED = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
const LIVE = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/**
 * AWS's largest DescribeInstances page (MaxResults 5-1000). AWS asks callers to page ("Pagination in the Amazon EC2
 * API"): an unpaged answer over many instances is slow and can time out. The emulator pages at its own size.
 */
export const PAGE_SIZE = 1000;

/**
 * The instances the filters select (always the cluster's tags, or ids of its instances), every page of them, read
 * with the SDK's own paginator.
 */
export async function describeInstances(
  api: AwsApi,
  filters: Array<{ Name: string; Values: string[] }>,
  opts: { sample?: boolean } = {},
): Promise<Instance[]> {
  const out: Instance[] = [];
  // The paginator wants the SDK's client class; swarmup's clients are (tests' stand-ins answer as one).
  const client = api.ec2 as EC2Client;
  const pageSize = opts.sample ? SAMPLE : PAGE_SIZE;
  for await (const page of paginateDescribeInstances({ client, pageSize }, { Filters: filters })) {
    for (const res of page.Reservations ?? []) out.push(...(res.Instances ?? []));
    if (opts.sample) break;
  }
  return out;
}

/** The smallest page AWS answers (MaxResults 5): what a sample reads, rather than 1000 instances and volumes. */
const SAMPLE = 5;

/** The volumes the filters select, every page (AWS asks for pagination here too), or a first page as a sample. */
async function describeVolumes(
  api: AwsApi,
  filters: Array<{ Name: string; Values: string[] }>,
  opts: { sample?: boolean } = {},
): Promise<Volume[]> {
  const out: Volume[] = [];
  const client = api.ec2 as EC2Client;
  const pageSize = opts.sample ? SAMPLE : PAGE_SIZE;
  for await (const page of paginateDescribeVolumes({ client, pageSize }, { Filters: filters })) {
    out.push(...(page.Volumes ?? []));
    if (opts.sample) break;
  }
  return out;
}

/** At most this many ids in one poll's filter: 1000 ids would make one long request each poll. */
const FILTER_VALUES = 200;
const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/**
 * This state home's resources of one cluster (ownFilter), or undefined when there are none. `sample`: at most a
 * page of instances and of volumes (the permission check needs one of each, not all 1000).
 */
export async function listOwn(
  api: AwsApi,
  cluster: string,
  opts: { sample?: boolean } = {},
): Promise<ClusterResources | undefined> {
  return (await listTagged(api, ownFilter(cluster), opts)).get(cluster);
}

/**
 * The resources the filter selects (ownFilter: one cluster of this home; anyOwnerFilter, for `cleanup`: every
 * owner's), grouped by cluster. Instances that are terminated and volumes being deleted are gone already.
 */
export async function listTagged(
  api: AwsApi,
  filters: Array<{ Name: string; Values: string[] }>,
  opts: { sample?: boolean } = {},
): Promise<Map<string, ClusterResources>> {
  const [instances, groups, keys, volumeList] = await Promise.all([
    describeInstances(api, [...filters, { Name: 'instance-state-name', Values: LIVE }], opts),
    api.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })),
    api.ec2.send(new DescribeKeyPairsCommand({ Filters: filters })),
    describeVolumes(api, filters, opts),
  ]);
  const volumes = { Volumes: volumeList };
  const byCluster = new Map<string, ClusterResources>();
  const of = (name: string | undefined) => {
    const c = name ?? '';
    if (!byCluster.has(c))
      byCluster.set(c, { cluster: c, instances: [], securityGroups: [], keyPairs: [], volumes: [] });
    return byCluster.get(c)!;
  };
  for (const i of instances) {
    of(tagValue(i.Tags, CLUSTER_TAG)).instances.push({
      id: i.InstanceId!,
      name: tagValue(i.Tags, 'Name') ?? '',
      state: i.State?.Name ?? '',
      ...ownerOf(i.Tags),
    });
  }
  for (const g of groups.SecurityGroups ?? [])
    of(tagValue(g.Tags, CLUSTER_TAG)).securityGroups.push({
      id: g.GroupId!,
      name: g.GroupName ?? '',
      ...ownerOf(g.Tags),
    });
  for (const k of keys.KeyPairs ?? [])
    of(tagValue(k.Tags, CLUSTER_TAG)).keyPairs.push({
      id: k.KeyPairId!,
      name: k.KeyName ?? '',
      ...ownerOf(k.Tags),
    });
  for (const v of (volumes.Volumes ?? []).filter((x) => !GONE_VOLUME.includes(x.State ?? '')))
    of(tagValue(v.Tags, CLUSTER_TAG)).volumes.push({
      id: v.VolumeId!,
      state: v.State ?? '',
      ...ownerOf(v.Tags),
    });
  return byCluster;
}

export interface DeleteOptions {
  progress: (message: string) => void;
  /** How long to keep retrying a security group still in use (ENIs of terminated instances detach late). */
  dependencyTimeoutMs?: number;
  /** First pause before retrying a resource still in use (then doubling, at most 30 s). */
  firstDelayMs?: number;
  pollMs?: number;
}

/**
 * Delete one cluster's resources in the order AWS allows: terminate instances and wait until they are gone,
 * then volumes left behind, the security group (retrying DependencyViolation with backoff), the key pair.
 */
export async function deleteClusterResources(
  api: AwsApi,
  r: ClusterResources,
  opts: DeleteOptions,
): Promise<string[]> {
  const removed: string[] = [];
  const pollMs = opts.pollMs ?? 2000;
  const live = r.instances.filter((i) => i.state !== 'terminated');
  if (live.length > 0) {
    opts.progress(`terminating ${live.map((i) => i.name || i.id).join(', ')}`);
    await terminateAndWait(
      api,
      live.map((i) => i.id),
      { pollMs },
    );
    removed.push(...live.map((i) => `instance ${i.name || i.id} (${i.id})`));
  }
  for (const v of r.volumes) {
    if (v.state !== 'available') continue; // root volumes go with their instance (DeleteOnTermination)
    await api.ec2.send(new DeleteVolumeCommand({ VolumeId: v.id }));
    removed.push(`volume ${v.id}`);
  }
  for (const g of r.securityGroups) {
    await withDependencyRetry(() => api.ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.id })), opts);
    removed.push(`security group ${g.name} (${g.id})`);
  }
  for (const k of r.keyPairs) {
    // By name: the emulator (moto) ignores KeyPairId here; AWS takes either.
    await api.ec2.send(new DeleteKeyPairCommand({ KeyName: k.name }));
    removed.push(`key pair ${k.name}`);
  }
  return removed;
}

/** Terminate instances and wait (bounded) until AWS says every one is terminated. */
export async function terminateAndWait(
  api: AwsApi,
  ids: string[],
  opts: { pollMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  if (ids.length === 0) return;
  // TerminateInstances takes at most 1000 ids a call; its resource bucket (1000, refilling 20 a second) the SDK's
  // retries wait for (aws.ts).
  for (const some of chunks(ids, 1000))
    await api.ec2.send(new TerminateInstancesCommand({ InstanceIds: some }));
  const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Only those not terminated yet are listed (the state filter): each poll reads what is left, not all of them.
    const left: Instance[] = [];
    for (const some of chunks(ids, FILTER_VALUES))
      left.push(
        ...(await describeInstances(api, [
          { Name: 'instance-id', Values: some },
          { Name: 'instance-state-name', Values: NOT_TERMINATED },
        ])),
      );
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `instances not terminated after ${Math.round(timeoutMs / 60_000)} min: ${left.map((i) => i.InstanceId).join(', ')}`,
      );
    await sleep(opts.pollMs ?? 2000);
  }
}

/** Retry while AWS says the resource is still in use, with exponential backoff, for several minutes. */
export function withDependencyRetry<T>(
  fn: () => Promise<T>,
  opts: Pick<DeleteOptions, 'progress' | 'dependencyTimeoutMs'> & { firstDelayMs?: number },
): Promise<T> {
  return retryEventual(fn, {
    codes: ['DependencyViolation'],
    deadlineMs: opts.dependencyTimeoutMs ?? 5 * 60_000,
    initialDelayMs: opts.firstDelayMs ?? 2000,
    backoff: 2,
    maxDelayMs: 30_000,
    lastPause: 'none',
    atDeadline: 'as-is',
    onRetry: (err, delayMs) =>
      opts.progress(
        `still in use (${errorMessage(err).split('\n')[0]}); retrying in ${Math.round(delayMs / 1000)} s`,
      ),
  });
}

/** Terminate one node's instances of the cluster (and wait), then delete its disks left behind. */
export async function removeNode(
  api: AwsApi,
  cluster: string,
  name: string,
  progress: (message: string) => void,
  pollMs?: number,
): Promise<void> {
  const byName = [...ownFilter(cluster), { Name: 'tag:Name', Values: [name] }];
  const ids = (
    await describeInstances(api, [
      ...byName,
      { Name: 'instance-state-name', Values: [...LIVE_STATES, 'shutting-down'] },
    ])
  ).map((i) => i.InstanceId!);
  if (ids.length > 0) {
    progress(`${name}: terminating ${ids.join(', ')}`);
    try {
      await terminateAndWait(api, ids, pollMs ? { pollMs } : {});
    } catch (err) {
      throw new StepError(name, 'terminate instance', errorMessage(err));
    }
  }
  // Its disks left behind (root volumes go with the instance).
  const volumes = await api.ec2.send(new DescribeVolumesCommand({ Filters: byName }));
  for (const v of volumes.Volumes ?? []) {
    if (v.State !== 'available') continue;
    progress(`${name}: deleting volume ${v.VolumeId!}`);
    await api.ec2.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId! }));
  }
}
