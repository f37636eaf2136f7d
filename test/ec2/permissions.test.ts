import { existsSync, readdirSync } from 'node:fs';
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { throwawayPublicKey } from '../../src/providers/ec2/permission-check.ts';
import { dryRunProbes } from '../../src/providers/ec2/permissions.ts';
import type { PermissionCheck } from '../../src/providers/permission-report.ts';
import { recordCalls } from '../support/aws.ts';
import { swarmup } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * The DryRun permission check against moto's emulator, through the real command line. moto (5.2.1) answers every
 * one of these calls sent with DryRun with DryRunOperation (HTTP 412), before it validates any id: it has no IAM
 * policies to refuse with, so here every check is "allowed", and a placeholder id is answered like a real one.
 * Denials are covered by the stand-in tests in test/unit/ec2-permissions.test.ts.
 */
const aws = ec2Emulator();
const { ec2, home, url } = aws;
const env = aws.env();

async function everything() {
  const instances = (await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [];
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const keys = (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
  return {
    instances: instances.flatMap((r) => r.Instances ?? []).map((i) => `${i.InstanceId} ${i.State?.Name}`),
    groups: groups
      .filter((g) => g.GroupName !== 'default')
      .map((g) => `${g.GroupName} ${JSON.stringify(g.IpPermissions)}`),
    keys: keys.map((k) => k.KeyName),
  };
}

/** Every change swarmup makes in EC2, each asked with DryRun. */
const DRY_RUN_ACTIONS = [
  'ec2:AuthorizeSecurityGroupIngress',
  'ec2:CreateSecurityGroup',
  'ec2:CreateTags',
  'ec2:DeleteKeyPair',
  'ec2:DeleteSecurityGroup',
  'ec2:DeleteVolume',
  'ec2:ImportKeyPair',
  'ec2:RevokeSecurityGroupIngress',
  'ec2:RunInstances',
  'ec2:StartInstances',
  'ec2:StopInstances',
  'ec2:TerminateInstances',
];

const permissionsOf = (events: Array<Record<string, unknown>>) =>
  (events.find((e) => e.event === 'plan')?.permissions ?? []) as PermissionCheck[];

describe('permission check (DryRun) against the emulator', () => {
  aws.freshForEachTest();

  it('moto answers each DryRun call with DryRunOperation (412), placeholders included, and makes nothing', async () => {
    const vpc = (
      await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))
    ).Vpcs![0]!;
    const subnet = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))
    ).Subnets![0]!;
    const probes = dryRunProbes({
      cluster: 'lab',
      resourceName: 'swarmup-lab',
      owner: 'abc123',
      node: { name: 'lab-manager-1', role: 'manager' },
      vpcId: vpc.VpcId!,
      subnetId: subnet.SubnetId!,
      image: { imageId: aws.ami, rootDevice: '/dev/sda1' },
      instanceType: 't3.small',
      diskGiB: 20,
      publicKey: throwawayPublicKey(),
    });
    const answers: Record<string, string> = {};
    for (const p of probes) {
      for (const tags of p.tagsOnCreate ? [true, false] : [false]) {
        const err = await ec2.send(p.command(tags) as never).then(
          () => ({ name: 'no error', $metadata: { httpStatusCode: 200 } }),
          (e: { name: string; $metadata: { httpStatusCode: number } }) => e,
        );
        answers[`${p.call}${tags ? ' (tags)' : ''}`] = `${err.name} ${err.$metadata.httpStatusCode}`;
      }
    }
    expect(answers).toEqual({
      'CreateSecurityGroup (tags)': 'DryRunOperation 412',
      CreateSecurityGroup: 'DryRunOperation 412',
      'ImportKeyPair (tags)': 'DryRunOperation 412',
      ImportKeyPair: 'DryRunOperation 412',
      'RunInstances (tags)': 'DryRunOperation 412',
      RunInstances: 'DryRunOperation 412',
      AuthorizeSecurityGroupIngress: 'DryRunOperation 412',
      RevokeSecurityGroupIngress: 'DryRunOperation 412',
      CreateTags: 'DryRunOperation 412',
      StartInstances: 'DryRunOperation 412',
      StopInstances: 'DryRunOperation 412',
      TerminateInstances: 'DryRunOperation 412',
      DeleteVolume: 'DryRunOperation 412',
      DeleteSecurityGroup: 'DryRunOperation 412',
      DeleteKeyPair: 'DryRunOperation 412',
    });
    expect(await everything()).toEqual({ instances: [], groups: [], keys: [] });
  });

  it('plan --provider ec2 reports "permissions: checked (DryRun)" and creates nothing, in AWS or locally', async () => {
    const text = await swarmup(aws.args('plan', 'lab'), env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('permissions: checked (DryRun)');
    expect(text.stdout).toMatch(/allowed +ec2:RunInstances +RunInstances \(DryRun, with TagSpecifications\)/);
    expect(text.stdout).toMatch(/allowed +sts:GetCallerIdentity +checked by use/);

    const json = await swarmup(aws.args('plan', 'lab', {}, '--json'), env);
    expect(json.code, json.stderr).toBe(0);
    const checks = permissionsOf(json.events);
    const dry = checks.filter((c) => c.how === 'dry-run');
    expect([...new Set(dry.map((c) => c.action))].sort()).toEqual(DRY_RUN_ACTIONS);
    for (const c of dry) expect(c.status, c.call).toBe('allowed');
    expect(checks.find((c) => c.action === 'sts:GetCallerIdentity')).toMatchObject({
      how: 'by-use',
      status: 'allowed',
    });
    expect(checks.find((c) => c.action === 'ssm:GetParameter')).toMatchObject({
      note: 'not called: --ami is given',
    });

    expect(await everything()).toEqual({ instances: [], groups: [], keys: [] });
    // Nothing written here either: no cluster folder, no key, no owner id (up would make those).
    expect(existsSync(home) ? readdirSync(home) : []).toEqual([]);
  });

  it('once the cluster exists, the checks go to its own resources, and DryRun leaves them as they are', async () => {
    const up = await swarmup(
      aws.args('up', 'lab', {}, '--until', 'provision', '--json', '--managers', '1', '--workers', '0'),
      env,
    );
    expect(up.code, up.stderr).toBe(0);
    // up announced the check in its plan event, before its first change: every change asked, every one allowed.
    const dryRun = (checks: PermissionCheck[]) =>
      checks.filter((c) => c.how === 'dry-run').map((c) => `${c.status} ${c.action}`);
    expect(new Set(dryRun(permissionsOf(up.events)))).toEqual(
      new Set(DRY_RUN_ACTIONS.map((a) => `allowed ${a}`)),
    );
    const before = await everything();
    expect(before.instances).toHaveLength(1);
    expect(before.instances[0]).toMatch(/ running$/);
    const [instance] = await aws.instances('lab');
    const own = {
      instance: instance!.InstanceId!,
      volume: instance!.BlockDeviceMappings![0]!.Ebs!.VolumeId!,
      group: instance!.SecurityGroups![0]!.GroupId!,
      key: instance!.KeyName!,
    };

    // --until provision: the emulator's instances cannot be reached over SSH. What plan sent is what the emulator
    // received: every DryRun call on a resource names the cluster's own one.
    let plan: Awaited<ReturnType<typeof swarmup>> | undefined;
    const calls = await recordCalls(url, async () => {
      plan = await swarmup(aws.args('plan', 'lab', {}, '--until', 'provision', '--json'), env);
    });
    expect(plan!.code, plan!.stderr).toBe(0);
    const dry = calls.filter((c) => c.params.get('DryRun') === 'true');
    const sent = (action: string, param: string) =>
      dry.filter((c) => c.action === action).map((c) => c.params.get(param));
    for (const action of ['StartInstances', 'StopInstances', 'TerminateInstances'])
      expect(sent(action, 'InstanceId.1'), action).toEqual([own.instance]);
    for (const action of [
      'AuthorizeSecurityGroupIngress',
      'RevokeSecurityGroupIngress',
      'DeleteSecurityGroup',
    ])
      expect(sent(action, 'GroupId'), action).toEqual([own.group]);
    expect(sent('DeleteVolume', 'VolumeId')).toEqual([own.volume]);
    expect(sent('DeleteKeyPair', 'KeyName')).toEqual([own.key]);
    // The launch is asked with the cluster's group and key pair (with tags, and nothing else was needed).
    expect(sent('RunInstances', 'SecurityGroupId.1')).toEqual([own.group]);
    expect(sent('RunInstances', 'KeyName')).toEqual([own.key]);
    const checks = permissionsOf(plan!.events);
    expect(checks.find((c) => c.action === 'ec2:RunInstances')).toMatchObject({ status: 'allowed' });
    expect(checks.find((c) => c.action === 'ec2:RunInstances')).not.toHaveProperty('note');
    expect(new Set(dryRun(checks))).toEqual(new Set(DRY_RUN_ACTIONS.map((a) => `allowed ${a}`)));
    expect(await everything()).toEqual(before);
  });
});
