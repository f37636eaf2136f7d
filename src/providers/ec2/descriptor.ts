import type { Command } from 'commander';
import type { ProviderDescriptor } from '../descriptor.ts';
import { resolveEc2 } from './spec.ts';

/** EC2 settings; they override the config file's `ec2:` section. */
function ec2Flags(cmd: Command, all: boolean): void {
  cmd
    .option('--region <region>', "EC2: AWS region (else AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    .option('--profile <name>', 'EC2: AWS profile')
    .option(
      '--bastion <[user@]host[:port]>',
      "EC2: reach the instances' private addresses through this jump host",
    );
  if (!all) return;
  cmd
    .option('--instance-type <type>', 'EC2: instance type (default t3.small)')
    .option('--ami <id>', 'EC2: image (default: Ubuntu 24.04 LTS amd64 from its SSM public parameter)')
    .option(
      '--ssh-cidr <cidrs>',
      "EC2: who may reach SSH, comma-separated (default: this machine's public address/32)",
    )
    .option('--ssh-key <file>', 'EC2: public key to import (default: a key pair made for the cluster)')
    .option('--subnets <ids>', "EC2: comma-separated subnet ids (default: the default VPC's)")
    .option(
      '--encrypted-overlay',
      'EC2: also allow ESP (IP protocol 50) between nodes, for encrypted overlay networks',
    )
    .option(
      '--allow-ssh-from-anywhere',
      'EC2: permit --ssh-cidr wider than one /16 (IPv4) or /48 (IPv6), e.g. 0.0.0.0/0 (refused otherwise)',
    );
}

/** AWS EC2 instances; the AWS SDK is loaded only when this provider is opened. */
export const ec2Descriptor: ProviderDescriptor = {
  name: 'ec2',
  createsMachines: true,
  // An instance boots for a minute or two before sshd answers.
  sshRetryMs: 300_000,
  flags: ec2Flags,
  resolve: (file, flags, where) => ({ ec2: resolveEc2(file, flags, where) }),
  async open(spec, state, options) {
    const { Ec2Provider } = await import('./ec2-provider.ts');
    return new Ec2Provider(spec, state, options.ec2);
  },
  async cleanup(req) {
    const { cleanupEc2, summarize } = await import('./cleanup.ts');
    const view = (f: { region: string; resources: Parameters<typeof summarize>[0] }, selected: boolean) => ({
      where: f.region,
      region: f.region,
      cluster: f.resources.cluster,
      summary: summarize(f.resources),
      ...(f.resources.owner !== undefined ? { owner: f.resources.owner } : {}),
      selected,
    });
    const result = await cleanupEc2(
      {
        ...(req.region ? { region: req.region } : {}),
        allRegions: !!req.allRegions,
        ...(req.profile ? { profile: req.profile } : {}),
        ...(req.name ? { name: req.name } : {}),
        ...(req.anyOwner ? { anyOwner: true } : {}),
        ...(req.owner ? { owner: req.owner } : {}),
        dryRun: req.dryRun,
      },
      {
        hasLocalState: req.hasLocalState,
        progress: req.progress,
        confirm: (selected) => req.confirm(selected.map((s) => view(s, true))),
      },
    );
    return { found: result.found.map((f) => view(f, f.selected)), removed: result.removed };
  },
};
