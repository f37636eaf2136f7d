import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import type { ProviderDescriptor } from '../descriptor.ts';
import { MULTIPASS_DEFAULTS, resolveMultipass } from './spec.ts';

/** VM settings; they override the config file's `multipass:` section. */
function multipassFlags(cmd: Command, all: boolean): void {
  if (!all) return;
  const d = MULTIPASS_DEFAULTS;
  cmd
    .option('--image <image>', `Multipass: image of each VM (default ${d.image})`)
    .option('--cpus <n>', `Multipass: CPUs of each VM (default ${d.cpus})`)
    .option('--memory <size>', `Multipass: memory of each VM, e.g. 2G (default ${d.memory})`)
    .option('--disk <size>', `Multipass: disk of each VM, e.g. 20G (default ${d.disk})`);
}

/** Local VMs made with Multipass (the `multipass` command on PATH). */
export const multipassDescriptor: ProviderDescriptor = {
  name: 'multipass',
  createsMachines: true,
  // `multipass launch` returns once the VM has booted: sshd answers soon after.
  sshRetryMs: 120_000,
  flags: multipassFlags,
  resolve: (file, flags, where) => ({ multipass: resolveMultipass(file, flags, where) }),
  async open(spec, state) {
    const { MultipassProvider } = await import('./multipass-provider.ts');
    return new MultipassProvider(spec, state);
  },
  async cleanup(req) {
    if (req.region || req.allRegions || req.profile)
      throw new InputError('--region, --all-regions and --profile are for --provider ec2');
    const { cleanupMultipass } = await import('./cleanup.ts');
    return cleanupMultipass(req);
  },
};
