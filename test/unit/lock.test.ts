import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ClusterLock } from '../../src/state/lock.ts';
import { swarmup, tempHome } from '../support/cli.ts';

/** One changing command at a time per cluster, tried through the real binary against a lock this test holds. */
describe('cluster lock', () => {
  it(
    'a second up or down while one holds the lock is refused with exit 2, naming the holder; nothing is touched',
    { timeout: 60_000 },
    async () => {
      const home = tempHome();
      const lock = ClusterLock.acquire(join(home, 'busy'), 'busy', 'up');
      try {
        for (const args of [['up'], ['down', '--yes'], ['scale', '--workers', '3']]) {
          const r = await swarmup([...args, '--name', 'busy'], { SWARMUP_HOME: home });
          expect(r.code, r.stderr).toBe(2);
          expect(r.stderr).toContain(`cluster busy is busy: swarmup up (pid ${process.pid} on ${hostname()}`);
        }
      } finally {
        lock.release();
      }
      // Given back, and the state folder that held only the lock is gone too.
      expect(existsSync(join(home, 'busy'))).toBe(false);
    },
  );

  it("a stale lock (its process is gone) is taken over; another machine's lock is not", async () => {
    const home = tempHome();
    const dir = join(home, 'stale');
    const gone = await execa('node', ['-e', 'process.stdout.write(String(process.pid))']);
    const first = ClusterLock.acquire(dir, 'stale', 'down');
    first.release();
    const held = { pid: Number(gone.stdout), host: hostname(), command: 'up', since: '2026-01-01T00:00:00Z' };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), JSON.stringify(held));
    const lock = ClusterLock.acquire(dir, 'stale', 'up');
    expect(lock.tookOver).toMatchObject({ pid: held.pid, command: 'up' });
    lock.release();

    // A takeover guard left by a run that died while it held it is cleared too (its own rule: lock.ts).
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), JSON.stringify(held));
    writeFileSync(join(dir, 'lock.takeover'), JSON.stringify({ ...held, command: 'takeover' }));
    const again = ClusterLock.acquire(dir, 'stale', 'down');
    expect(again.tookOver).toMatchObject({ pid: held.pid });
    expect(readdirSync(dir)).toEqual(['lock']);
    again.release();

    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), JSON.stringify({ ...held, host: 'another-machine' }));
    expect(() => ClusterLock.acquire(dir, 'stale', 'up')).toThrow(
      /on another-machine.*holds .*lock; wait for it to end, or remove that file if you know it has ended/s,
    );
  });

  it('run (a playbook) and env are refused with exit 2 while a live process holds the lock, naming it', async () => {
    const home = tempHome();
    const dir = join(home, 'held');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({
        name: 'held',
        provider: 'docker',
        managers: 1,
        workers: 0,
        updatedAt: '2026-01-01T00:00:00Z',
      }),
    );
    // The holder: a real process of this machine that is still running.
    const sleeper = execa('node', ['-e', 'setTimeout(() => {}, 60_000)'], { reject: false });
    try {
      const held = { pid: sleeper.pid!, host: hostname(), command: 'up', since: '2026-01-01T00:00:00Z' };
      writeFileSync(join(dir, 'lock'), JSON.stringify(held) + '\n');
      const playbook = resolve(import.meta.dirname, '../fixtures/hostnames.playbook.ts');
      for (const args of [['run', playbook], ['env']]) {
        const r = await swarmup([...args, '--name', 'held'], { SWARMUP_HOME: home });
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(`cluster held is busy: swarmup up (pid ${sleeper.pid} on ${hostname()}`);
      }
      expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toEqual(held);
    } finally {
      sleeper.kill();
      await sleeper;
    }
  }, 60_000);
});
