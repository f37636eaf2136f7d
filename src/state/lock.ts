import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.ts';
import { createWith } from './create-file.ts';

/** Who holds a cluster's lock: written into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** How long a run waits for another one that is taking a stale lock over right now (milliseconds of work). */
const TAKEOVER_WAIT_MS = 5_000;
/** Takeover guards left by runs that died, one inside the other: past this many, a person looks. */
const MAX_GUARDS = 4;

/** Whether a process of this machine still runs (signal 0 tests without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One command at a time per cluster: the commands that change a cluster (`up`, `scale`, `down`, `recover`, `run`,
 * `env`, ...) take the cluster's lock (a file in its state folder, naming the holder) and give it back when they
 * end. A lock left by a process of this machine that no longer runs is stale and taken over; one from another
 * machine (a shared home) is not.
 *
 * Taking over a stale lock is the racy part: two runs that both read the same stale holder must not both win (an
 * earlier version removed the file and created it again, so the second run's removal took the first run's new
 * lock). So a stale file is replaced only under a guard, `<file>.takeover`, created exclusively (only one run at
 * a time can hold it), and only after reading the file again under that guard and finding the very content that
 * was judged stale (the raw text: pid, host, command and start time). A run that read the stale holder late and
 * gets the guard after the winner gave it back reads the winner's lock there and backs off.
 *
 * The guard itself can be left behind by a run that died while holding it (for the milliseconds it is held).
 * It is cleared by the same rule one level down: only the holder of `<guard>.takeover`, and only while the guard
 * still has the dead run's content, removes it; then everyone starts again from the top. Nothing but its own
 * holder or the holder of the guard below it ever removes a guard, and a live holder's guard never has a dead
 * run's content, so no run's guard is removed under it and the race is not opened again one level down.
 *
 * Files are created with their content in place (written beside, then hard-linked, which fails when the name
 * exists): a reader never sees a lock without its holder.
 */
export class ClusterLock {
  private constructor(
    private readonly file: string,
    private readonly content: string,
    readonly tookOver?: LockHolder,
  ) {}

  static acquire(dir: string, cluster: string, command: string): ClusterLock {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'lock');
    const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    const content = JSON.stringify(me) + '\n';
    const until = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (createWith(file, content)) return new ClusterLock(file, content);
      const seen = readText(file);
      if (seen === undefined && Date.now() <= until) continue; // given back meanwhile: try again
      const holder = parseHolder(seen ?? '');
      if (!holder || !staleHere(holder)) throw busy(cluster, file, holder);
      const outcome = replaceStale(file, seen!, content, 0);
      if (outcome === 'replaced') return new ClusterLock(file, content, holder);
      // 'changed': another run replaced it (or gave it back) meanwhile; 'wait': another run holds the guard now.
      if (Date.now() > until) throw busy(cluster, file, parseHolder(readText(file) ?? '') ?? holder);
      if (outcome === 'wait') pause(10);
    }
  }

  /** Give the lock back; a state folder that holds nothing else (a command that made nothing) goes too. */
  release(): void {
    if (readText(this.file) !== this.content) return;
    rmSync(this.file, { force: true });
    try {
      rmdirSync(dirname(this.file));
    } catch {
      // not empty: the cluster's state stays
    }
  }
}

type Outcome = 'replaced' | 'changed' | 'wait';

/**
 * Replace `target`, last read as `seen` (a holder that is gone), by `content` (undefined: remove it), unless another
 * run does: see ClusterLock for why this is safe. `depth` counts the guards of dead runs passed on the way.
 */
function replaceStale(target: string, seen: string, content: string | undefined, depth: number): Outcome {
  const guard = `${target}.takeover`;
  if (depth >= MAX_GUARDS)
    throw new InputError(
      `${guard}: left by swarmup runs that are gone, ${MAX_GUARDS} deep; remove ${dirname(target)}/lock.takeover* if no swarmup runs`,
    );
  const mine = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    command: 'takeover',
    since: new Date().toISOString(),
  } satisfies LockHolder);
  if (!createWith(guard, mine)) {
    const held = readText(guard);
    if (held === undefined) return 'changed'; // given back just now: look again
    const holder = parseHolder(held);
    if (!holder || !staleHere(holder)) return 'wait';
    // The guard's run is gone: clear its guard (under a guard of its own), then start again from the top.
    return replaceStale(guard, held, undefined, depth + 1) === 'wait' ? 'wait' : 'changed';
  }
  try {
    if (readText(target) !== seen) return 'changed';
    if (content === undefined) rmSync(target, { force: true });
    else {
      const tmp = tmpBeside(target);
      writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, target);
    }
    return 'replaced';
  } finally {
    rmSync(guard, { force: true });
  }
}

function tmpBeside(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** A holder whose process of this machine is gone. */
function staleHere(holder: LockHolder): boolean {
  return holder.host === hostname() && Number.isInteger(holder.pid) && !alive(holder.pid);
}

function busy(cluster: string, file: string, holder: LockHolder | undefined): InputError {
  const who = holder
    ? `swarmup ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
    : 'another swarmup (its lock file cannot be read)';
  return new InputError(
    `cluster ${cluster} is busy: ${who} holds ${file}; wait for it to end` +
      (holder && holder.host !== hostname() ? `, or remove that file if you know it has ended` : ''),
  );
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h?.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
