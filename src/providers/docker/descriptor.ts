import { InputError } from '../../errors.ts';
import type { ProviderDescriptor } from '../descriptor.ts';

/** Node containers on the local engine (DOCKER_HOST honoured). */
export const dockerDescriptor: ProviderDescriptor = {
  name: 'docker',
  createsMachines: true,
  sshRetryMs: 30_000,
  async open(spec, state) {
    const { DockerProvider } = await import('./docker-provider.ts');
    return new DockerProvider(spec, state);
  },
  async cleanup(req) {
    if (req.region || req.allRegions || req.profile)
      throw new InputError('--region, --all-regions and --profile are for --provider ec2');
    const Docker = (await import('dockerode')).default;
    const { describeLabelled, listLabelled, removeLabelled } = await import('./cleanup.ts');
    const docker = new Docker();
    const groups = [...(await listLabelled(docker, req.name)).values()];
    const found = groups.map((g) => ({
      where: 'local engine',
      cluster: g.cluster,
      summary: describeLabelled(g),
      selected: req.name ? g.cluster === req.name : !req.hasLocalState(g.cluster),
    }));
    const selected = found.filter((f) => f.selected);
    const removed: string[] = [];
    if (!req.dryRun && selected.length > 0 && (await req.confirm(selected))) {
      for (const f of selected) {
        req.progress(`removing cluster ${f.cluster}`);
        const r = await removeLabelled(
          docker,
          groups.find((g) => g.cluster === f.cluster)!,
        );
        removed.push(...r.map((x) => `${f.cluster}: ${x}`));
      }
    }
    return { found, removed };
  },
};
