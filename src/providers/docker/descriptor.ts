import type { Command } from 'commander';
import { InputError } from '../../errors.ts';
import { selectedForCleanup } from '../../state/owner.ts';
import type { ProviderDescriptor } from '../descriptor.ts';
import type { ClusterState } from '../../state/store.ts';
import { describeEngine, howToChoose, type Engine } from './endpoint.ts';
import { DEFAULT_SUITE, ENGINE_SUITES, resolveDocker } from './spec.ts';

/** Which engine the node containers run; they override the config file's `docker:` section. */
function dockerFlags(cmd: Command, all: boolean): void {
  cmd.option(
    '--docker-context <name>',
    'docker: the docker CLI context of the engine the nodes run on (default: DOCKER_HOST, else the current context, else the default socket)',
  );
  if (!all) return;
  cmd
    .option(
      '--engine-suite <suite>',
      `docker: the Debian suite of the node image: ${ENGINE_SUITES.join(', ')} (default ${DEFAULT_SUITE})`,
    )
    .option('--node-image <image>', 'docker: an image of your own for the nodes (with sshd and dockerd)');
}

/** Node containers on the engine the docker CLI would use (DOCKER_HOST, else the current context, else the socket). */
export const dockerDescriptor: ProviderDescriptor = {
  name: 'docker',
  createsMachines: true,
  sshRetryMs: 30_000,
  flags: dockerFlags,
  resolve: (file, flags, where) => ({ docker: resolveDocker(file, flags, where) }),
  async open(spec, state) {
    const { DockerProvider } = await import('./docker-provider.ts');
    const { resolveEngine } = await import('./endpoint.ts');
    const engine = resolveEngine(spec.docker?.context);
    whereItWasMade(spec.name, state.read(), engine);
    return new DockerProvider(spec, state, undefined, 'root', engine);
  },
  async cleanup(req) {
    if (req.region || req.allRegions || req.profile)
      throw new InputError('--region, --all-regions and --profile are for --provider ec2');
    const Docker = (await import('dockerode')).default;
    const { byOwner, describeLabelled, listLabelled, removeLabelled } = await import('./cleanup.ts');
    const { anyOwnerFilter } = await import('./labels.ts');
    const { dockerodeOptions, resolveEngine } = await import('./endpoint.ts');
    const engine = resolveEngine(req.dockerContext);
    const docker = new Docker(dockerodeOptions(engine));
    // One entry per cluster and owner: two state homes may each have a cluster of the same name.
    const groups = [...(await listLabelled(docker, anyOwnerFilter(req.name))).values()].flatMap(byOwner);
    const entries = groups.map((g) => ({
      group: g,
      found: {
        where: 'local engine',
        endpoint: engine.host,
        cluster: g.cluster,
        summary: describeLabelled(g),
        ...(g.owner !== undefined ? { owner: g.owner } : {}),
        selected: selectedForCleanup(req, g.cluster, g.owner),
      },
    }));
    const found = entries.map((e) => e.found);
    const selected = entries.filter((e) => e.found.selected);
    const removed: string[] = [];
    if (!req.dryRun && selected.length > 0 && (await req.confirm(selected.map((e) => e.found)))) {
      for (const { group, found: f } of selected) {
        req.progress(`removing cluster ${f.cluster}`);
        const r = await removeLabelled(docker, group);
        removed.push(...r.map((x) => `${f.cluster}: ${x}`));
      }
    }
    return { found, removed };
  },
};

/**
 * A cluster is looked for on the engine it was made on: a run whose DOCKER_HOST, docker context or
 * --docker-context points at another engine is refused (a `down` there would find nothing), saying how to choose
 * the recorded one.
 */
function whereItWasMade(cluster: string, recorded: ClusterState | undefined, engine: Engine): void {
  if (!recorded?.endpoint || recorded.endpoint === engine.host) return;
  throw new InputError(
    `cluster ${cluster} was made on the Docker engine at ${recorded.endpoint}, but this run would use ` +
      `${describeEngine(engine)}: give ${howToChoose(recorded.endpoint, recorded.dockerContext)}`,
  );
}
