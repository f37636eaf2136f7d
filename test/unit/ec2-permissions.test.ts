import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asEc2Client, defaultVpcHandlers } from '../support/ec2-stand-in.ts';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import type { AwsApi } from '../../src/providers/ec2/aws.ts';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.ts';
import { keyFingerprints } from '../../src/providers/ec2/key-pair.ts';
import { checkEc2Permissions, throwawayPublicKey } from '../../src/providers/ec2/permission-check.ts';
import {
  classify,
  classifyTagged,
  dryRunProbes,
  PLACEHOLDER,
  type ProbeFacts,
} from '../../src/providers/ec2/permissions.ts';
import {
  deniedActions,
  refuseDenied,
  renderPermissions,
  type PermissionCheck,
} from '../../src/providers/permission-report.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';

const facts: ProbeFacts = {
  cluster: 'lab',
  resourceName: 'swarmup-lab',
  owner: 'abc123',
  node: { name: 'lab-manager-1', role: 'manager' },
  vpcId: 'vpc-1',
  subnetId: 'subnet-1',
  image: { imageId: 'ami-0abc', rootDevice: '/dev/sda1' },
  instanceType: 't3.small',
  diskGiB: 20,
  publicKey: throwawayPublicKey(),
};
const input = (p: { command: (t: boolean) => { input: object } }, tags: boolean) =>
  p.command(tags).input as Record<string, unknown>;

