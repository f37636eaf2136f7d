import { ClusterLock } from '../state/lock.ts';
import { connect } from './access.ts';
import { contextName, ensureContext } from './docker-context.ts';
import { forwardPaths, forwarderAnswers } from './forwarder.ts';
import { withCluster, type ClusterFlags } from './open-cluster.ts';

/**
 * The shell lines of `swarmup env` (for `eval "$(swarmup env)"`). The docker CLI takes DOCKER_HOST over
 * DOCKER_CONTEXT, so a DOCKER_HOST of the caller is unset (and said so on stderr). Pure.
 */
export function envLines(
  cluster: string,
  opts: { unset?: boolean; dockerHostSet?: boolean; socket?: string; node?: string },
): string[] {
  if (opts.unset) return ['unset DOCKER_CONTEXT'];
  return [
    `export DOCKER_CONTEXT=${contextName(cluster)}`,
    ...(opts.dockerHostSet ? ['unset DOCKER_HOST'] : []),
    `# swarmup cluster ${cluster}: the docker CLI reaches unix://${opts.socket ?? '?'}` +
      `${opts.node ? `, forwarded by ssh to ${opts.node}` : ''}; undo: eval "$(swarmup env --unset)"`,
  ];
}

export async function envCommand(flags: ClusterFlags & { unset?: boolean }): Promise<number> {
  if (flags.unset) {
    process.stdout.write(envLines('', { unset: true }).join('\n') + '\n');
    return 0;
  }
  return withCluster(flags, async (ctx) => {
    const { socket } = forwardPaths(ctx.state.dir);
    // The forwarder, its ssh_config and the docker context are what up, down and recover write and remove too:
    // env takes the cluster's lock while it reads and writes them. It holds it only that long (a second or two):
    // the forwarder it may start runs on in the background, on its own, and never blocks another command.
    const lock = ClusterLock.acquire(ctx.state.dir, ctx.cluster.name, 'env');
    let node: string | undefined;
    try {
      // A forwarder that answers is kept; one that is gone (a reboot, a manager replaced) is started again.
      node = (await forwarderAnswers(ctx.state.dir)) ? undefined : await connect(ctx);
      await ensureContext(ctx.cluster.name, ctx.state.dir, `unix://${socket}`);
    } finally {
      lock.release();
    }
    const dockerHostSet = !!process.env.DOCKER_HOST;
    if (dockerHostSet)
      process.stderr.write(
        `swarmup: DOCKER_HOST=${process.env.DOCKER_HOST} would win over DOCKER_CONTEXT: these lines unset it\n`,
      );
    process.stdout.write(
      envLines(ctx.cluster.name, { dockerHostSet, socket, ...(node ? { node } : {}) }).join('\n') + '\n',
    );
    return 0;
  });
}
