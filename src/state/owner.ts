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

/**
 * What every provider operation on a cluster's machines and shared resources selects by, besides the cluster's own
 * label/tag: this state home's owner id. With none made yet, nothing anywhere is this home's: a value no owner id can
 * take (OWNER_ID has no "(" or ")") is used, so a listing of it finds nothing. Read, never made (listing creates
 * nothing); the id is made by the first command that creates something (createLabels, tagsFor).
 */
export const NO_OWNER = '(none)';
export function ownerScope(): string {
  return readOwner() ?? NO_OWNER;
}

/** What `cleanup` was asked to select. */
export interface CleanupSelection {
  /** Only this cluster (this home's, or every owner's with anyOwner). */
  name?: string;
  /** Every owner's (and none's), not only this home's: orphans without name, the named cluster with it. */
  anyOwner?: boolean;
  /** This home's owner id; undefined when none was made yet (then nothing is this home's). */
  owner?: string;
  hasLocalState(cluster: string): boolean;
}

/**
 * Whether `cleanup` deletes one cluster's resources of one owner (`owner` undefined: no owner label, made by an
 * older swarmup). Only this home's owner's, unless `--any-owner`: with `--name`, that cluster (local state or not);
 * without, an orphan (no local state here). Resources without an owner label are never this home's: only
 * `--any-owner` selects them.
 */
export function selectedForCleanup(
  sel: CleanupSelection,
  cluster: string,
  owner: string | undefined,
): boolean {
  const ownersOk = !!sel.anyOwner || (owner !== undefined && owner === sel.owner);
  if (sel.name !== undefined) return cluster === sel.name && ownersOk;
  return !sel.hasLocalState(cluster) && ownersOk;
}

/** Where a group of resources a removal found or deleted lives, and whose it is. */
export interface ResourceGroup {
  provider: string;
  /** EC2: the region. */
  region?: string;
  /** docker: the engine's endpoint. */
  endpoint?: string;
  /** Its owner label/tag; undefined: none (an older swarmup). */
  owner?: string;
}

/** The parts of a cluster's state record that say where it was made. */
export interface RecordWhere {
  provider: string;
  region?: string;
  endpoint?: string;
}

/**
 * Whether a group of resources is the one this state home's record of the cluster describes, so that deleting it
 * may take the record (its only SSH key, its unlock key) with it: the same provider, the same region (EC2) or
 * engine (docker, when recorded), and made by this home (its owner id). Anything else (another provider's or
 * region's namesake, another home's, an unlabelled one of an older swarmup) leaves the record alone. Pure.
 */
export function recordDescribes(
  record: RecordWhere | undefined,
  group: ResourceGroup,
  homeOwner: string | undefined,
): { ok: true } | { ok: false; why: string } {
  if (!record) return { ok: false, why: 'no cluster of that name is recorded here' };
  if (record.provider !== group.provider)
    return { ok: false, why: `the record is of provider ${record.provider}, not ${group.provider}` };
  if (group.provider === 'ec2' && record.region !== group.region)
    return {
      ok: false,
      why: `the record is of region ${record.region ?? '(none recorded)'}, not ${group.region ?? '(unknown)'}`,
    };
  if (record.endpoint !== undefined && group.endpoint !== undefined && record.endpoint !== group.endpoint)
    return { ok: false, why: `the record is of the engine at ${record.endpoint}, not ${group.endpoint}` };
  if (group.owner === undefined)
    return { ok: false, why: 'the resources carry no owner (made by an older swarmup)' };
  if (group.owner !== homeOwner)
    return { ok: false, why: `the resources are of owner ${group.owner}, not this home's` };
  return { ok: true };
}
