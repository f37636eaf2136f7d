process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { Readable } from 'node:stream';
import { DescribeInstancesCommand, EC2Client, type IpPermission } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AWS_RETRY } from '../../src/providers/ec2/aws.ts';
import {
  decide,
  DEFAULT_TIMING,
  errorCode,
  EVENTUAL_CODES,
  eventually,
  retryEventual,
} from '../../src/providers/ec2/consistency.ts';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.ts';
import {
  ensureSecurityGroup,
  ruleKeys,
  singleRules,
  wantedIngress,
} from '../../src/providers/ec2/security-group.ts';
import { StateStore } from '../../src/state/store.ts';
import {
  awsError,
  freshHome,
  labSpec,
  standIn,
  standInEc2,
  type BeforeHook,
} from '../support/ec2-stand-in.ts';

/** A clock that only moves when the retry loop sleeps: the loop runs in milliseconds, its pauses are recorded. */
function fakeClock() {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
  };
}

/** A call answering the given errors in turn, then `ok`; counts its attempts. */
function answers<T>(errors: Error[], ok: T) {
  let attempts = 0;
  return {
    attempts: () => attempts,
    call: async () => {
      const e = errors[attempts++];
      if (e) throw e;
      return ok;
    },
  };
}

describe('eventual consistency: which codes are retried for which call (pure)', () => {
  it("retries only the guide's 'not propagated yet' codes for the calls that follow a create", () => {
    expect(EVENTUAL_CODES.AuthorizeSecurityGroupIngress).toEqual(['InvalidGroup.NotFound']);
    expect(EVENTUAL_CODES.RevokeSecurityGroupIngress).toEqual(['InvalidGroup.NotFound']);
    expect(EVENTUAL_CODES.DescribeSecurityGroups).toEqual(['InvalidGroup.NotFound']);
    expect([...EVENTUAL_CODES.RunInstances].sort()).toEqual([
      'InvalidGroup.NotFound',
      'InvalidKeyPair.NotFound',
    ]);
    // Never a propagation delay: a quota, a rule that exists, an image or subnet swarmup did not make.
    const all = Object.values(EVENTUAL_CODES).flat();
    for (const code of [
      'InstanceLimitExceeded',
      'InvalidPermission.Duplicate',
      'InvalidAMIID.NotFound',
      'InvalidSubnetID.NotFound',
      'InsufficientInstanceCapacity',
      'UnauthorizedOperation',
    ])
      expect(all).not.toContain(code);
  });

  it('an SDK error is known by its name (the AWS code); a plain Error or a non-error has none', () => {
    expect(errorCode(awsError('InvalidGroup.NotFound'))).toBe('InvalidGroup.NotFound');
    expect(errorCode({ Code: 'InvalidKeyPair.NotFound' })).toBe('InvalidKeyPair.NotFound');
    expect(errorCode(new Error('socket hang up'))).toBeUndefined();
    expect(errorCode('InvalidGroup.NotFound')).toBeUndefined();
  });

  it('backs off from the initial delay, capped, and spends the whole deadline: the last pause ends at it', () => {
    const codes = ['InvalidGroup.NotFound'];
    const delays: number[] = [];
    let elapsed = 0;
    for (let attempt = 1; ; attempt++) {
      const d = decide('InvalidGroup.NotFound', codes, attempt, elapsed, DEFAULT_TIMING);
      if (!d.retry) {
        expect(d.why).toBe('deadline');
        break;
      }
      delays.push(d.delayMs);
      elapsed += d.delayMs;
    }
    expect(delays.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(elapsed).toBe(60_000);
    expect(delays.at(-1)).toBe(5000); // 55 s spent: the last pause is cut to reach 60 s, not 65 s
  });

  it('any other code, or none, is not retried', () => {
    const codes = EVENTUAL_CODES.RunInstances;
    expect(decide('InvalidAMIID.NotFound', codes, 1, 0, DEFAULT_TIMING)).toEqual({
      retry: false,
      why: 'other error',
    });
    expect(decide(undefined, codes, 1, 0, DEFAULT_TIMING)).toEqual({ retry: false, why: 'other error' });
  });
});

describe('eventual consistency: the retry loop (injected clock, no real pauses)', () => {
  it('retries a listed code until the call succeeds, pausing 1 s, 2 s, ...', async () => {
    const clock = fakeClock();
    const c = answers([awsError('InvalidGroup.NotFound'), awsError('InvalidGroup.NotFound')], 'ok');
    const out = await retryEventual(c.call, { codes: ['InvalidGroup.NotFound'], ...clock });
    expect(out).toBe('ok');
    expect(c.attempts()).toBe(3);
    expect(clock.slept).toEqual([1000, 2000]);
  });

  it('throws any other error at once, unchanged, without pausing', async () => {
    const clock = fakeClock();
    const other = awsError('InvalidAMIID.NotFound', "The image id '[ami-0abc]' does not exist");
    const c = answers([other], 'ok');
    await expect(retryEventual(c.call, { codes: EVENTUAL_CODES.RunInstances, ...clock })).rejects.toBe(other);
    expect(c.attempts()).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('past the deadline throws the last error, its code kept, saying how long and how often it tried', async () => {
    const clock = fakeClock();
    const errors = Array.from({ length: 100 }, (_, i) =>
      awsError('InvalidKeyPair.NotFound', `The key pair 'swarmup-lab' does not exist (${i + 1})`),
    );
    const c = answers(errors, 'never');
    const err = await retryEventual(c.call, {
      codes: EVENTUAL_CODES.RunInstances,
      deadlineMs: 20_000,
      ...clock,
    }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    // 1 + 2 + 4 + 8 s, then the last pause cut to 5 s: six attempts over exactly 20 s.
    expect(clock.slept).toEqual([1000, 2000, 4000, 8000, 5000]);
    expect(c.attempts()).toBe(6);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('InvalidKeyPair.NotFound');
    expect(err.message).toMatch(
      /^The key pair 'swarmup-lab' does not exist \(6\) \(still InvalidKeyPair\.NotFound after 6 attempts over 20 s/,
    );
    expect(err.cause).toBe(errors[5]);
  });

  it('eventually(client).send keeps the client as `this` and retries like retryEventual', async () => {
    const clock = fakeClock();
    const client = {
      failures: 1,
      async send(cmd: string) {
        if (this.failures-- > 0) throw awsError('InvalidGroup.NotFound');
        return `sent ${cmd}`;
      },
    };
    expect(await eventually(client, { codes: ['InvalidGroup.NotFound'], ...clock }).send('x')).toBe('sent x');
    expect(clock.slept).toEqual([1000]);
  });
});

describe('duplicate rules (pure)', () => {
  it('splits rules into one source each, so each can be authorised on its own', () => {
    const wanted = wantedIngress('sg-1', ['203.0.113.7/32', '198.51.100.0/24', '2001:db8::/64'], false);
    const single = singleRules(wanted);
    expect(single).toHaveLength(7);
    for (const p of single)
      expect(
        (p.UserIdGroupPairs?.length ?? 0) + (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0),
      ).toBe(1);
    expect(ruleKeys(single)).toEqual(ruleKeys(wanted));
  });
});

/**
 * A stand-in security group as AWS keeps it (moto does not model eventual consistency): `rules` are what the group
 * really holds; Describe lists `listed`, which may lag behind. AuthorizeSecurityGroupIngress refuses the whole
 * request with InvalidPermission.Duplicate when any one of its rules is held already (AWS and moto both do).
 */
function standInGroup(opts: { exists: boolean; rules?: IpPermission[]; before?: BeforeHook }) {
  const held = new Set(ruleKeys(opts.rules ?? []));
  const group = { listed: [...(opts.rules ?? [])], describes: 0, onDescribe: (): void => undefined };
  let groupId = opts.exists ? 'sg-1' : undefined;
  const describe = () => {
    group.describes++;
    group.onDescribe();
    return {
      SecurityGroups: groupId
        ? [
            {
              GroupId: groupId,
              Tags: [{ Key: 'swarmup:cluster', Value: 'lab' }],
              IpPermissions: group.listed,
            },
          ]
        : [],
    };
  };
  const api = standIn(
    {
      DescribeSecurityGroups: describe,
      CreateSecurityGroup: () => ({ GroupId: (groupId = 'sg-new') }),
      AuthorizeSecurityGroupIngress: (i) => {
        const perms = i.IpPermissions as IpPermission[];
        if (ruleKeys(perms).some((k) => held.has(k))) throw awsError('InvalidPermission.Duplicate');
        for (const k of ruleKeys(perms)) held.add(k);
        group.listed.push(...perms);
        return {};
      },
    },
    opts.before,
  );
  return { api, group, held, named: (n: string) => api.calls.filter(([c]) => c === n) };
}

const want = { cluster: 'lab', groupName: 'swarmup-lab', vpcId: 'vpc-1', sshCidrs: ['203.0.113.7/32'] };

describe('stand-in client: eventual consistency (moto does not model it: every resource is visible at once)', () => {
  it("stand-in: AuthorizeSecurityGroupIngress answering InvalidGroup.NotFound twice right after CreateSecurityGroup: prepare's security group step succeeds, every rule in place", async () => {
    let notYet = 2;
    const fake = standInGroup({
      exists: false,
      before: (name) => {
        if (name === 'AuthorizeSecurityGroupIngress' && notYet-- > 0)
          throw awsError('InvalidGroup.NotFound', "The security group 'sg-new' does not exist");
      },
    });
    const clock = fakeClock();
    const r = await ensureSecurityGroup(
      fake.api,
      { ...want, encryptedOverlay: true },
      () => undefined,
      clock,
    );
    expect(r.id).toBe('sg-new');
    expect([...fake.held].sort()).toEqual(ruleKeys(wantedIngress('sg-new', want.sshCidrs, true)));
    expect(fake.named('AuthorizeSecurityGroupIngress')).toHaveLength(3);
    expect(clock.slept).toEqual([1000, 2000]);
    expect(r.created).toEqual([
      'security group swarmup-lab (sg-new)',
      'ingress tcp 2377 from the group on swarmup-lab',
      'ingress tcp 7946 from the group on swarmup-lab',
      'ingress udp 7946 from the group on swarmup-lab',
      'ingress udp 4789 from the group on swarmup-lab',
      'ingress ESP from the group on swarmup-lab',
      'ingress tcp 22 from 203.0.113.7/32 on swarmup-lab',
    ]);
  });

  it('stand-in: a group that stays unknown fails after the deadline with the code and how long it tried', async () => {
    const fake = standInGroup({
      exists: false,
      before: (name) => {
        if (name === 'AuthorizeSecurityGroupIngress') throw awsError('InvalidGroup.NotFound');
      },
    });
    await expect(
      ensureSecurityGroup(fake.api, { ...want, encryptedOverlay: false }, () => undefined, fakeClock()),
    ).rejects.toThrow(/still InvalidGroup\.NotFound after \d+ attempts over 60 s/);
  });

  it('stand-in: RunInstances answering InvalidKeyPair.NotFound once right after ImportKeyPair: create succeeds, sending the same ClientToken both times, one instance', async () => {
    freshHome();
    let notYet = 1;
    const fake = standInEc2((name) => {
      if (name === 'RunInstances' && notYet-- > 0)
        throw awsError('InvalidKeyPair.NotFound', "The key pair 'swarmup-lab' does not exist");
    });
    const p = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), { aws: async () => fake.api, pollMs: 1 });
    await p.prepare(() => undefined);
    await p.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined);
    const tokens = fake.runTokens();
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(fake.launched()).toBe(1);
    expect((await p.reach(['lab-manager-1'])).map((m) => m.name)).toEqual(['lab-manager-1']);
  });

  it('stand-in: RunInstances answering another error (InvalidAMIID.NotFound) fails at once, not retried', async () => {
    freshHome();
    const fake = standInEc2((name) => {
      if (name === 'RunInstances')
        throw awsError('InvalidAMIID.NotFound', "The image id '[ami-0abc]' does not exist");
    });
    const p = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), { aws: async () => fake.api, pollMs: 1 });
    await p.prepare(() => undefined);
    await expect(p.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined)).rejects.toThrow(
      /lab-manager-1: launch instance: The image id '\[ami-0abc\]' does not exist$/,
    );
    expect(fake.runTokens()).toHaveLength(1);
  });
});

