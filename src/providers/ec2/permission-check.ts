import { generateKeyPairSync } from 'node:crypto';
import { DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import type { Ec2Spec } from '../../config/cluster.ts';
import { errorMessage, StepError } from '../../errors.ts';
import { readOwner } from '../../state/owner.ts';
import type { PermissionCheck } from '../permission-report.ts';
import type { NodeWanted } from '../provider.ts';
import type { AwsApi } from './aws.ts';
import { accountOf } from './cluster-record.ts';
import type { ImageChoice } from './image.ts';
import type { Network } from './network.ts';
import {
  classify,
  classifyTagged,
  dryRunProbes,
  type Answer,
  type Probe,
  type ProbeFacts,
} from './permissions.ts';
import { listOwn } from './resources.ts';
import { staleSshIngress } from './security-group.ts';

/** The whole check answers within this (every call in parallel); a call without an answer is not checkable. */
export const CHECK_DEADLINE_MS = 20_000;

/** The Describe calls the check (and every run) makes before it: answered, so allowed. */
const DESCRIBED = [
  'DescribeVpcs',
  'DescribeSubnets',
  'DescribeRouteTables',
  'DescribeInstanceTypeOfferings',
  'DescribeImages',
  'DescribeInstanceTypes',
  'DescribeInstances',
  'DescribeSecurityGroups',
  'DescribeKeyPairs',
  'DescribeVolumes',
];

export interface CheckInput {
  cluster: string;
  resourceName: string;
  node: NodeWanted;
  ec2: Ec2Spec;
  network: Network;
  image: ImageChoice;
}

/** An error's AWS code (SDK v3 names the exception after it); a failure without one is no answer from AWS. */
function answerOf(err: unknown): Answer {
  const e = err as { name?: string; $metadata?: unknown };
  // AWS's codes (UnauthorizedOperation, InvalidGroup.NotFound) never end in "Error"; TypeError, TimeoutError do.
  if (e.name && (e.$metadata !== undefined || !e.name.endsWith('Error'))) return { code: e.name };
  return { code: `no answer (${errorMessage(err).split('\n')[0]})` };
}

/** One DryRun call, bounded by the check's deadline. */
async function ask(api: AwsApi, probe: Probe, withTags: boolean, until: number): Promise<Answer> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Answer>((resolve) => {
    timer = setTimeout(
      () => {
        abort.abort();
        resolve({ timedOut: true });
      },
      Math.max(until - Date.now(), 0),
    );
  });
  const call = api.ec2.send(probe.command(withTags) as never, { abortSignal: abort.signal }).then(
    (): Answer => ({ made: true }),
    (err: unknown): Answer => (abort.signal.aborted ? { timedOut: true } : answerOf(err)),
  );
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const honours = (a: Answer) =>
  'code' in a && ['DryRunOperation', 'UnauthorizedOperation', 'AccessDenied'].includes(a.code);

/** What the cluster has now (its probes act on these) and what STS answered, if the run has an STS client. */
interface Existing {
  mine: Awaited<ReturnType<typeof listOwn>>;
  account: Answer | undefined;
  groupId: string | undefined;
  sshRule: IpPermission | undefined;
}

async function existingOf(api: AwsApi, input: CheckInput): Promise<Existing> {
  const [mine, account] = await Promise.all([
    // One instance and one volume of the cluster are enough to probe calls on them: a sample, not all 1000.
    listOwn(api, input.cluster, { sample: true }),
    api.sts
      ? accountOf(api).then(
          (): Answer => ({ code: 'DryRunOperation' }),
          (err: unknown) => answerOf(err),
        )
      : undefined,
  ]);
  const groupId = mine?.securityGroups[0]?.id;
  const sshRule = groupId
    ? staleSshIngress(
        (await api.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0]
          ?.IpPermissions ?? [],
        [],
      )[0]
    : undefined;
  return { mine, account, groupId, sshRule };
}

/** The run's facts the probes are built from. */
function probeFactsOf(input: CheckInput, { mine, groupId, sshRule }: Existing): ProbeFacts {
  return {
    cluster: input.cluster,
    resourceName: input.resourceName,
    owner: readOwner() ?? '000000000000',
    node: input.node,
    vpcId: input.network.vpcId,
    subnetId: input.network.subnets[0]!.id,
    askPublicIp: input.network.subnets[0]!.askPublicIp,
    image: input.image,
    instanceType: input.ec2.instanceType,
    diskGiB: input.ec2.diskGiB,
    publicKey: throwawayPublicKey(),
    ...(groupId ? { group: { id: groupId, ...(sshRule ? { sshRule } : {}) } } : {}),
    ...(mine?.keyPairs.some((k) => k.name === input.resourceName) ? { keyPair: input.resourceName } : {}),
    ...(mine?.instances[0] ? { instanceId: mine.instances[0].id } : {}),
    ...(mine?.volumes[0] ? { volumeId: mine.volumes[0].id } : {}),
  };
}

/** Every probe's answer (none for a probe never sent), and the untagged retry's for create calls refused with tags. */
interface Answers {
  answers: Map<Probe, Answer>;
  untaggedOf: Map<Probe, Answer>;
}

/**
 * The probes that need nothing of the cluster first, in parallel; then, together, the create calls refused with
 * tags once more without, and the probes on the cluster's own resources if the first answers show DryRun honoured.
 */
async function askAll(api: AwsApi, probes: Probe[], until: number): Promise<Answers> {
  const first = probes.filter((p) => p.target !== 'existing');
  const firstAnswers = await Promise.all(first.map((p) => ask(api, p, p.tagsOnCreate, until)));
  const answers = new Map<Probe, Answer>(first.map((p, i) => [p, firstAnswers[i]!]));
  const made = first.filter((p) => 'made' in answers.get(p)!);
  if (made.length > 0)
    throw new StepError(
      'aws',
      'permission check',
      `${made.map((p) => p.call).join(', ')} answered as if DryRun were not set: this endpoint does not honour DryRun`,
    );
  const honoured = firstAnswers.some(honours);
  const retry = first.filter(
    (p) => p.tagsOnCreate && classify(answers.get(p)!, p.target, 0).status === 'denied',
  );
  const onExisting = probes.filter((p) => p.target === 'existing');
  const [untagged, existing] = await Promise.all([
    Promise.all(retry.map((p) => ask(api, p, false, until))),
    honoured ? Promise.all(onExisting.map((p) => ask(api, p, p.tagsOnCreate, until))) : [],
  ]);
  existing.forEach((a, i) => answers.set(onExisting[i]!, a));
  return { answers, untaggedOf: new Map(retry.map((p, i) => [p, untagged[i]!])) };
}

/** One probe's lines of the report. */
function checksOf(p: Probe, { answers, untaggedOf }: Answers, deadlineMs: number): PermissionCheck[] {
  const answer = answers.get(p);
  if (!answer)
    return [
      {
        action: p.action,
        call: `${p.call} (DryRun)`,
        status: 'not-checkable',
        how: 'dry-run',
        note: "not sent on the cluster's own resource: no other call showed that this endpoint honours DryRun",
      },
    ];
  if (p.tagsOnCreate) return classifyTagged(p, answer, untaggedOf.get(p), deadlineMs);
  const { status, note } = classify(answer, p.target, deadlineMs);
  return [
    { action: p.action, call: `${p.call} (DryRun)`, status, how: 'dry-run', ...(note ? { note } : {}) },
  ];
}

/** The calls without DryRun (Describe, SSM, STS), reported by what the run's own calls to them showed. */
function byUseChecks(input: CheckInput, account: Answer | undefined, deadlineMs: number): PermissionCheck[] {
  const byUse = (action: string, call: string, answer?: Answer): PermissionCheck => {
    const c = answer ? classify(answer, 'new', deadlineMs) : undefined;
    return {
      action,
      call,
      status: c?.status ?? 'not-checkable',
      how: 'by-use',
      ...(c?.note ? { note: c.note } : answer ? {} : { note: 'not called' }),
    };
  };
  return [
    byUse('ec2:Describe*', DESCRIBED.join(', '), { code: 'DryRunOperation' }),
    input.ec2.ami
      ? { ...byUse('ssm:GetParameter', 'GetParameter'), note: 'not called: --ami is given' }
      : byUse('ssm:GetParameter', `GetParameter ${input.ec2.amiParameter}`, { code: 'DryRunOperation' }),
    ...(account ? [byUse('sts:GetCallerIdentity', 'GetCallerIdentity', account)] : []),
  ];
}

/**
 * Ask EC2, with DryRun, whether every change swarmup makes would be allowed; nothing is created or changed, here
 * or in AWS. Calls that only need things that exist (or nothing) go first, in parallel; calls on the cluster's own
 * resources (terminate its instance...) only once those answers show that the endpoint honours DryRun. STS and
 * SSM have no DryRun: what the run's own calls to them showed is reported "by use".
 */
export async function checkEc2Permissions(
  api: AwsApi,
  input: CheckInput,
  deadlineMs = CHECK_DEADLINE_MS,
): Promise<PermissionCheck[]> {
  const until = Date.now() + deadlineMs;
  const existing = await existingOf(api, input);
  const probes = dryRunProbes(probeFactsOf(input, existing));
  const answers = await askAll(api, probes, until);
  return [
    ...probes.flatMap((p) => checksOf(p, answers, deadlineMs)),
    ...byUseChecks(input, existing.account, deadlineMs),
  ];
}

/** A throwaway ed25519 public key in OpenSSH form: ImportKeyPair's DryRun needs a well-formed one. */
export function throwawayPublicKey(): string {
  const x = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const part = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(x)]).toString('base64')} swarmup-permission-check`;
}
