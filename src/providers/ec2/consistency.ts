import { setTimeout as realSleep } from 'node:timers/promises';

/**
 * AWS's EC2 API is eventually consistent ("Eventual consistency in the Amazon EC2 API", EC2 developer guide): a
 * resource just created may not yet be known to the next call that names it, which then answers "does not exist".
 * That answer is retried here, with backoff, for the calls swarmup makes right after a create, and only for the
 * codes that mean "not propagated yet" for that call. Throttling is the SDK's business (adaptive retries, aws.ts).
 */

/** The calls swarmup makes right after creating what they name. */
export type FollowingCall =
  | 'AuthorizeSecurityGroupIngress'
  | 'RevokeSecurityGroupIngress'
  | 'DescribeSecurityGroups'
  | 'RunInstances'
  | 'CreateTags';

/**
 * Which answers mean "not propagated yet", per call.
 * - InvalidGroup.NotFound: the guide's own example, any call naming a group right after CreateSecurityGroup
 *   (the rules, the re-read of the group by id, and RunInstances with SecurityGroupIds).
 * - InvalidKeyPair.NotFound: RunInstances right after ImportKeyPair. Not one of the guide's listed examples, but
 *   the case its general rule describes ("a command that ... describes the resource you just created ... answers
 *   that it does not exist"); Packer and Terraform's AWS provider meet it and retry it.
 * - InvalidInstanceID.NotFound: the guide's other example, CreateTags naming an instance right after the
 *   RunInstances that launched it (launch-batch.ts: a batch's Names are written right after its launch).
 * Not here: subnets or images: swarmup creates none of them.
 * InstanceLimitExceeded, also in the guide, is a quota, not a propagation delay: never retried here.
 */
export const EVENTUAL_CODES: Readonly<Record<FollowingCall, readonly string[]>> = {
  AuthorizeSecurityGroupIngress: ['InvalidGroup.NotFound'],
  RevokeSecurityGroupIngress: ['InvalidGroup.NotFound'],
  DescribeSecurityGroups: ['InvalidGroup.NotFound'],
  RunInstances: ['InvalidGroup.NotFound', 'InvalidKeyPair.NotFound'],
  CreateTags: ['InvalidInstanceID.NotFound'],
};

/** The error code of an SDK error (its `name`; `Code` for older shapes); undefined for anything else. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const c of [e.name, e.Code, e.code]) if (typeof c === 'string' && c !== 'Error') return c;
  return undefined;
}

export interface RetryTiming {
  /** How long to keep trying, from the first attempt. */
  deadlineMs: number;
  /** The first pause; each next one is `backoff` times longer, at most `maxDelayMs`. */
  initialDelayMs: number;
  backoff: number;
  maxDelayMs: number;
}

/** The guide: start with a couple of seconds, grow exponentially. A minute covers what Packer and Terraform met. */
export const DEFAULT_TIMING: RetryTiming = {
  deadlineMs: 60_000,
  initialDelayMs: 1_000,
  backoff: 2,
  maxDelayMs: 10_000,
};

export type Decision = { retry: true; delayMs: number } | { retry: false; why: 'other error' | 'deadline' };

/**
 * What to do after a failed attempt (pure): retry after `delayMs` when the code is one of `codes` and time is
 * left (the last pause shortened to end at the deadline, for one last attempt there, unless lastPause is 'none');
 * else give up: an other error at once, a retryable one at the deadline. `attempt` counts failed attempts so far (1 after the first).
 */
export function decide(
  code: string | undefined,
  codes: readonly string[],
  attempt: number,
  elapsedMs: number,
  timing: RetryTiming,
  lastPause: 'shorten' | 'none' = 'shorten',
): Decision {
  if (code === undefined || !codes.includes(code)) return { retry: false, why: 'other error' };
  const left = timing.deadlineMs - elapsedMs;
  if (left <= 0) return { retry: false, why: 'deadline' };
  const pause = Math.min(timing.initialDelayMs * timing.backoff ** (attempt - 1), timing.maxDelayMs);
  // 'none': a pause that would end past the deadline is not taken (no last attempt there).
  if (lastPause === 'none' && pause > left) return { retry: false, why: 'deadline' };
  return { retry: true, delayMs: Math.min(pause, left) };
}

export interface RetryOptions extends Partial<RetryTiming> {
  codes: readonly string[];
  /** Injected by tests (no real pauses); defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Told of each retry before its pause. */
  onRetry?: (err: unknown, delayMs: number) => void;
  /** 'none': no last attempt at the deadline (a pause that would pass it gives up); default 'shorten'. */
  lastPause?: 'shorten' | 'none';
  /** At the deadline: 'explain' (default) says how long and how often it was tried; 'as-is' throws the last error. */
  atDeadline?: 'explain' | 'as-is';
}

/**
 * `call`, retried while it fails with one of `codes` (see EVENTUAL_CODES; also DependencyViolation for deletes,
 * resources.ts) and the deadline allows. Any other
 * error is thrown at once, unchanged. Past the deadline the last error is thrown, its message saying how long
 * and how often it was tried (same `name`, the original as `cause`, so callers checking the code still can).
 */
export async function retryEventual<T>(call: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const timing: RetryTiming = {
    deadlineMs: opts.deadlineMs ?? DEFAULT_TIMING.deadlineMs,
    initialDelayMs: opts.initialDelayMs ?? DEFAULT_TIMING.initialDelayMs,
    backoff: opts.backoff ?? DEFAULT_TIMING.backoff,
    maxDelayMs: opts.maxDelayMs ?? DEFAULT_TIMING.maxDelayMs,
  };
  const pause = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = errorCode(err);
      const d = decide(code, opts.codes, attempt, now() - started, timing, opts.lastPause);
      if (d.retry) {
        opts.onRetry?.(err, d.delayMs);
        await pause(d.delayMs);
        continue;
      }
      if (d.why === 'other error' || opts.atDeadline === 'as-is') throw err;
      const seconds = Math.round((now() - started) / 100) / 10;
      const message = err instanceof Error ? err.message : String(err);
      const late = new Error(
        `${message} (still ${code} after ${attempt} attempts over ${seconds} s: ` +
          "what was just created did not become visible to this call within the wait for AWS's eventual consistency)",
        { cause: err },
      );
      late.name = code!;
      throw late;
    }
  }
}

/**
 * The client with its `send` retried as `retryEventual` does, for a call site that reads as a plain send:
 * `await eventually(api.ec2, opts).send(new RunInstancesCommand(...))`.
 */
export function eventually<C extends { send: unknown }>(client: C, opts: RetryOptions): Pick<C, 'send'> {
  const plain = client as unknown as { send: (...args: unknown[]) => Promise<unknown> };
  const send = (...args: unknown[]) => retryEventual(() => plain.send(...args), opts);
  return { send: send as C['send'] };
}