describe('DryRun answers, classified (pure)', () => {
  it('DryRunOperation is allowed; UnauthorizedOperation denied, except on a placeholder id; anything else not checkable', () => {
    expect(classify({ code: 'DryRunOperation' }, 'new', 20_000)).toEqual({ status: 'allowed' });
    expect(classify({ code: 'UnauthorizedOperation' }, 'new', 20_000)).toEqual({ status: 'denied' });
    expect(classify({ code: 'UnauthorizedOperation' }, 'existing', 20_000)).toEqual({ status: 'denied' });
    // A placeholder has no swarmup:cluster tag: the README's own policy refuses it, and rightly.
    expect(classify({ code: 'UnauthorizedOperation' }, 'placeholder', 20_000)).toMatchObject({
      status: 'not-checkable',
      note: expect.stringContaining('placeholder'),
    });
    expect(classify({ code: 'InvalidInstanceID.NotFound' }, 'placeholder', 20_000)).toEqual({
      status: 'not-checkable',
      note: 'AWS answered InvalidInstanceID.NotFound before the permission (the cluster has none yet, so a placeholder id was sent)',
    });
    expect(classify({ code: 'InvalidKeyPair.Duplicate' }, 'new', 20_000)).toEqual({
      status: 'not-checkable',
      note: 'AWS answered InvalidKeyPair.Duplicate before the permission',
    });
    expect(classify({ timedOut: true }, 'new', 20_000)).toEqual({
      status: 'not-checkable',
      note: 'no answer within 20 s',
    });
    expect(classify({ made: true }, 'new', 20_000).status).toBe('not-checkable');
  });

  it('a create call with tags proves the call and ec2:CreateTags; refused with tags but not without, only CreateTags is missing', () => {
    const probe = { action: 'ec2:RunInstances', call: 'RunInstances', target: 'new' as const };
    const ok = { code: 'DryRunOperation' };
    const no = { code: 'UnauthorizedOperation' };
    const statuses = (c: PermissionCheck[]) => c.map((x) => `${x.action} ${x.status}`);
    expect(statuses(classifyTagged(probe, ok, undefined, 1000))).toEqual([
      'ec2:RunInstances allowed',
      'ec2:CreateTags allowed',
    ]);
    expect(statuses(classifyTagged(probe, no, ok, 1000))).toEqual([
      'ec2:RunInstances allowed',
      'ec2:CreateTags denied',
    ]);
    expect(statuses(classifyTagged(probe, no, no, 1000))).toEqual([
      'ec2:RunInstances denied',
      'ec2:CreateTags not-checkable',
    ]);
    expect(statuses(classifyTagged(probe, { code: 'InvalidAMIID.NotFound' }, undefined, 1000))).toEqual([
      'ec2:RunInstances not-checkable',
      'ec2:CreateTags not-checkable',
    ]);
  });

  it("every call is sent with DryRun; creates carry the run's tags only when asked; placeholders only where nothing exists", () => {
    const fresh = dryRunProbes(facts);
    expect(fresh.map((p) => p.call)).toEqual([
      'CreateSecurityGroup',
      'ImportKeyPair',
      'RunInstances',
      'AuthorizeSecurityGroupIngress',
      'RevokeSecurityGroupIngress',
      'CreateTags',
      'StartInstances',
      'StopInstances',
      'TerminateInstances',
      'DeleteVolume',
      'DeleteSecurityGroup',
      'DeleteKeyPair',
    ]);
    for (const p of fresh) {
      expect(input(p, true).DryRun, p.call).toBe(true);
      expect(input(p, false).DryRun, p.call).toBe(true);
      expect(input(p, false).TagSpecifications, p.call).toBeUndefined();
      expect(!!input(p, true).TagSpecifications, p.call).toBe(p.tagsOnCreate);
    }
    const run = input(
      fresh.find((p) => p.call === 'RunInstances')!,
      true,
    );
    expect(run).toMatchObject({ ImageId: 'ami-0abc', InstanceType: 't3.small', SubnetId: 'subnet-1' });
    expect(run.SecurityGroupIds).toBeUndefined(); // not made yet
    expect(run.KeyName).toBeUndefined();
    expect(run.ClientToken).toBeUndefined(); // a DryRun never spends a launch token
    expect(JSON.stringify(run.TagSpecifications)).toContain('"Key":"swarmup:cluster","Value":"lab"');
    const terminate = fresh.find((p) => p.call === 'TerminateInstances')!;
    expect(terminate.target).toBe('placeholder');
    expect(input(terminate, false).InstanceIds).toEqual([PLACEHOLDER.instance]);

    const existing = dryRunProbes({
      ...facts,
      group: { id: 'sg-9' },
      keyPair: 'swarmup-lab',
      instanceId: 'i-9',
      volumeId: 'vol-9',
    });
    for (const p of existing.filter((x) => x.target !== 'new')) expect(p.target, p.call).toBe('existing');
    expect(
      input(
        existing.find((p) => p.call === 'TerminateInstances')!,
        false,
      ).InstanceIds,
    ).toEqual(['i-9']);
    expect(
      input(
        existing.find((p) => p.call === 'RunInstances')!,
        true,
      ),
    ).toMatchObject({
      SecurityGroupIds: ['sg-9'],
      KeyName: 'swarmup-lab',
    });
  });

  it('the throwaway key ImportKeyPair is asked with is a well-formed OpenSSH ed25519 key, a new one each time', () => {
    const key = throwawayPublicKey();
    expect(key).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=* swarmup-permission-check$/);
    expect(keyFingerprints(key)).toHaveLength(2); // parsed as an ed25519 key of 32 bytes
    expect(throwawayPublicKey()).not.toBe(key);
  });

  it('the report names each denied IAM action once, and up refuses with exit 2 naming them', () => {
    const checks: PermissionCheck[] = [
      { action: 'ec2:RunInstances', call: 'RunInstances', status: 'denied', how: 'dry-run' },
      { action: 'ec2:CreateTags', call: 'RunInstances', status: 'denied', how: 'dry-run' },
      { action: 'ec2:CreateTags', call: 'ImportKeyPair', status: 'denied', how: 'dry-run' },
      { action: 'sts:GetCallerIdentity', call: 'GetCallerIdentity', status: 'allowed', how: 'by-use' },
    ];
    expect(deniedActions(checks)).toEqual(['ec2:RunInstances', 'ec2:CreateTags']);
    expect(renderPermissions(checks)[0]).toBe('permissions: checked (DryRun)');
    expect(renderPermissions(checks)[4]).toMatch(/allowed +sts:GetCallerIdentity +checked by use/);
    expect(() => refuseDenied(checks, 'ec2 permissions')).toThrow(
      expect.objectContaining({
        name: 'InputError',
        exitCode: 2,
        message: expect.stringContaining('denied ec2:RunInstances, ec2:CreateTags; nothing was created'),
      }),
    );
    expect(() => refuseDenied(checks.slice(3), 'ec2 permissions')).not.toThrow();
  });
});

