import type { ClusterSpec } from '../config/cluster.ts';
import type { StateStore } from '../state/store.ts';
import { DockerProvider } from './docker/docker-provider.ts';
import type { Provider } from './provider.ts';
import { SshProvider } from './ssh/ssh-provider.ts';

export function createProvider(spec: ClusterSpec, state: StateStore): Provider {
  switch (spec.provider) {
    case 'docker':
      return new DockerProvider(spec, state);
    case 'ssh':
      return new SshProvider(spec);
    default:
      throw new Error(`provider ${spec.provider} is not implemented`);
  }
}
