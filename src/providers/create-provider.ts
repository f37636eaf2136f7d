import type { ClusterSpec } from '../config/cluster.ts';
import type { StateStore } from '../state/store.ts';
import { DockerProvider } from './docker/docker-provider.ts';
import type { Ec2ProviderOptions } from './ec2/ec2-provider.ts';
import type { Provider } from './provider.ts';
import { SshProvider } from './ssh/ssh-provider.ts';

/** The provider for a cluster. The EC2 one (and the AWS SDK) is loaded only when asked for. */
export async function createProvider(
  spec: ClusterSpec,
  state: StateStore,
  ec2?: Ec2ProviderOptions,
): Promise<Provider> {
  switch (spec.provider) {
    case 'docker':
      return new DockerProvider(spec, state);
    case 'ssh':
      return new SshProvider(spec);
    case 'ec2': {
      const { Ec2Provider } = await import('./ec2/ec2-provider.ts');
      return new Ec2Provider(spec, state, ec2);
    }
    default:
      throw new Error(`provider ${spec.provider} is not implemented`);
  }
}
