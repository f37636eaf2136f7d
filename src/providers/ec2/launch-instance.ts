import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { errorMessage, StepError } from '../../errors.ts';
import type { NodeWanted, ProgressSink } from '../provider.ts';
import { EVENTUAL_CODES, eventually } from './consistency.ts';
import { forgetInstances } from './host-keys.ts';
import { runInstancesInput, zoneAttemptToken } from './launch.ts';
import type { LaunchContext } from './launch-context.ts';
import { chooseLife, launchToken } from './launch-token.ts';
import { placeNodes, ZONE_CAPACITY_ERRORS, zonesToTry } from './placement.ts';
import { describeInstances } from './resources.ts';
import type { Ec2Run } from './run.ts';
import { ownFilter } from './tags.ts';

/**
 * Launch the node's instance in the zone of its slot (placed over the whole wanted list), another zone taking it
 * when that one has no capacity now. Each launch carries the idempotency token of the node's current life.
 */
export async function launchInstance(
  run: Ec2Run,
  context: LaunchContext,
  wanted: NodeWanted[],
  node: NodeWanted,
  progress: ProgressSink,
): Promise<void> {
  const { api, spec, ec2 } = run;
  // Placed over the whole wanted list: a replacement lands in the zone of its slot.
  const nodes = [...wanted];
  if (!nodes.some((n) => n.name === node.name)) nodes.push(node);
  const placed = placeNodes(nodes, context.zones).get(node.name)!;
  // A node launched anew has host keys of its own, pinned under its new instance's ID on its first connection;
  // a pin under the node's name (how swarmup pinned before) is its earlier instance's. The earlier instance's
  // own pin goes once AWS lists it terminated (reach).
  forgetInstances(run.state.knownHosts(), [], node.name);
  let token: string;
  try {
    token = await tokenFor(run, node.name, context.generation, progress);
  } catch (err) {
    throw new StepError(node.name, 'launch instance', errorMessage(err));
  }
  // Right after ImportKeyPair / CreateSecurityGroup AWS may not know the key pair or group yet (eventual
  // consistency): retried for those codes only (consistency.ts). Safe: RunInstances with the same ClientToken
  // is idempotent, so a retry never launches a second instance for this node.
  const launcher = eventually(api.ec2, {
    codes: EVENTUAL_CODES.RunInstances,
    ...(run.opts.pollMs ? { initialDelayMs: run.opts.pollMs } : {}),
  });
  const tried: string[] = [];
  for (const [attempt, zone] of zonesToTry(placed, context.zones).entries()) {
    const subnet = context.subnets.find((s) => s.zone === zone)!;
    progress(
      `${node.name}: launching ${ec2.instanceType} in ${zone}` +
        (tried.length > 0 ? ` (${tried.join('; ')})` : '') +
        (subnet.askPublicIp ? ', with a public IPv4 address' : ''),
    );
    try {
      await launcher.send(
        new RunInstancesCommand(
          runInstancesInput({
            cluster: spec.name,
            node,
            instanceType: ec2.instanceType,
            diskGiB: ec2.diskGiB,
            image: context.image,
            keyName: run.resourceName,
            securityGroupId: context.securityGroupId,
            subnet,
            token: zoneAttemptToken(token, attempt),
            ...(context.userData ? { userData: context.userData } : {}),
          }),
        ),
      );
      return;
    } catch (err) {
      const code = (err as { name?: string }).name ?? '';
      // No capacity (or no such type) in this zone, now: another zone may take the node.
      if (!ZONE_CAPACITY_ERRORS.has(code))
        throw new StepError(node.name, 'launch instance', errorMessage(err));
      tried.push(`${zone}: ${code}`);
    }
  }
  throw new StepError(
    node.name,
    'launch instance',
    `no zone could take a ${ec2.instanceType} now (${tried.join('; ')}); try again later or pass --instance-type`,
  );
}

/**
 * The launch token for the node's current life. The life moves on (and is recorded before the launch) when the
 * instance its token launched is seen terminated or terminating; a crash after the launch keeps it.
 */
async function tokenFor(
  run: Ec2Run,
  name: string,
  generation: string,
  progress: ProgressSink,
): Promise<string> {
  const { api, spec, state } = run;
  const seen = await describeInstances(api, [...ownFilter(spec.name), { Name: 'tag:Name', Values: [name] }]);
  const tokenOf = (life: number) => launchToken(spec.name, generation, name, life);
  const recorded = state.read()?.lives?.[name] ?? 0;
  const life = chooseLife(
    recorded,
    tokenOf,
    seen.map((i) => ({ clientToken: i.ClientToken, state: i.State?.Name })),
  );
  if (life !== recorded) {
    progress(`${name}: its instance is gone; launching its replacement`);
    // Read and written in one go (no await between): parallel creates each add their own node.
    state.write({
      name: spec.name,
      provider: 'ec2',
      lives: { ...state.read()?.lives, [name]: life },
    });
  }
  return tokenOf(life);
}
