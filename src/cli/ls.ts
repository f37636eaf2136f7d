import { columns } from '../table.ts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.ts';
import { redact } from '../redact.ts';
import { listKeptBackups, type KeptBackups } from '../state/kept-backups.ts';
import { swarmupHome, type ClusterState } from '../state/store.ts';
import type { Verification } from '../swarm/verify.ts';

/** One cluster as `swarmup ls --json` prints it (one object per line). */
export interface LsRow {
  cluster: string;
  provider: string;
  managers: number | null;
  workers: number | null;
  /** When the state folder's oldest file was written (the cluster's key, or its first record). */
  createdAt: string | null;
  updatedAt: string | null;
  /** `swarmup stop` stopped it (and no start or up has run since): when. */
  stoppedAt?: string;
  /** `--check` only: the cluster as status reads it now. */
  live?: { reachable: boolean; ok: boolean; ready: number; nodes: number; stopped?: boolean; error?: string };
}

/** A row from what is recorded. Pure. */
export function lsRow(dirName: string, state: Partial<ClusterState>, createdMs: number | undefined): LsRow {
  return {
    cluster: state.name ?? dirName,
    provider: state.provider ?? 'unknown',
    managers: state.managers ?? null,
    workers: state.workers ?? null,
    createdAt: createdMs !== undefined ? new Date(createdMs).toISOString() : null,
    updatedAt: state.updatedAt ?? null,
    ...(state.stoppedAt ? { stoppedAt: state.stoppedAt } : {}),
  };
}

/**
 * The backups one `down` kept of a cluster it removed, as `ls --json` prints them: a line of its own, after the
 * clusters' lines, with no `cluster` field (so a script reading clusters by that field skips it).
 */
export interface KeptRow {
  removedCluster: string;
  removedAt: string | null;
  backupsDir: string;
  backups: Array<{ file: string; bytes: number; createdAt: string }>;
}

/** A kept-backups line from what kept-backups.ts lists. Pure. */
export function keptRow(k: KeptBackups): KeptRow {
  return { removedCluster: k.cluster, removedAt: k.removedAt, backupsDir: k.dir, backups: k.files };
}

/** The human list of kept backups, after the clusters' table (nothing when there are none). Pure. */
export function renderKept(rows: KeptRow[]): string {
  if (rows.length === 0) return '';
  const head = ['REMOVED CLUSTER', 'REMOVED', 'BACKUPS', 'FOLDER'];
  const body = rows.map((r) => [
    r.removedCluster,
    r.removedAt ? r.removedAt.slice(0, 16).replace('T', ' ') : '-',
    String(r.backups.length),
    r.backupsDir,
  ]);
  const table = columns(head, body);
  return ['backups kept by down (restore: swarmup backup --restore FILE):', ...table].join('\n');
}

/** The live part of a row, from a status verification or its failure. Pure. */
export function liveOf(result: Verification | Error): NonNullable<LsRow['live']> {
  if (result instanceof Error)
    return { reachable: false, ok: false, ready: 0, nodes: 0, error: redact(errorMessage(result)) };
  const ready = result.nodes.filter((n) => n.state === 'ready').length;
  return {
    reachable: true,
    ok: result.ok,
    ready,
    nodes: result.nodes.length,
    ...(result.state === 'stopped' ? { stopped: true } : {}),
  };
}

function liveText(live: LsRow['live']): string {
  if (!live) return '';
  if (live.stopped) return 'stopped';
  if (!live.reachable) return `unreachable: ${live.error ?? ''}`;
  return `${live.ready}/${live.nodes} ready${live.ok ? '' : ', NOT verified'}`;
}

/** The human table. Pure. */
export function renderLs(rows: LsRow[], checked: boolean): string {
  if (rows.length === 0) return 'no clusters';
  const head = ['NAME', 'PROVIDER', 'MANAGERS', 'WORKERS', 'CREATED', 'STATE', ...(checked ? ['LIVE'] : [])];
  const body = rows.map((r) => [
    r.cluster,
    r.provider,
    r.managers === null ? '-' : String(r.managers),
    r.workers === null ? '-' : String(r.workers),
    r.createdAt ? r.createdAt.slice(0, 16).replace('T', ' ') : '-',
    r.stoppedAt ? 'stopped' : 'running',
    ...(checked ? [liveText(r.live)] : []),
  ]);
  return columns(head, body).join('\n');
}

/** Every cluster recorded under the state home, by name. */
export function recordedClusters(home = swarmupHome()): LsRow[] {
  if (!existsSync(home)) return [];
  return readdirSync(home, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(home, d.name, 'state.json')))
    .map((d) => {
      const dir = join(home, d.name);
      let state: Partial<ClusterState> = {};
      try {
        state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ClusterState;
      } catch {
        // an unreadable record still names a cluster
      }
      const times = readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs);
      return lsRow(d.name, state, times.length ? Math.min(...times) : undefined);
    })
    .sort((a, b) => a.cluster.localeCompare(b.cluster));
}

/** Status of one cluster, read as `swarmup status` does, within `deadlineMs`. */
async function check(cluster: string, deadlineMs: number): Promise<Verification | Error> {
  const [{ openContext }, { default: status }] = await Promise.all([
    import('./session.ts'),
    import('../../playbooks/status.ts'),
  ]);
  let timer: NodeJS.Timeout | undefined;
  const ctx = await openContext({ name: cluster, silent: true }).catch((e: Error) => e);
  if (ctx instanceof Error) return ctx;
  try {
    return await Promise.race([
      status.run(ctx),
      new Promise<Error>((r) => {
        timer = setTimeout(() => r(new Error(`no answer within ${deadlineMs / 1000} s`)), deadlineMs);
      }),
    ]);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
    await ctx.pool.closeAll();
  }
}

export async function lsCommand(opts: { check?: boolean; json?: boolean }): Promise<number> {
  const rows = recordedClusters();
  const kept = listKeptBackups(swarmupHome()).map(keptRow);
  if (opts.check) {
    const lives = await Promise.all(rows.map((r) => check(r.cluster, 30_000)));
    rows.forEach((r, i) => (r.live = liveOf(lives[i]!)));
  }
  if (opts.json) for (const r of [...rows, ...kept]) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    process.stdout.write(renderLs(rows, !!opts.check) + '\n');
    if (kept.length) process.stdout.write('\n' + renderKept(kept) + '\n');
  }
  return 0;
}
