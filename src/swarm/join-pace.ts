/**
 * How many workers join at once, sized from how the swarm answers (not a fixed number). A join is answered once a
 * manager's CA signed the node's certificate through the raft leader and the node opened its dispatcher session;
 * past what the leader takes, answers slow down and then the engine gives up on waiting ("Timeout was reached before
 * node joined", after 20 s, the join going on in the background, often for much longer). So the window grows while
 * joins are answered well within that deadline and is halved when one is answered late or timed out (additive
 * increase, multiplicative decrease, as TCP paces a link it does not know).
 *
 * It is never cut below `min`: the leader signs certificates one after the other and raft batches the proposals
 * that arrive together, so fewer joins at once only lengthen the run. Measured at 3+97 on 2 cores, with every core
 * busy: 8 at once took 51 s of joins, 16 took 35 s, 32 took 9 s, and 97 at once had joins time out and take up to
 * 67 s more. A floor of one made a saturated machine join its workers one by one (146 s).
 */
export interface PaceOptions {
  /** Joins at once to begin with. */
  initial: number;
  /** Never fewer than this many at once (the cuts stop here). */
  min: number;
  /** Never more than this many at once. */
  max: number;
  /** A join answered later than this says the leader's queue is long: half the engine's own 20 s deadline. */
  slowMs: number;
}

export const JOIN_PACE: PaceOptions = { initial: 16, min: 8, max: 64, slowMs: 10_000 };

export interface PaceState {
  /** Joins allowed at once (fractional while growing by 1/window per answer). */
  window: number;
  /** Until the first slow answer, the window doubles each round (one more per quick answer). */
  slowStart: boolean;
  /** When the window was last halved: answers to joins sent before then do not halve it again. */
  cutAt: number;
}

export interface JoinSample {
  startedAt: number;
  ms: number;
  /** The engine said the join goes on in the background: it did not get an answer within its own deadline. */
  timedOut: boolean;
}

export function initialPace(opts: PaceOptions = JOIN_PACE): PaceState {
  return { window: opts.initial, slowStart: true, cutAt: -Infinity };
}

/** The window after one answer (pure). */
export function nextPace(
  s: PaceState,
  sample: JoinSample,
  now: number,
  opts: PaceOptions = JOIN_PACE,
): PaceState {
  if (sample.timedOut || sample.ms > opts.slowMs) {
    if (sample.startedAt < s.cutAt) return s; // sent before the last cut: that cut already answered it
    return { window: Math.max(opts.min, s.window / 2), slowStart: false, cutAt: now };
  }
  const grown = s.slowStart ? s.window + 1 : s.window + 1 / s.window;
  return { ...s, window: Math.min(opts.max, grown) };
}

/** Runs joins within the window, each one's answer time resizing it. */
export class JoinPacer {
  private state: PaceState;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly opts: PaceOptions = JOIN_PACE,
    private readonly clock: () => number = Date.now,
  ) {
    this.state = initialPace(opts);
  }

  get window(): number {
    return Math.floor(this.state.window);
  }

  /** Run `join` once there is room; `timedOut(err)` tells a join the engine goes on with in the background. */
  async run<T>(join: () => Promise<T>, timedOut: (err: unknown) => boolean): Promise<T> {
    while (this.inFlight >= Math.max(1, this.window)) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    const startedAt = this.clock();
    let slow = false;
    try {
      return await join();
    } catch (err) {
      slow = timedOut(err);
      throw err;
    } finally {
      this.inFlight--;
      const now = this.clock();
      this.state = nextPace(this.state, { startedAt, ms: now - startedAt, timedOut: slow }, now, this.opts);
      // Wake as many as the window now has room for; each checks again.
      for (const wake of this.waiting.splice(0, Math.max(1, this.window - this.inFlight))) wake();
    }
  }
}
