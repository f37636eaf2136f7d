process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { Readable } from 'node:stream';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AWS_RETRY } from '../../src/providers/ec2/aws.ts';

/** EC2's own error body (Query protocol), as AWS sends it with HTTP 503 when a request bucket is empty. */
const throttled = (id: number) =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>' +
  `<Message>Request limit exceeded.</Message></Error></Errors><RequestID>req-${id}</RequestID></Response>`;
const refused =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidParameterValue</Code>' +
  '<Message>Value (x) for parameter filter is invalid.</Message></Error></Errors><RequestID>req-bad</RequestID></Response>';
const described =
  '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
  '<requestId>req-ok</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>' +
  '<instanceId>i-0123456789abcdef0</instanceId><instanceState><code>16</code><name>running</name></instanceState>' +
  '</item></instancesSet></item></reservationSet></DescribeInstancesResponse>';

/**
 * A stand-in HTTP handler (in place of the SDK's node-http-handler; real AWS cannot be reached from here): it
 * answers each request in turn from `answers`, as AWS would on the wire, and counts the requests.
 */
function standInHandler(answers: Array<{ status: number; body: string }>) {
  const seen: number[] = [];
  return {
    seen,
    handler: {
      handle: async () => {
        const a = answers[Math.min(seen.length, answers.length - 1)]!;
        seen.push(Date.now());
        return {
          response: {
            statusCode: a.status,
            reason: a.status === 200 ? 'OK' : 'Error',
            headers: { 'content-type': 'text/xml;charset=UTF-8' },
            body: Readable.from([Buffer.from(a.body)]),
          },
        };
      },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    },
  };
}

/** An EC2 client as swarmup makes it (its retry settings: AWS_RETRY), over the stand-in handler. */
const client = (handler: ReturnType<typeof standInHandler>['handler'], retry: object = AWS_RETRY) =>
  new EC2Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    requestHandler: handler as never,
    ...retry,
  });

/** The call, with the SDK's backoff pauses run on fake time (how long it backed off is then read from the clock). */
async function onFakeTime<T>(
  call: () => Promise<T>,
): Promise<{ result?: T; error?: unknown; waitedMs: number }> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const start = Date.now();
  let done = false;
  const p = call().then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  void p.finally(() => (done = true));
  while (!done) await vi.advanceTimersByTimeAsync(100);
  return { ...(await p), waitedMs: Date.now() - start };
}

describe("AWS throttling: the SDK's own retries (AWS_RETRY)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('RequestLimitExceeded (HTTP 503, EC2 XML body) three times, then a success: the call succeeds after backing off', async () => {
    const aws = standInHandler([
      { status: 503, body: throttled(1) },
      { status: 503, body: throttled(2) },
      { status: 503, body: throttled(3) },
      { status: 200, body: described },
    ]);
    const { result, error, waitedMs } = await onFakeTime(() =>
      client(aws.handler).send(new DescribeInstancesCommand({})),
    );
    expect(error).toBeUndefined();
    expect(result!.Reservations![0]!.Instances![0]!.InstanceId).toBe('i-0123456789abcdef0');
    expect(aws.seen).toHaveLength(4);
    expect(result!.$metadata.attempts).toBe(4);
    // Backed off between the attempts (the SDK's pauses: random, growing), not retried at once.
    expect(result!.$metadata.totalRetryDelay).toBeGreaterThan(0);
    expect(waitedMs).toBeGreaterThanOrEqual(result!.$metadata.totalRetryDelay!);
  });

  it("the SDK's defaults (3 attempts) would give up on the third throttle: the reason for AWS_RETRY", async () => {
    const aws = standInHandler([
      { status: 503, body: throttled(1) },
      { status: 503, body: throttled(2) },
      { status: 503, body: throttled(3) },
      { status: 200, body: described },
    ]);
    const { error } = await onFakeTime(() => client(aws.handler, {}).send(new DescribeInstancesCommand({})));
    expect((error as { name?: string }).name).toBe('RequestLimitExceeded');
    expect(aws.seen).toHaveLength(3);
  });

  it('a refusal that is not throttling (HTTP 400 InvalidParameterValue) is not retried', async () => {
    const aws = standInHandler([
      { status: 400, body: refused },
      { status: 200, body: described },
    ]);
    const { error } = await onFakeTime(() => client(aws.handler).send(new DescribeInstancesCommand({})));
    expect((error as { name?: string }).name).toBe('InvalidParameterValue');
    expect(aws.seen).toHaveLength(1);
  });
});