/**
 * A stand-in EC2 for what the emulator cannot do (moto allows every call): an account whose policy denies some
 * calls. Describe calls see a default VPC as AWS makes it; DryRun calls answer per `deny`; every call is recorded.
 */
function account(deny: (name: string, input: Record<string, unknown>) => boolean) {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const fail = (name: string, message: string) => Promise.reject(Object.assign(new Error(message), { name }));
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    calls.push([name, cmd.input]);
    const vpc = (defaultVpcHandlers as Record<string, () => unknown>)[name];
    if (vpc) return vpc();
    if (name === 'DescribeImages')
      return { Images: [{ ImageId: 'ami-0abc', Name: 'ubuntu', RootDeviceName: '/dev/sda1' }] };
    if (name.startsWith('Describe')) return {};
    if (!cmd.input.DryRun) return fail('StandInRefused', `stand-in: ${name} sent without DryRun`);
    if (deny(name, cmd.input))
      return fail(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation. Encoded authorization failure message: SECRET',
      );
    return fail('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
  };
  const api: AwsApi = { ec2: asEc2Client(send), ssm: { send } as never, region: 'eu-west-1' };
  return { api, calls, changes: () => calls.filter(([n, i]) => !n.startsWith('Describe') && !i.DryRun) };
}

function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'ec2-permissions-'));
  process.env.SWARMUP_HOME = home;
  return home;
}

const spec = () =>
  resolveCluster(undefined, {
    name: 'lab',
    provider: 'ec2',
    sshCidr: '203.0.113.7/32',
    ami: 'ami-0abc',
    managers: '1',
    workers: '0',
  });

