import type { ProviderDescriptor } from '../descriptor.ts';

/** Machines the user already has, listed in the config file: nothing is created, so nothing is left to clean. */
export const sshDescriptor: ProviderDescriptor = {
  name: 'ssh',
  createsMachines: false,
  sshRetryMs: 0,
  async open(spec) {
    const { SshProvider } = await import('./ssh-provider.ts');
    return new SshProvider(spec);
  },
};
