// `image load`: images of the local engine into the nodes' engines.
import { Option, type Command } from 'commander';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { common, providerFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';

interface ImageLoadFlags extends CommonOptions {
  nodes?: string;
  role?: 'manager' | 'worker';
}

/** `image load IMAGE...`: copied over the cluster's SSH connections, nodes that hold the same image skipped. */
export function registerImage(program: Command, setExit: SetExit): void {
  const image = program.command('image').description("images in the nodes' engines");
  providerFlags(
    common(
      image
        .command('load')
        .argument('<image...>', 'images of the local Docker engine (a tag defaults to latest)')
        .description(
          "copy images from the local Docker engine into every node's engine (no registry), skipping nodes that hold the same image ID",
        ),
    )
      .option('--nodes <names>', 'only these nodes (comma-separated names)')
      .addOption(
        new Option('--role <role>', 'only the managers or only the workers').choices(['manager', 'worker']),
      ),
    false,
  ).action(async (given: string[], opts: ImageLoadFlags) => {
    const { imageRefs, parseNodeList } = await import('../../swarm/image-plan.ts');
    const input = inputOrExit(
      () => ({
        refs: imageRefs(given),
        selection: {
          ...(opts.nodes !== undefined ? { nodes: parseNodeList(opts.nodes) } : {}),
          ...(opts.role ? { role: opts.role } : {}),
        },
      }),
      opts,
      setExit,
    );
    if (input === null) return;
    const { refs, selection } = input;
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const rows = await (await import('../../cluster/image-load.ts')).loadImages(ctx, refs, selection);
          const nodes = (status: string) =>
            new Set(rows.filter((r) => r.status === status).map((r) => r.node)).size;
          return finish(
            ctx,
            started,
            undefined,
            `${refs.join(', ')}: loaded into ${nodes('loaded')} nodes, already present on ${nodes('present')}`,
          );
        },
        'image load',
      ),
    );
  });
}
