import type { ClusterSpec, Ec2Spec } from '../../config/cluster.ts';
import type { StateStore } from '../../state/store.ts';
import type { AwsApi } from './aws.ts';
import type { Ec2ProviderOptions } from './options.ts';

/** What the EC2 provider's steps (launch, stop and start, reach) share: the connection, the cluster, its state. */
export interface Ec2Run {
  api: AwsApi;
  spec: ClusterSpec;
  ec2: Ec2Spec;
  state: StateStore;
  /** The name of the cluster's key pair and security group. */
  resourceName: string;
  opts: Ec2ProviderOptions;
}

/** How long `reach` waits for instances to run, and `start` for one to finish stopping. */
export const WAIT_MS = 10 * 60_000;