describe('stand-in: an account that denies some calls', () => {
  it("stand-in: RunInstances denied: up's prepare refuses with exit 2 naming ec2:RunInstances, and creates nothing", async () => {
    const home = freshHome();
    const aws = account((name) => name === 'RunInstances');
    const provider = new Ec2Provider(spec(), new StateStore('lab'), { aws: async () => aws.api, pollMs: 1 });
    const run = provisionAll(provider);
    await expect(run).rejects.toMatchObject({
      name: 'InputError',
      exitCode: 2,
      message: expect.stringContaining('denied ec2:RunInstances; nothing was created'),
    });
    await expect(run).rejects.not.toThrow('SECRET'); // AWS's encoded message is never shown
    expect(aws.changes()).toEqual([]);
    // Asked with tags, then without: denied both ways, so it is the launch itself.
    expect(aws.calls.filter(([n]) => n === 'RunInstances')).toHaveLength(2);
    // Nothing here either: no state, no cluster key, no owner id.
    expect(readdirSync(home)).toEqual([]);
    expect(existsSync(join(home, 'lab'))).toBe(false);
  });

  it('stand-in: only tagging on create denied: the refusal names ec2:CreateTags, not the create calls', async () => {
    freshHome();
    const aws = account((_, i) => i.TagSpecifications !== undefined);
    const provider = new Ec2Provider(spec(), new StateStore('lab'), { aws: async () => aws.api, pollMs: 1 });
    const checks = await provider.checkPermissions();
    expect(deniedActions(checks)).toEqual(['ec2:CreateTags']);
    expect(checks.filter((c) => c.action === 'ec2:RunInstances').map((c) => c.status)).toEqual(['allowed']);
    await expect(provider.prepare(() => undefined)).rejects.toThrow(
      'denied ec2:CreateTags; nothing was created',
    );
    expect(aws.changes()).toEqual([]);
  });

  it('stand-in: a call on a placeholder refused is not checkable, not denied (the policy limits changes to tagged resources)', async () => {
    freshHome();
    const aws = account(
      (name, i) => name === 'TerminateInstances' && (i.InstanceIds as string[])[0] === PLACEHOLDER.instance,
    );
    const provider = new Ec2Provider(spec(), new StateStore('lab'), { aws: async () => aws.api, pollMs: 1 });
    const checks = await provider.checkPermissions();
    expect(deniedActions(checks)).toEqual([]);
    expect(checks.find((c) => c.action === 'ec2:TerminateInstances')).toMatchObject({
      status: 'not-checkable',
    });
  });

  it('stand-in: calls that never answer are not checkable once the deadline passes, and the check still returns', async () => {
    freshHome();
    const aws = account(() => false);
    const send = (
      aws.api.ec2 as unknown as { send: (c: { input: { DryRun?: boolean } }) => Promise<unknown> }
    ).send;
    (aws.api.ec2 as unknown as { send: unknown }).send = (c: { input: { DryRun?: boolean } }) =>
      c.input.DryRun ? new Promise(() => undefined) : send(c);
    const started = Date.now();
    const checks = await checkEc2Permissions(
      aws.api,
      {
        cluster: 'lab',
        resourceName: 'swarmup-lab',
        node: { name: 'lab-manager-1', role: 'manager' },
        ec2: spec().ec2!,
        network: {
          vpcId: 'vpc-1',
          subnets: [{ id: 'subnet-1', zone: 'eu-west-1a', askPublicIp: false }],
          notes: [],
        },
        image: {
          imageId: 'ami-0abc',
          user: 'ubuntu',
          rootDevice: '/dev/sda1',
          family: 'ubuntu',
          engine: { source: 'docker-ce' },
        },
      },
      1000,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    const dry = checks.filter((c) => c.how === 'dry-run');
    expect(dry.length).toBeGreaterThan(9);
    for (const c of dry)
      expect(c, c.call).toMatchObject({
        status: 'not-checkable',
        note: expect.stringContaining('no answer within 1 s'),
      });
  });

  it("stand-in: an endpoint that ignores DryRun is reported, and no call goes to the cluster's own resources", async () => {
    freshHome();
    const aws = account(() => false);
    const send = (aws.api.ec2 as unknown as { send: (c: unknown) => Promise<unknown> }).send;
    const tags = [{ Key: 'swarmup:cluster', Value: 'lab' }];
    (aws.api.ec2 as unknown as { send: unknown }).send = async (c: {
      constructor: { name: string };
      input: Record<string, unknown>;
    }) => {
      const name = c.constructor.name;
      aws.calls.push([name.replace(/Command$/, ''), c.input]);
      if (name === 'DescribeSecurityGroupsCommand')
        return { SecurityGroups: [{ GroupId: 'sg-9', IpPermissions: [], Tags: tags }] };
      if (name === 'DescribeInstancesCommand')
        return {
          Reservations: [
            {
              Instances: [{ InstanceId: 'i-9', State: { Name: 'running' }, Tags: tags }],
            },
          ],
        };
      return name.startsWith('Describe') ? send(c) : {}; // "succeeds": DryRun ignored
    };
    const provider = new Ec2Provider(spec(), new StateStore('lab'), { aws: async () => aws.api, pollMs: 1 });
    await expect(provider.checkPermissions()).rejects.toThrow('this endpoint does not honour DryRun');
    expect(aws.calls.filter(([n]) => n === 'CreateSecurityGroup')).toHaveLength(1);
    for (const call of ['TerminateInstances', 'DeleteSecurityGroup', 'AuthorizeSecurityGroupIngress'])
      expect(
        aws.calls.filter(([n]) => n === call),
        call,
      ).toEqual([]);
  });
});
