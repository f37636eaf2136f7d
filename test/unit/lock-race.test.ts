import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempHome } from '../support/cli.ts';

const LOCK = resolve(import.meta.dirname, '../../src/state/lock.ts');
const RACERS = 8;
const TRIALS = 40;
/** Time between two trials: every racer starts trial k at the same moment, go + k * STRIDE_MS. */
const STRIDE_MS = 60;

/**
 * One racer: a real Node process that tries each trial's lock at its appointed moment and keeps what it won (a
 * winner that gave its lock back would let a later one win fairly). It writes "<trial> won|busy|error ..." lines.
 */
const racer = `
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { ClusterLock } = await import(${JSON.stringify(LOCK)});
  const [home, trials, stride] = process.argv.slice(1);
  writeFileSync(join(home, 'ready-' + process.pid), '');
  const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  while (!existsSync(join(home, 'go'))) pause(5);
  const go = Number(readFileSync(join(home, 'go'), 'utf8'));
  const out = [];
  const held = [];
  for (let k = 0; k < Number(trials); k++) {
    const at = go + k * Number(stride);
    if (at - Date.now() > 3) pause(at - Date.now() - 3);
    while (Date.now() < at);
    try {
      held.push(ClusterLock.acquire(join(home, 't' + k), 'race', 'up'));
      out.push(k + ' won');
    } catch (err) {
      out.push(k + (/is busy/.test(err.message) ? ' busy' : ' error ' + err.message.replace(/\\n/g, ' ')));
    }
  }
  // Alive until every racer is done: a winner that ended would leave a stale lock, fairly taken over by a late one.
  writeFileSync(join(home, 'done-' + process.pid), out.join('\\n') + '\\n');
  while (!existsSync(join(home, 'end'))) pause(10);
`;

describe('cluster lock: a stale lock taken over by exactly one run', () => {
  it(`${RACERS} processes racing for a lock (and a takeover guard) left by a dead process: one wins, every time (${TRIALS} trials)`, async () => {
    const home = tempHome();
    const gone = Number((await execa('node', ['-e', 'process.stdout.write(String(process.pid))'])).stdout);
    const stale = { pid: gone, host: hostname(), command: 'up', since: '2026-01-01T00:00:00.000Z' };
    for (let k = 0; k < TRIALS; k++) {
      mkdirSync(join(home, `t${k}`), { recursive: true });
      writeFileSync(join(home, `t${k}`, 'lock'), JSON.stringify(stale) + '\n');
      // Every other trial, the guard of a takeover is left too, by a run that died while it held it.
      if (k % 2 === 1)
        writeFileSync(
          join(home, `t${k}`, 'lock.takeover'),
          JSON.stringify({ ...stale, command: 'takeover' }),
        );
    }
    const racers = Array.from({ length: RACERS }, () =>
      execa(
        'node',
        ['--import', 'tsx', '--input-type=module', '-e', racer, home, String(TRIALS), String(STRIDE_MS)],
        { reject: false, timeout: 60_000 },
      ),
    );
    // Everyone loaded first, then one start time for all (the racers' start-up is slower than a trial).
    const readyBy = Date.now() + 30_000;
    const ready = () =>
      Array.from({ length: RACERS }).every((_, i) => existsSync(join(home, `ready-${racers[i]!.pid}`)));
    while (!ready()) {
      if (Date.now() > readyBy) throw new Error(`the ${RACERS} racers were not all started within 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    writeFileSync(join(home, 'go'), String(Date.now() + 300));
    const done = (i: number) => join(home, `done-${racers[i]!.pid}`);
    while (!Array.from({ length: RACERS }).every((_, i) => existsSync(done(i)))) {
      if (racers.some((r) => r.exitCode !== null)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    writeFileSync(join(home, 'end'), '');
    const results = await Promise.all(racers);
    const lines = results.flatMap((r, i) => {
      if (r.exitCode !== 0) throw new Error(`a racer failed (exit ${r.exitCode}): ${r.stderr}`);
      return readFileSync(done(i), 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ pid: racers[i]!.pid!, line: l }));
    });
    expect(lines.filter((l) => l.line.includes('error'))).toEqual([]);
    const winners = (k: number) => lines.filter((l) => l.line === `${k} won`).map((l) => l.pid);
    const wrong = Array.from({ length: TRIALS }, (_, k) => ({ k, winners: winners(k) })).filter(
      (t) => t.winners.length !== 1,
    );
    expect(wrong, 'trials with other than exactly one winner').toEqual([]);
    // The lock names its one winner, and nothing of the takeover is left beside it.
    for (let k = 0; k < TRIALS; k++) {
      const holder = JSON.parse(readFileSync(join(home, `t${k}`, 'lock'), 'utf8')) as { pid: number };
      expect(holder.pid).toBe(winners(k)[0]);
      expect(readdirSync(join(home, `t${k}`))).toEqual(['lock']);
    }
  }, 60_000);
});
