import type { Instance } from '@aws-sdk/client-ec2';
import { parseBastion } from '../../config/cluster.ts';
import { combineErrors, StepError } from '../../errors.ts';
import { hostPattern } from '../../transport/known-hosts.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { byRoleThenNumber } from '../node-names.ts';
import type { Machine, NodeWanted, ProgressSink } from '../provider.ts';
import { privateKeyPathFor } from './access.ts';
import type { AwsApi } from './aws.ts';
import { applyPinChanges, pinChanges, pinnedPatterns, type InstanceSeen } from './host-keys.ts';
import { imageLoginUser, loginUserFor } from './image.ts';
import { launchToken } from './launch-token.ts';
import { isNamed, nodeName, reachStatus } from './listing.ts';
import { describeInstances } from './resources.ts';
import { WAIT_MS, type Ec2Run } from './run.ts';
import { ownFilter, ROLE_TAG, tagValue } from './tags.ts';

/** Login user per image id, asked once per provider. */
export type LoginUsers = Map<string, Promise<string>>;

/**
 * SSH targets of the named instances (default: every running one), once they run and have their addresses:
 * polled sub-second at first (not 15-s waiters), bounded. An instance launched for a named node that is
 * terminated or terminating fails at once, with AWS's reason.
 */
export async function reachInstances(
  run: Ec2Run,
  wanted: NodeWanted[],
  users: LoginUsers,
  names: string[] | undefined,
  progress: ProgressSink,
): Promise<Machine[]> {
  const { api, spec } = run;
  const state = run.state.read();
  const tokenOf = (name: string) =>
    state?.generation ? launchToken(spec.name, state.generation, name, state.lives?.[name] ?? 0) : undefined;
  const deadline = Date.now() + WAIT_MS;
  let delay = run.opts.pollMs ?? 500;
  let reported = '';
  for (;;) {
    const instances = await describeInstances(api, ownFilter(spec.name));
    const present = names ?? [
      ...new Set(
        instances
          .filter((i) => isNamed(i) && i.State?.Name === 'running' && i.PrivateIpAddress)
          .map(nodeName),
      ),
    ];
    const status = reachStatus(present, instances, tokenOf);
    if (status.died.length > 0) {
      throw combineErrors(
        status.died.map(
          (d) =>
            new StepError(
              d.name,
              'wait for the instance to run',
              `instance ${d.id} is ${d.state}${d.reason ? `: ${d.reason}` : ''}`,
            ),
        ),
      );
    }
    if (status.waiting.length === 0) {
      const machines = await toMachines(run, wanted, users, status.ready);
      repin(run, instances, machines);
      return machines;
    }
    const line = status.waiting.map((w) => `${w.name} ${w.seen}`).join(', ');
    if (line !== reported) progress((reported = line));
    if (Date.now() > deadline)
      throw new StepError(status.waiting[0]!.name, 'wait for the instance to run', line);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
  }
}

/** Items in `wanted` order, then the others by role and number. */
export function inWantedOrder<T>(wanted: NodeWanted[], items: T[], node: (item: T) => NodeWanted): T[] {
  const order = new Map(wanted.map((n, i) => [n.name, i]));
  const rank = (n: NodeWanted) => order.get(n.name) ?? Number.MAX_SAFE_INTEGER;
  return [...items].sort((a, b) => rank(node(a)) - rank(node(b)) || byRoleThenNumber(node(a), node(b)));
}

async function toMachines(
  run: Ec2Run,
  wanted: NodeWanted[],
  users: LoginUsers,
  instances: Instance[],
): Promise<Machine[]> {
  const { ec2 } = run;
  const key = privateKeyPathFor(ec2, run.state);
  const asNode = (i: Instance): NodeWanted => ({
    name: nodeName(i),
    role: tagValue(i.Tags, ROLE_TAG) === 'manager' ? 'manager' : 'worker',
  });
  return Promise.all(
    inWantedOrder(wanted, instances, asNode).map(async (i) => {
      const n = asNode(i);
      const user = await loginUser(run, users, i.ImageId);
      const jump = ec2.bastion ? parseBastion(ec2.bastion, '--bastion', user, key) : undefined;
      const target = run.opts.sshTargetFor?.(n) ?? {
        // Through a bastion: the private address, from inside the VPC; else the public one.
        address: jump ? i.PrivateIpAddress! : (i.PublicIpAddress ?? i.PrivateIpAddress!),
        port: 22,
        advertiseAddress: i.PrivateIpAddress!,
      };
      return {
        name: n.name,
        ...target,
        user,
        ...(key ? { privateKey: key } : {}),
        role: n.role,
        ...(jump ? { jump } : {}),
        // Pinned by instance: a stopped and started instance gets another public address, a replaced node
        // another instance (with keys of its own), and EC2 gives addresses to other instances in turn.
        hostKeyAlias: i.InstanceId!,
      };
    }),
  );
}

/**
 * Host keys belong to instances (host-keys.ts): the pins of instances AWS lists as gone (or no longer lists) go,
 * pins by address go, and a pin under a node's name (how swarmup pinned before) moves to the node's instance when
 * it can only be that one's.
 */
function repin(run: Ec2Run, instances: Instance[], machines: Machine[]): void {
  const file = run.state.knownHosts();
  const pinned = pinnedPatterns(file);
  if (pinned.size === 0) return;
  const byId = new Map(machines.map((m) => [m.hostKeyAlias, m]));
  const seen = instances.map((i): InstanceSeen => {
    const m = byId.get(i.InstanceId);
    return {
      id: i.InstanceId!,
      node: nodeName(i),
      state: i.State?.Name ?? '',
      ...(m ? { target: hostPattern(m.address, m.port) } : {}),
    };
  });
  const bastions = new Set(
    machines.flatMap((m) => (m.jump ? [hostPattern(m.jump.address, m.jump.port)] : [])),
  );
  applyPinChanges(file, pinChanges(pinned, seen, bastions));
}

/** The login user: configured, else by the instance's image (an image gone from the region: the default). */
function loginUser(run: Ec2Run, users: LoginUsers, imageId: string | undefined): Promise<string> {
  const { ec2 } = run;
  const api: AwsApi = run.api;
  if (ec2.user) return Promise.resolve(ec2.user);
  if (!imageId) return Promise.resolve(loginUserFor(''));
  if (!users.has(imageId)) {
    users.set(
      imageId,
      imageLoginUser(api, ec2, imageId).catch(() => loginUserFor('')),
    );
  }
  return users.get(imageId)!;
}
