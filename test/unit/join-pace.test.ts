import { describe, expect, it } from 'vitest';
import { initialPace, JOIN_PACE, JoinPacer, nextPace, type PaceOptions } from '../../src/swarm/join-pace.ts';

const opts: PaceOptions = { initial: 4, min: 1, max: 20, slowMs: 5_000 };
const fast = (startedAt: number) => ({ startedAt, ms: 800, timedOut: false });

describe('worker joins paced by the swarm’s answers', () => {
  it('quick answers double the window each round until the maximum', () => {
    let s = initialPace(opts);
    for (let i = 0; i < 4; i++) s = nextPace(s, fast(0), 1_000, opts);
    expect(s.window).toBe(8);
    for (let i = 0; i < 100; i++) s = nextPace(s, fast(0), 1_000, opts);
    expect(s.window).toBe(20);
  });

  it('a slow or timed-out answer halves it once for the joins already under way, then it grows by one a round', () => {
    let s = { window: 16, slowStart: true, cutAt: -Infinity };
    s = nextPace(s, { startedAt: 100, ms: 6_000, timedOut: false }, 6_100, opts);
    expect(s.window).toBe(8);
    // Other joins sent before that cut answer slowly too: not cut again.
    s = nextPace(s, { startedAt: 200, ms: 20_000, timedOut: true }, 20_200, opts);
    expect(s.window).toBe(8);
    // After the cut, growth is additive: about a window of quick answers makes one more.
    for (let i = 0; i < 9; i++) s = nextPace(s, fast(7_000), 8_000, opts);
    expect(Math.floor(s.window)).toBe(9);
    // A join sent after the cut that times out cuts again; never under one.
    s = nextPace(s, { startedAt: 9_000, ms: 20_000, timedOut: true }, 29_000, opts);
    expect(Math.floor(s.window)).toBe(4);
    for (let i = 0; i < 10; i++)
      s = nextPace(
        s,
        { startedAt: 30_000 + i * 30_000, ms: 20_000, timedOut: true },
        50_000 + i * 30_000,
        opts,
      );
    expect(s.window).toBe(1);
  });

  it('a machine where every join is slow keeps the floor: the leader is never given one join at a time', () => {
    const floored: PaceOptions = { ...JOIN_PACE };
    let s = initialPace(floored);
    for (let i = 0; i < 50; i++)
      s = nextPace(s, { startedAt: i * 12_000, ms: 11_000, timedOut: false }, i * 12_000 + 11_000, floored);
    expect(s.window).toBe(JOIN_PACE.min);
    expect(JOIN_PACE.min).toBeGreaterThan(1);
    // Answers within the engine's own deadline's half grow it again.
    for (let i = 0; i < 40; i++) s = nextPace(s, fast(700_000), 701_000, floored);
    expect(Math.floor(s.window)).toBeGreaterThan(JOIN_PACE.min);
  });

  it('never more joins at once than the window; a timed-out join frees its place and narrows it', async () => {
    let now = 0;
    const pacer = new JoinPacer(opts, () => now);
    let inFlight = 0;
    let most = 0;
    const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const join = () =>
      new Promise<void>((resolve, reject) => {
        inFlight++;
        most = Math.max(most, inFlight);
        pending.push({
          resolve: () => {
            inFlight--;
            resolve();
          },
          reject: (e) => {
            inFlight--;
            reject(e);
          },
        });
      });
    const timedOut = (e: unknown) => /Timeout was reached/.test(String(e));
    const all = Array.from({ length: 30 }, () => pacer.run(join, timedOut).catch(() => 'timed out'));
    await new Promise((r) => setImmediate(r));
    expect(inFlight).toBe(4);
    // The first four answer quickly: eight at once next.
    now = 500;
    for (const p of pending.splice(0, 4)) p.resolve();
    await new Promise((r) => setImmediate(r));
    expect(inFlight).toBe(8);
    // One of them times out after 20 s: the window is halved, so no new join starts until four are left.
    now = 20_500;
    pending.shift()!.reject(new Error('Timeout was reached before node joined'));
    await new Promise((r) => setImmediate(r));
    expect(pacer.window).toBe(4);
    expect(inFlight).toBe(7);
    while (pending.length > 0) {
      now += 300;
      for (const p of pending.splice(0)) p.resolve();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(all)).toContain('timed out');
    expect(most).toBe(8);
  });
});
