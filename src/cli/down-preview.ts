import type { z } from 'zod';
import type { removalSchema } from '../playbook/event-schema.ts';
import { join, sep } from 'node:path';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { KEPT_BACKUPS } from '../state/kept-backups.ts';
import { swarmupHome } from '../state/store.ts';

/** What `down` is about to remove, as asked before the question on a terminal (`down --dry-run` prints it). */
export type RemovalPreview = Omit<z.infer<typeof removalSchema>, 'event'>;

/** The preview as printed before `[y/N]`. Pure. */
export function renderRemoval(p: RemovalPreview): string {
  const lines: string[] = [];
  if (p.createsMachines) {
    lines.push(`down removes cluster "${p.cluster}" from ${p.location}:`);
    if (p.resources.length === 0) lines.push('  nothing of it found there');
    for (const r of p.resources) lines.push(`  ${r}`);
  } else {
    lines.push(
      `down makes the hosts of cluster "${p.cluster}" that swarmup joined leave the swarm (the machines stay):`,
    );
    lines.push(
      `  ${p.leaving.length ? `leave: ${p.leaving.join(', ')}` : 'no host is recorded as joined by swarmup'}`,
    );
  }
  if (p.context) lines.push(`  docker context: ${p.context}`);
  if (p.stateDir) lines.push(`  state: ${p.stateDir} (the cluster's key and records)`);
  if (p.backups) {
    const what = `${p.backups.files} archive${p.backups.files === 1 ? '' : 's'} in ${p.backups.dir}`;
    lines.push(
      p.backups.keptUnder
        ? `  backups: ${what}: kept, moved to ${p.backups.keptUnder}`
        : `  backups: ${what}: deleted with it (--delete-backups)`,
    );
  }
  return lines.join('\n');
}

/** Read what `down` would remove, changing nothing: the provider's listing, the recorded joins, the context. */
export async function removalPreview(ctx: PlaybookContext): Promise<RemovalPreview> {
  const { contextDescriptionOf, contextName, dockerCliPresent, ownership } =
    await import('./docker-context.ts');
  const state = ctx.state.read();
  const name = contextName(ctx.cluster.name);
  const [resources, location, context] = await Promise.all([
    ctx.provider.createsMachines ? (ctx.provider.removable?.() ?? Promise.resolve([])) : Promise.resolve([]),
    ctx.provider.location(),
    (async () =>
      (await dockerCliPresent()) &&
      ownership(await contextDescriptionOf(name), ctx.cluster.name, ctx.state.dir) === 'ours')(),
  ]);
  const files = ctx.state.backupFiles().length;
  const before = new Set(state?.preexisting ?? []);
  const leaving = Object.entries(state?.nodeIds ?? {})
    .filter(([, id]) => id && !before.has(id))
    .map(([host]) => host);
  return {
    cluster: ctx.cluster.name,
    location,
    createsMachines: ctx.provider.createsMachines,
    resources,
    leaving,
    ...(context ? { context: name } : {}),
    ...(ctx.state.exists() ? { stateDir: ctx.state.dir } : {}),
    ...(files > 0
      ? {
          backups: {
            files,
            dir: join(ctx.state.dir, 'backups'),
            ...(ctx.options.deleteBackups
              ? {}
              : { keptUnder: join(swarmupHome(), KEPT_BACKUPS, ctx.cluster.name) + sep }),
          },
        }
      : {}),
  };
}
