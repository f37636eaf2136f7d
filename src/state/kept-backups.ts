import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Backups outlive their cluster: `down` moves a cluster's `backups/` out of its state folder to
 * `$SWARMUP_HOME/_backups/<cluster>/<time of the down>/` (folders 0700, archives 0600) rather than deleting them
 * with it (`down --delete-backups` deletes them). "_" is outside a cluster name's alphabet, so no cluster's state
 * folder can be that folder. Each down gets a folder of its own, made by the move itself, so the backups of a
 * later cluster of the same name never land on (or replace) an earlier one's.
 */
export const KEPT_BACKUPS = '_backups';

/** One down's kept backups, as `swarmup ls` lists them. */
export interface KeptBackups {
  cluster: string;
  /** When down removed the cluster (from the folder's name), or null for a folder named otherwise. */
  removedAt: string | null;
  dir: string;
  files: Array<{ file: string; bytes: number; createdAt: string }>;
}

/** The folder name of the backups one down keeps: its time, sortable, no ":"; "-2", "-3"... when taken. Pure. */
export function keptFolderName(now: Date, attempt: number): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '');
  return attempt <= 1 ? stamp : `${stamp}-${attempt}`;
}

/** The time a kept folder's name says (null when it says none). Pure. */
export function removedAtOf(folder: string): string | null {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d)(\d\d)(\d\d)Z(?:-\d+)?$/.exec(folder);
  if (!m) return null;
  const at = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** The archives in a backups folder (regular files), by name. */
export function backupFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name !== KEPT_UNLOCK_KEY)
    .map((d) => d.name)
    .sort();
}

/**
 * The autolock unlock key kept beside a removed cluster's archives (0600): archives never hold it, and without it an
 * autolocked archive cannot be opened once the state folder (its `unlock-key`) is gone.
 */
export const KEPT_UNLOCK_KEY = 'unlock-key';

/**
 * Move the folder `from` (a cluster's `backups/`) to a new folder under `<home>/_backups/<cluster>/` and return
 * it; undefined when it holds no archive. rename(2) never replaces a folder that holds anything, so an existing
 * kept folder of the same name is skipped for the next name, never written into. `unlockKey`: the cluster's unlock
 * key file, copied in beside the archives (KEPT_UNLOCK_KEY) when it exists.
 */
export function keepBackups(
  from: string,
  home: string,
  cluster: string,
  now = new Date(),
  unlockKey?: string,
): string | undefined {
  if (backupFiles(from).length === 0) return undefined;
  const root = join(home, KEPT_BACKUPS);
  const parent = join(root, cluster);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  chmodSync(parent, 0o700);
  for (let attempt = 1; ; attempt++) {
    const to = join(parent, keptFolderName(now, attempt));
    // An empty folder of that name (nothing in it to lose) is the only thing rename replaces.
    try {
      renameSync(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && attempt < 1000) continue;
      throw new Error(`cannot keep the backups of ${cluster}: moving ${from} to ${to}: ${code ?? err}`);
    }
    chmodSync(to, 0o700);
    for (const f of backupFiles(to)) chmodSync(join(to, f), 0o600);
    if (unlockKey && existsSync(unlockKey)) {
      copyFileSync(unlockKey, join(to, KEPT_UNLOCK_KEY), constants.COPYFILE_EXCL);
      chmodSync(join(to, KEPT_UNLOCK_KEY), 0o600);
    }
    return to;
  }
}

/** Every down's kept backups under `<home>/_backups`, by cluster, then oldest first. */
export function listKeptBackups(home: string): KeptBackups[] {
  const root = join(home, KEPT_BACKUPS);
  const dirs = (path: string) =>
    existsSync(path)
      ? readdirSync(path, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort()
      : [];
  return dirs(root).flatMap((cluster) =>
    dirs(join(root, cluster)).flatMap((folder) => {
      const dir = join(root, cluster, folder);
      const files = backupFiles(dir).map((name) => {
        const st = statSync(join(dir, name));
        return { file: join(dir, name), bytes: st.size, createdAt: st.mtime.toISOString() };
      });
      return files.length ? [{ cluster, removedAt: removedAtOf(folder), dir, files }] : [];
    }),
  );
}
