import { existsSync } from 'node:fs';
import { ExitCode, InputError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { redact } from '../redact.ts';
import { swarmupHome } from '../state/store.ts';
import { configToRead, FOUND_CONFIG_NOTE } from './options.ts';
import { openContext } from './session.ts';

/** The flags of the commands that use a cluster that exists (`env`, `ssh`). */
export interface ClusterFlags {
  name?: string;
  config?: string;
  inventory?: string;
}

/**
 * Open a cluster swarmup has made (its state is recorded), run `body`, close every connection; a failure is a
 * message on stderr and its exit code (2 for bad input, else 1). Nothing is created for a cluster that is not.
 */
export async function withCluster(
  flags: ClusterFlags,
  body: (ctx: PlaybookContext) => Promise<number>,
): Promise<number> {
  let ctx: PlaybookContext | undefined;
  try {
    const { config, found } = configToRead(flags.config ?? flags.inventory, existsSync);
    if (found) process.stderr.write(FOUND_CONFIG_NOTE);
    ctx = await openContext({
      ...(flags.name ? { name: flags.name } : {}),
      ...(config ? { config } : {}),
      silent: true,
    });
    if (!ctx.state.exists())
      throw new InputError(
        `no cluster "${ctx.cluster.name}" in ${swarmupHome()} (swarmup ls lists them; --name picks one)`,
      );
    return await body(ctx);
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    process.stderr.write(
      `swarmup: ${redact(e.message || String(e))
        .split('\n')
        .join('\nswarmup: ')}\n`,
    );
    return e.exitCode ?? ExitCode.stepFailed;
  } finally {
    await ctx?.pool.closeAll();
  }
}
