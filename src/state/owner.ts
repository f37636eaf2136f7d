import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { swarmupHome } from './store.ts';

/**
 * The owner id of this state home (design.md): a random id in `$SWARMUP_HOME/owner`, carried as `swarmup.owner`
 * (docker labels) / `swarmup:owner` (EC2 tags) on everything swarmup creates from this home, so that `cleanup`
 * deletes only its own orphans. Made on first need by a command that creates something; read-only commands only
 * read it.
 */
const OWNER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function ownerPath(): string {
  return join(swarmupHome(), 'owner');
}

function parse(text: string, file: string): string {
  const id = text.trim();
  if (!OWNER_ID.test(id))
    throw new Error(
      `${file}: not an owner id (expected letters, digits, - or _); remove the file to make a new one`,
    );
  return id;
}

/** This home's owner id, or undefined when none was made yet; creates nothing. */
export function readOwner(): string | undefined {
  const file = ownerPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parse(text, file);
}

/** This home's owner id, made now (12 hex characters, file mode 0600) when there is none. */
export function ensureOwner(): string {
  const existing = readOwner();
  if (existing) return existing;
  const home = swarmupHome();
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = ownerPath();
  const id = randomBytes(6).toString('hex');
  try {
    // 'wx': of two runs making it at once, the first wins and the other reads the winner's id.
    writeFileSync(file, `${id}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return parse(readFileSync(file, 'utf8'), file);
    throw err;
  }
  chmodSync(file, 0o600);
  return id;
}

/** What `cleanup` was asked to select. */
export interface CleanupSelection {
  /** Only this cluster, whatever its owner. */
  name?: string;
  /** Orphans of every owner (and of none), not only this home's. */
  anyOwner?: boolean;
  /** This home's owner id; undefined when none was made yet (then no orphan is this home's). */
  owner?: string;
  hasLocalState(cluster: string): boolean;
}

/**
 * Whether `cleanup` deletes one cluster's resources of one owner (`owner` undefined: no owner label, made by an
 * older swarmup): the named cluster whatever its owner; else an orphan (no local state here) of this home's owner,
 * or of any owner with `--any-owner`.
 */
export function selectedForCleanup(
  sel: CleanupSelection,
  cluster: string,
  owner: string | undefined,
): boolean {
  if (sel.name !== undefined) return cluster === sel.name;
  if (sel.hasLocalState(cluster)) return false;
  return !!sel.anyOwner || (owner !== undefined && owner === sel.owner);
}
