import { CreateTagsCommand, RunInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { errorMessage, StepError } from '../../errors.ts';
import { Semaphore } from '../../transport/semaphore.ts';
import type { NodeWanted, ProgressSink } from '../provider.ts';
import { EVENTUAL_CODES, eventually } from './consistency.ts';
import { forgetInstances } from './host-keys.ts';
import { runInstancesInput } from './launch.ts';
import { adopt, batchToken, launchBatches, nameLaunched, type LaunchBatch } from './launch-batch.ts';
import type { LaunchContext } from './launch-context.ts';
import { chooseLife, launchToken } from './launch-token.ts';
import { isNamed, launchTokenOf, nodeName } from './listing.ts';
import { ZONE_CAPACITY_ERRORS, zonesToTry } from './placement.ts';
import { describeInstances } from './resources.ts';
import type { Ec2Run } from './run.ts';
import { LAUNCH_TAG, ownFilter, ROLE_TAG, tagValue } from './tags.ts';

/**
 * At most this many CreateTags calls (one per instance: each Name differs) at once: a 1000-node launch names its
 * instances at a pace AWS's mutating-call bucket takes, the SDK's adaptive retries absorbing any throttle (aws.ts).
 */
const NAMING_CONCURRENCY = 8;

/**
 * Launch these nodes (launch-batch.ts): read the cluster's instances once (every page), move each node whose
 * instance is gone to its next life (recorded before the launch), adopt the cluster's unnamed instances (a run
 * that stopped between launch and naming), then one RunInstances per zone and role, each instance named right
 * after. Returns the nodes that failed, each with its StepError; every other node's instance exists and is named.
 */
export async function launchNodes(
  run: Ec2Run,
  context: LaunchContext,
  wanted: NodeWanted[],
  nodes: NodeWanted[],
  progress: ProgressSink,
): Promise<Map<string, StepError>> {
  const { api, spec } = run;
  const failed = new Map<string, StepError>();
  const seen = await describeInstances(api, ownFilter(spec.name));
  const tokens = lifeTokens(run, context.generation, nodes, seen, progress);
  // A node launched anew has host keys of its own, pinned under its new instance's ID on its first connection;
  // a pin under the node's name (how swarmup pinned before) is its earlier instance's.
  for (const n of nodes) forgetInstances(run.state.knownHosts(), [], n.name);
  const naming = new Semaphore(NAMING_CONCURRENCY);
  const name = async (node: NodeWanted, id: string) => {
    await naming.acquire();
    try {
      // Right after RunInstances AWS may not know the instance yet (eventual consistency): retried for that only.
      await eventually(api.ec2, {
        codes: EVENTUAL_CODES.CreateTags,
        ...(run.opts.pollMs ? { initialDelayMs: run.opts.pollMs } : {}),
      }).send(
        new CreateTagsCommand({
          Resources: [id],
          Tags: [
            { Key: 'Name', Value: node.name },
            { Key: LAUNCH_TAG, Value: tokens.get(node.name)! },
          ],
        }),
      );
    } catch (err) {
      failed.set(node.name, new StepError(node.name, 'name instance', `${id}: ${errorMessage(err)}`));
    } finally {
      naming.release();
    }
  };

  const batches = launchBatches(nodes, wanted, context.zones);
  const zoneOf = new Map(batches.flatMap((b) => b.nodes.map((n) => [n.name, b.zone] as const)));
  const { adopted, left } = adopt(
    unnamed(seen),
    nodes.map((n) => ({ ...n, zone: zoneOf.get(n.name)! })),
  );
  if (adopted.length > 0)
    progress(
      `adopting ${adopted.length} instance${adopted.length === 1 ? '' : 's'} of the cluster launched without a Name ` +
        `(a run stopped before naming them): ${adopted.map((a) => `${a.id} as ${a.node.name}`).join(', ')}`,
    );
  await Promise.all(adopted.map((a) => name(a.node, a.id)));
  const launching = new Set(left.map((n) => n.name));
  await Promise.all(
    launchBatches(
      nodes.filter((n) => launching.has(n.name)),
      wanted,
      context.zones,
    ).map((batch) => launchBatch(run, context, batch, tokens, name, failed, progress)),
  );
  return failed;
}

/** The cluster's live instances that have no Name yet, with their role tag and zone. */
function unnamed(seen: Instance[]) {
  return seen
    .filter((i) => !isNamed(i) && ['pending', 'running'].includes(i.State?.Name ?? ''))
    .flatMap((i) => {
      const role = tagValue(i.Tags, ROLE_TAG);
      if (role !== 'manager' && role !== 'worker') return [];
      return [{ id: i.InstanceId!, role, zone: i.Placement?.AvailabilityZone ?? '' } as const];
    });
}

/**
 * The life token of each node (launch-token.ts), from one listing: a node whose current life's instance is seen
 * terminated or terminating moves on to its next life, recorded (in one write) before anything is launched.
 */
function lifeTokens(
  run: Ec2Run,
  generation: string,
  nodes: NodeWanted[],
  seen: Instance[],
  progress: ProgressSink,
): Map<string, string> {
  const { spec, state } = run;
  const recorded = state.read()?.lives ?? {};
  const moved: Record<string, number> = {};
  const tokens = new Map<string, string>();
  const byName = new Map<string, Instance[]>();
  for (const i of seen.filter(isNamed)) byName.set(nodeName(i), [...(byName.get(nodeName(i)) ?? []), i]);
  for (const n of nodes) {
    const tokenOf = (life: number) => launchToken(spec.name, generation, n.name, life);
    const was = recorded[n.name] ?? 0;
    const life = chooseLife(
      was,
      tokenOf,
      (byName.get(n.name) ?? []).map((i) => ({ clientToken: launchTokenOf(i), state: i.State?.Name })),
    );
    if (life !== was) {
      progress(`${n.name}: its instance is gone; launching its replacement`);
      moved[n.name] = life;
    }
    tokens.set(n.name, tokenOf(life));
  }
  if (Object.keys(moved).length > 0)
    // Read and written in one go (no await between).
    state.write({ name: spec.name, provider: 'ec2', lives: { ...state.read()?.lives, ...moved } });
  return tokens;
}

/** What a batch is called in messages: its node, or its count, role and first and last node. */
function label(nodes: NodeWanted[]): string {
  if (nodes.length === 1) return nodes[0]!.name;
  return `${nodes.length} ${nodes[0]!.role}s (${nodes[0]!.name} ... ${nodes.at(-1)!.name})`;
}

/**
 * One batch: launched in its zone, the nodes a launch could not take (no capacity now) in the next zone, each
 * attempt with its own token (AWS refuses one token with other parameters); each launched instance named.
 */
async function launchBatch(
  run: Ec2Run,
  context: LaunchContext,
  batch: LaunchBatch,
  tokens: Map<string, string>,
  name: (node: NodeWanted, id: string) => Promise<void>,
  failed: Map<string, StepError>,
  progress: ProgressSink,
): Promise<void> {
  const { api, spec, ec2 } = run;
  // Right after ImportKeyPair / CreateSecurityGroup AWS may not know the key pair or group yet (eventual
  // consistency): retried for those codes only (consistency.ts). Safe: RunInstances with the same ClientToken
  // is idempotent, so a retry never launches a second batch.
  const launcher = eventually(api.ec2, {
    codes: EVENTUAL_CODES.RunInstances,
    ...(run.opts.pollMs ? { initialDelayMs: run.opts.pollMs } : {}),
  });
  let left = batch.nodes;
  const tried: string[] = [];
  for (const [attempt, zone] of zonesToTry(batch.zone, context.zones).entries()) {
    const subnet = context.subnets.find((s) => s.zone === zone)!;
    progress(
      `${label(left)}: launching ${ec2.instanceType} in ${zone}` +
        (tried.length > 0 ? ` (${tried.join('; ')})` : '') +
        (subnet.askPublicIp ? ', with a public IPv4 address' : ''),
    );
    let launched: Instance[];
    try {
      const r = await launcher.send(
        new RunInstancesCommand(
          runInstancesInput({
            cluster: spec.name,
            role: batch.role,
            count: left.length,
            instanceType: ec2.instanceType,
            diskGiB: ec2.diskGiB,
            image: context.image,
            keyName: run.resourceName,
            securityGroupId: context.securityGroupId,
            subnet,
            token: batchToken(
              left.map((n) => tokens.get(n.name)!),
              attempt,
            ),
            ...(context.userData ? { userData: context.userData } : {}),
          }),
        ),
      );
      launched = r.Instances ?? [];
    } catch (err) {
      const code = (err as { name?: string }).name ?? '';
      // No capacity (or no such type) in this zone, now: another zone may take the nodes.
      if (!ZONE_CAPACITY_ERRORS.has(code)) {
        for (const n of left) failed.set(n.name, new StepError(n.name, 'launch instance', errorMessage(err)));
        return;
      }
      tried.push(`${zone}: ${code}`);
      continue;
    }
    const { named, left: rest } = nameLaunched(
      launched.map((i) => ({ id: i.InstanceId!, index: i.AmiLaunchIndex ?? 0 })),
      left,
    );
    await Promise.all(named.map((x) => name(x.node, x.id)));
    if (rest.length === 0) return;
    tried.push(`${zone}: ${named.length} of ${left.length} launched`);
    left = rest;
  }
  for (const n of left)
    failed.set(
      n.name,
      new StepError(
        n.name,
        'launch instance',
        `no zone could take a ${ec2.instanceType} now (${tried.join('; ')}); try again later or pass --instance-type`,
      ),
    );
}