describe('stand-in client: a duplicate ingress rule (a rule added in parallel, or listed late)', () => {
  const wanted = wantedIngress('sg-1', want.sshCidrs, false);
  const tcp7946 = wanted.find((p) => p.IpProtocol === 'tcp' && p.FromPort === 7946)!;
  const ssh = wanted.find((p) => p.FromPort === 22)!;
  const before = wanted.filter((p) => p !== tcp7946 && p !== ssh);

  it('stand-in: Authorize answering InvalidPermission.Duplicate for one rule added in between: the group is re-read and only the rest added, no error', async () => {
    const fake = standInGroup({ exists: true, rules: before });
    // Listed by the first read without tcp 7946; another run adds it before this one authorises.
    fake.group.onDescribe = () => {
      if (fake.group.describes === 1) return;
      if (!fake.group.listed.includes(tcp7946)) fake.group.listed.push(tcp7946);
    };
    fake.held.add(ruleKeys([tcp7946])[0]!);
    const r = await ensureSecurityGroup(fake.api, { ...want, encryptedOverlay: false }, () => undefined);
    expect([...fake.held].sort()).toEqual(ruleKeys(wanted));
    const authorised = fake
      .named('AuthorizeSecurityGroupIngress')
      .map(([, i]) => ruleKeys(i.IpPermissions as never));
    expect(authorised).toEqual([ruleKeys([tcp7946, ssh]), ruleKeys([ssh])]);
    expect(fake.named('DescribeSecurityGroups').at(-1)![1]).toEqual({ GroupIds: ['sg-1'] });
    expect(r.created).toEqual(['ingress tcp 22 from 203.0.113.7/32 on swarmup-lab']);
  });

  it('stand-in: the rule is held but still not listed on the re-read: each missing rule is tried alone, its duplicate tolerated, the rest added', async () => {
    const fake = standInGroup({ exists: true, rules: before });
    fake.held.add(ruleKeys([tcp7946])[0]!); // held, never listed
    const r = await ensureSecurityGroup(fake.api, { ...want, encryptedOverlay: false }, () => undefined);
    expect([...fake.held].sort()).toEqual(ruleKeys(wanted));
    const authorised = fake
      .named('AuthorizeSecurityGroupIngress')
      .map(([, i]) => ruleKeys(i.IpPermissions as never));
    expect(authorised).toEqual([ruleKeys([tcp7946, ssh]), ruleKeys([tcp7946]), ruleKeys([ssh])]);
    expect(r.created).toEqual(['ingress tcp 22 from 203.0.113.7/32 on swarmup-lab']);
  });

  it('stand-in: another error from the one-rule retry is not swallowed', async () => {
    const fake = standInGroup({
      exists: true,
      rules: before,
      before: (name, input) => {
        if (name !== 'AuthorizeSecurityGroupIngress') return;
        const keys = ruleKeys(input.IpPermissions as never);
        if (keys.length === 1 && keys[0]!.startsWith('tcp|22'))
          throw awsError(
            'RulesPerSecurityGroupLimitExceeded',
            'The maximum number of rules per security group has been reached.',
          );
      },
    });
    fake.held.add(ruleKeys([tcp7946])[0]!);
    await expect(
      ensureSecurityGroup(fake.api, { ...want, encryptedOverlay: false }, () => undefined),
    ).rejects.toThrow(/maximum number of rules/);
  });
});

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
