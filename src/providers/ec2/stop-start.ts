import { StartInstancesCommand, StopInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { errorMessage, StepError } from '../../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressSink } from '../provider.ts';
import { LIVE_STATES, nodeName } from './listing.ts';
import { describeInstances } from './resources.ts';
import { WAIT_MS, type Ec2Run } from './run.ts';
import { ownFilter } from './tags.ts';

/** Start the node's stopped instance; one still stopping is waited for first. */
export async function startInstance(run: Ec2Run, name: string, progress: ProgressSink): Promise<void> {
  const { api } = run;
  const deadline = Date.now() + WAIT_MS;
  let delay = run.opts.pollMs ?? 500;
  for (;;) {
    const mine = (await liveInstances(run, name)).filter((i) => nodeName(i) === name);
    if (mine.some((i) => i.State?.Name === 'running' || i.State?.Name === 'pending')) return;
    const stopped = mine.filter((i) => i.State?.Name === 'stopped').map((i) => i.InstanceId!);
    if (stopped.length > 0) {
      progress(`${name}: starting ${stopped.join(', ')}`);
      try {
        await api.ec2.send(new StartInstancesCommand({ InstanceIds: stopped }));
      } catch (err) {
        throw new StepError(name, 'start instance', errorMessage(err));
      }
      return;
    }
    if (mine.length === 0) throw new StepError(name, 'start instance', 'no stopped instance of that name');
    // Still stopping: it can be started once it has stopped.
    if (Date.now() > deadline) throw new StepError(name, 'start instance', 'still stopping');
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
  }
}

/** Stop the node's instance (its volume kept, its private address too) and wait until it is stopped. */
export async function stopInstance(run: Ec2Run, name: string, progress: ProgressSink): Promise<void> {
  const { api } = run;
  const deadline = Date.now() + WAIT_MS;
  let delay = run.opts.pollMs ?? 500;
  let asked = false;
  for (;;) {
    const mine = (await liveInstances(run, name)).filter((i) => nodeName(i) === name);
    const live = mine.filter((i) => i.State?.Name === 'running' || i.State?.Name === 'pending');
    if (live.length > 0 && !asked) {
      const ids = live.map((i) => i.InstanceId!);
      progress(`${name}: stopping ${ids.join(', ')}`);
      try {
        await api.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
      } catch (err) {
        throw new StepError(name, 'stop instance', errorMessage(err));
      }
      asked = true;
    }
    if (mine.every((i) => i.State?.Name === 'stopped')) return;
    if (Date.now() > deadline)
      throw new StepError(name, 'stop instance', `not stopped after ${WAIT_MS / 60_000} min`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
  }
}

/** The node's live instances: filtered by its Name in AWS (stopping 1000 nodes must not list 1000 instances each). */
function liveInstances(run: Ec2Run, name: string): Promise<Instance[]> {
  return describeInstances(run.api, [
    ...ownFilter(run.spec.name),
    { Name: 'tag:Name', Values: [name] },
    { Name: 'instance-state-name', Values: LIVE_STATES },
  ]);
}
