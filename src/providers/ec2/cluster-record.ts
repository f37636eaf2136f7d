import { randomBytes } from 'node:crypto';
import type { ClusterSpec } from '../../config/cluster.ts';
import type { StateStore } from '../../state/store.ts';
import type { AwsApi } from './aws.ts';

/** What an EC2 cluster records about where and in which life it was made. */

/** This life of the cluster, and the region the SDK resolved (recorded, so down and status look there). */
export function generationOf(spec: ClusterSpec, state: StateStore, region: string): string {
  const current = state.read();
  if (current?.generation) {
    if (current.region !== region) state.write({ name: spec.name, provider: 'ec2', region });
    return current.generation;
  }
  const generation = randomBytes(6).toString('hex');
  state.write({
    name: spec.name,
    provider: 'ec2',
    managers: spec.managers,
    workers: spec.workers,
    generation,
    region,
  });
  return generation;
}

/** The AWS account the credentials belong to (STS GetCallerIdentity); unknown with a stand-in client. */
export async function accountOf(api: AwsApi): Promise<string | undefined> {
  if (!api.sts) return undefined;
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  return (await api.sts.send(new GetCallerIdentityCommand({}))).Account;
}
