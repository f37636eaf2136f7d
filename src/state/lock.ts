import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.ts';

/** Who holds a cluster's lock: written into the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

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
 * One command at a time per cluster: `up`, `scale`, `down` and `recover` take the cluster's lock (a file created
 * exclusively in its state folder, naming the holder) and give it back when they end. A lock left by a process of
 * this machine that no longer runs is stale and taken over; one from another machine (a shared home) is not.
 */
export class ClusterLock {
  private constructor(
    private readonly file: string,
    readonly tookOver?: LockHolder,
  ) {}

  static acquire(dir: string, cluster: string, command: string): ClusterLock {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'lock');
    const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    let tookOver: LockHolder | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, JSON.stringify(me) + '\n');
        closeSync(fd);
        return new ClusterLock(file, tookOver);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readHolder(file);
      if (holder && holder.host === me.host && !alive(holder.pid)) {
        rmSync(file, { force: true }); // stale: its process is gone
        tookOver = holder;
        continue;
      }
      const who = holder
        ? `swarmup ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
        : 'another swarmup (its lock file cannot be read)';
      throw new InputError(
        `cluster ${cluster} is busy: ${who} holds ${file}; wait for it to end` +
          (holder && holder.host !== me.host ? `, or remove that file if you know it has ended` : ''),
      );
    }
    throw new InputError(`cluster ${cluster}: could not take the lock ${file}`);
  }

  /** Give the lock back; a state folder that holds nothing else (a command that made nothing) goes too. */
  release(): void {
    const holder = readHolder(this.file);
    if (holder?.pid !== process.pid) return;
    rmSync(this.file, { force: true });
    try {
      rmdirSync(dirname(this.file));
    } catch {
      // not empty: the cluster's state stays
    }
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}
