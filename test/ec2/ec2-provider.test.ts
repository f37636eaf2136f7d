import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { clusterInstances } from '../support/aws.ts';
import { summaryOf, swarmup, tempHome } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';
import { ownerOf } from '../support/state-homes.ts';

/**
 * The EC2 provider against moto's emulator (the stand-in for AWS): through the real command line, where every run
 * stops at --until provision (the emulator's instances cannot be reached over SSH), and as a provider in this
 * process, machine by machine.
 */
const aws = ec2Emulator();
const { ec2, home } = aws;
const env = aws.env();

const tag = (i: { Tags?: Array<{ Key?: string; Value?: string }> }, k: string) =>
  i.Tags?.find((t) => t.Key === k)?.Value;

const instances = (cluster: string) =>
  clusterInstances(ec2, cluster, ['pending', 'running', 'stopping', 'stopped']);

async function groups(cluster?: string) {
  const r = await ec2.send(
    new DescribeSecurityGroupsCommand(
      cluster ? { Filters: [{ Name: 'tag:swarmup:cluster', Values: [cluster] }] } : {},
    ),
  );
  return r.SecurityGroups ?? [];
}

async function keyPairs(cluster: string) {
  return (
    (
      await ec2.send(
        new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag:swarmup:cluster', Values: [cluster] }] }),
      )
    ).KeyPairs ?? []
  );
}

/** The provider itself, in this process, pointed at the emulator. */
const provider = (name: string, managers: number, workers: number) =>
  aws.provider(name, { managers: String(managers), workers: String(workers) });

const upArgs = (name: string, ...more: string[]) =>
  aws.args('up', name, {}, '--until', 'provision', '--json', ...more);

describe('ec2 provider against the emulator', () => {
  // Every test starts from an empty emulator and an empty state home, with an image the emulator knows.
  aws.freshForEachTest();

  it('creates the security group with exactly the Swarm rules between members and SSH from the given CIDR', async () => {
    const r = await swarmup(upArgs('lab'), env);
    expect(r.code, r.stderr).toBe(0);
    const [sg, ...others] = await groups('lab');
    expect(others).toEqual([]);
    expect(sg!.GroupName).toBe('swarmup-lab');
    const rules = (sg!.IpPermissions ?? [])
      .flatMap((p) => [
        ...(p.UserIdGroupPairs ?? []).map(
          (g) =>
            `${p.IpProtocol} ${p.FromPort}-${p.ToPort} from ${g.GroupId === sg!.GroupId ? 'self' : g.GroupId}`,
        ),
        ...(p.IpRanges ?? []).map((x) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} from ${x.CidrIp}`),
        ...(p.Ipv6Ranges ?? []).map((x) => `${p.IpProtocol} ${p.FromPort}-${p.ToPort} from ${x.CidrIpv6}`),
      ])
      .sort();
    expect(rules).toEqual([
      'tcp 22-22 from 203.0.113.7/32',
      'tcp 2377-2377 from self',
      'tcp 7946-7946 from self',
      'udp 4789-4789 from self',
      'udp 7946-7946 from self',
    ]);
    expect(JSON.stringify(sg!.IpPermissions)).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
  });

  it('launches 3 managers + 2 workers, tagged, managers in three zones; a re-run launches nothing', async () => {
    const r = await swarmup(upArgs('lab'), env);
    expect(r.code, r.stderr).toBe(0);
    const list = await instances('lab');
    expect(list.map((i) => [tag(i, 'Name'), tag(i, 'swarmup:role')]).sort()).toEqual([
      ['lab-manager-1', 'manager'],
      ['lab-manager-2', 'manager'],
      ['lab-manager-3', 'manager'],
      ['lab-worker-1', 'worker'],
      ['lab-worker-2', 'worker'],
    ]);
    const managerZones = list
      .filter((i) => tag(i, 'swarmup:role') === 'manager')
      .map((i) => i.Placement?.AvailabilityZone);
    expect(new Set(managerZones).size).toBe(3);
    for (const i of list) {
      expect(i.KeyName).toBe('swarmup-lab');
      expect(i.InstanceType).toBe('t3.small');
    }
    expect((await keyPairs('lab')).map((k) => k.KeyName)).toEqual(['swarmup-lab']);

    const again = await swarmup(upArgs('lab'), env);
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
    expect((await instances('lab')).map((i) => i.InstanceId).sort()).toEqual(
      list.map((i) => i.InstanceId).sort(),
    );
  });

  it('a re-run with --encrypted-overlay adds ESP and keeps the rules that exist', async () => {
    const made = await swarmup(upArgs('lab'), env);
    expect(made.code, made.stderr).toBe(0);
    const r = await swarmup(upArgs('lab', '--encrypted-overlay'), env);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBe(1);
    const perms = (await groups('lab'))[0]!.IpPermissions ?? [];
    expect(perms.some((p) => p.IpProtocol === '50')).toBe(true);
    expect(perms.filter((p) => p.FromPort === 2377)).toHaveLength(1);
  });

  it('with --bastion and no --ssh-cidr, SSH is opened only from inside the VPC', async () => {
    const r = await swarmup(
      [
        'up',
        '--provider',
        'ec2',
        '--name',
        'behind',
        '--until',
        'provision',
        '--bastion',
        'ops@198.51.100.10',
        '--ami',
        aws.ami,
        '--managers',
        '1',
        '--workers',
        '0',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const vpc = (
      await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))
    ).Vpcs![0]!;
    const ssh = ((await groups('behind'))[0]!.IpPermissions ?? []).filter((p) => p.FromPort === 22);
    expect(ssh.flatMap((p) => (p.IpRanges ?? []).map((x) => x.CidrIp))).toEqual([vpc.CidrBlock]);
  });

  it('refuses SSH from the whole internet unless asked by name, creating nothing', async () => {
    const r = await swarmup(aws.args('up', 'open', { sshCidr: '0.0.0.0/0' }, '--until', 'provision'), env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--ssh-cidr: 0\.0\.0\.0\/0 would open SSH to the whole internet; pass --allow-ssh-from-anywhere/,
    );
    expect(await groups('open')).toEqual([]);
    const ok = await swarmup(
      aws.args(
        'up',
        'open',
        { sshCidr: '0.0.0.0/0' },
        '--until',
        'provision',
        '--allow-ssh-from-anywhere',
        '--managers',
        '1',
        '--workers',
        '0',
      ),
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("a changed --ssh-cidr revokes swarmup's SSH rule for the old CIDR; a rule added by hand and the Swarm rules stay", async () => {
    const up = (cidr: string) =>
      swarmup(
        aws.args(
          'up',
          'lab',
          { sshCidr: cidr },
          '--until',
          'provision',
          '--managers',
          '1',
          '--workers',
          '0',
          '--json',
        ),
        env,
      );
    const a = await up('203.0.113.7/32,2001:db8:a::/48');
    expect(a.code, a.stderr).toBe(0);
    const sg = (await groups('lab'))[0]!;
    // Someone opens SSH from their own address by hand (no description).
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg.GroupId!,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.5/32' }] },
        ],
      }),
    );
    const b = await up('198.51.100.0/24');
    expect(b.code, b.stderr).toBe(0);
    expect(summaryOf(b).changes).toBe(2); // one rule added, one revoke (v4 and v6 together)
    const perms = (await groups('lab'))[0]!.IpPermissions ?? [];
    const ssh = perms.filter((p) => p.FromPort === 22);
    // The emulator returns each range's Description, as AWS does.
    expect(
      ssh
        .flatMap((p) => [
          ...(p.IpRanges ?? []).map((r) => `${r.CidrIp} ${r.Description ?? '-'}`),
          ...(p.Ipv6Ranges ?? []).map((r) => `${r.CidrIpv6} ${r.Description ?? '-'}`),
        ])
        .sort(),
    ).toEqual(['192.0.2.5/32 -', '198.51.100.0/24 ssh for swarmup']);
    expect(perms.filter((p) => p.UserIdGroupPairs?.some((g) => g.GroupId === sg.GroupId))).toHaveLength(4);
    // Nothing more to do on a re-run with the same CIDR.
    const again = await up('198.51.100.0/24');
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
  });

  it("refuses a key pair of the cluster's name that is not the local key, before creating anything", async () => {
    const up = () => swarmup(upArgs('lab', '--managers', '1', '--workers', '0'), env);
    const made = await up();
    expect(made.code, made.stderr).toBe(0);
    // The same key again: the emulator's fingerprint of it is recognised.
    const same = await up();
    expect(same.code, same.stderr).toBe(0);
    const before = (await keyPairs('lab'))[0]!.KeyFingerprint;
    // The local key is lost (another machine, a wiped home): a new one is made, unlike the key pair in EC2.
    rmSync(join(home, 'lab', 'id_ed25519'));
    rmSync(join(home, 'lab', 'id_ed25519.pub'));
    await ec2.send(
      new TerminateInstancesCommand({ InstanceIds: (await instances('lab')).map((i) => i.InstanceId!) }),
    );
    const r = await up();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key pair swarmup-lab in eu-west-1 does not match the cluster's own key/);
    expect(r.stderr).toMatch(
      /delete the key pair swarmup-lab in eu-west-1 .*or run "swarmup down --name lab"/,
    );
    expect(await instances('lab')).toEqual([]);
    expect((await keyPairs('lab')).map((k) => k.KeyFingerprint)).toEqual([before]);
  });

  it('missing region or credentials: exit 2 saying what to set', async () => {
    const noRegion = { ...env, AWS_REGION: '' };
    const r = await swarmup(
      ['up', '--provider', 'ec2', '--name', 'x', '--ssh-cidr', '203.0.113.7/32', '--until', 'provision'],
      noRegion,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no AWS region: pass --region, set AWS_REGION/);
    const noCreds = { ...env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    const c = await swarmup(
      ['up', '--provider', 'ec2', '--name', 'x', '--ssh-cidr', '203.0.113.7/32', '--until', 'provision'],
      noCreds,
    );
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/no AWS credentials .*AWS_ACCESS_KEY_ID/);
    expect(await groups('x')).toEqual([]);
  });

  it('down leaves no tagged instance, volume, security group or key pair, and no state', async () => {
    const made = await swarmup(upArgs('lab'), env);
    expect(made.code, made.stderr).toBe(0);
    const volumesOf = async () =>
      (
        await ec2.send(
          new DescribeVolumesCommand({ Filters: [{ Name: 'tag:swarmup:cluster', Values: ['lab'] }] }),
        )
      ).Volumes?.filter((v) => v.State !== 'deleted') ?? [];
    expect((await volumesOf()).length).toBeGreaterThan(0); // the root volumes are tagged at launch
    const r = await swarmup(['down', '--name', 'lab', '--yes', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await instances('lab')).toEqual([]);
    expect(await groups('lab')).toEqual([]);
    expect(await keyPairs('lab')).toEqual([]);
    expect(await volumesOf()).toEqual([]);
    expect(existsSync(join(home, 'lab'))).toBe(false);
  });

  it('down looks where the cluster was made: another --region is refused, the shell region is not followed', async () => {
    const made = await swarmup(upArgs('lab'), env);
    expect(made.code, made.stderr).toBe(0);
    const elsewhere = await swarmup(['down', '--name', 'lab', '--yes', '--region', 'us-east-1'], env);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('cluster lab was made in eu-west-1');
    expect(await instances('lab')).toHaveLength(5);
    expect(existsSync(join(home, 'lab', 'state.json'))).toBe(true);
    // A shell whose region differs: the recorded region is used, not the shell's.
    const r = await swarmup(['down', '--name', 'lab', '--yes'], { ...env, AWS_REGION: 'us-east-1' });
    expect(r.code, r.stderr).toBe(0);
    expect(await instances('lab')).toEqual([]);
    expect(existsSync(join(home, 'lab'))).toBe(false);
  });

  it('down with credentials of another AWS account than the one the cluster was made in is refused, nothing deleted', async () => {
    const made = await swarmup(upArgs('lab', '--managers', '1', '--workers', '0'), env);
    expect(made.code, made.stderr).toBe(0);
    const statePath = join(home, 'lab', 'state.json');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { account?: string };
    expect(state.account).toMatch(/^\d{12}$/); // recorded at up, from STS
    // As if the cluster had been made with another account's credentials than the ones in use now.
    writeFileSync(statePath, JSON.stringify({ ...state, account: '210987654321' }));
    const r = await swarmup(['down', '--name', 'lab', '--yes'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `cluster lab was made in AWS account 210987654321, but these credentials are of account ${state.account}`,
    );
    expect(await instances('lab')).toHaveLength(1);
    writeFileSync(statePath, JSON.stringify(state));
    expect((await swarmup(['down', '--name', 'lab', '--yes'], env)).code).toBe(0);
  });

  it('down that finds nothing exits 1, says where it looked and keeps the state (and the key)', async () => {
    const made = await swarmup(upArgs('lab', '--managers', '1', '--workers', '0'), env);
    expect(made.code, made.stderr).toBe(0);
    // Everything deleted behind swarmup's back.
    await provider('lab', 1, 0).removeAll(() => undefined);
    const r = await swarmup(['down', '--name', 'lab', '--yes'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing of this cluster found at EC2 region eu-west-1');
    expect(existsSync(join(home, 'lab', 'state.json'))).toBe(true);
    expect(existsSync(join(home, 'lab', 'id_ed25519'))).toBe(true);
  });

  it('cleanup deletes orphaned clusters only, never an untagged look-alike; --name takes one cluster', async () => {
    expect((await swarmup(upArgs('orphan', '--managers', '1', '--workers', '0'), env)).code).toBe(0);
    expect((await swarmup(upArgs('kept', '--managers', '1', '--workers', '0'), env)).code).toBe(0);
    rmSync(join(home, 'orphan'), { recursive: true }); // its local state is gone: an orphan
    const vpc = (
      await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))
    ).Vpcs![0]!.VpcId;
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'swarmup-orphan-lookalike',
        Description: 'not ours',
        VpcId: vpc,
      }),
    );

    const dry = await swarmup(['cleanup', '--provider', 'ec2', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/\* eu-west-1 {2}orphan: 1 instance/);
    expect(dry.stdout).toMatch(/ {2}eu-west-1 {2}kept: 1 instance/);
    expect(await instances('orphan')).toHaveLength(1);

    const noYes = await swarmup(['cleanup', '--provider', 'ec2'], env);
    expect(noYes.code).toBe(2);
    expect(await instances('orphan')).toHaveLength(1);

    const r = await swarmup(['cleanup', '--provider', 'ec2', '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await instances('orphan')).toEqual([]);
    expect(await groups('orphan')).toEqual([]);
    expect(await keyPairs('orphan')).toEqual([]);
    expect(await instances('kept')).toHaveLength(1);
    expect((await groups()).map((g) => g.GroupName)).toContain('swarmup-orphan-lookalike');

    const named = await swarmup(['cleanup', '--provider', 'ec2', '--name', 'kept', '--yes'], env);
    expect(named.code, named.stderr).toBe(0);
    expect(await instances('kept')).toEqual([]);
    expect(await groups('kept')).toEqual([]);
    expect((await groups()).map((g) => g.GroupName)).toContain('swarmup-orphan-lookalike');
  });

  it("cleanup without --name deletes only this state home's orphans; another owner's are listed and spared, --any-owner selects them", async () => {
    const otherHome = tempHome();
    const otherEnv = aws.env(otherHome);
    expect((await swarmup(upArgs('mine', '--managers', '1', '--workers', '0'), env)).code).toBe(0);
    const theirsUp = await swarmup(upArgs('theirs', '--managers', '1', '--workers', '0'), otherEnv);
    expect(theirsUp.code, theirsUp.stderr).toBe(0);
    rmSync(join(home, 'mine'), { recursive: true });
    rmSync(join(otherHome, 'theirs'), { recursive: true });
    const mine = ownerOf(home);
    const theirs = ownerOf(otherHome);
    expect(mine).toMatch(/^[0-9a-f]{12}$/);
    expect(theirs).not.toBe(mine);
    expect(statSync(join(home, 'owner')).mode & 0o777).toBe(0o600);
    // Every tagged resource carries its home's owner.
    for (const [cluster, owner] of [
      ['mine', mine],
      ['theirs', theirs],
    ] as const) {
      const [i] = await instances(cluster);
      expect(tag(i!, 'swarmup:owner')).toBe(owner);
      expect((await groups(cluster)).map((g) => tag(g, 'swarmup:owner'))).toEqual([owner]);
      expect((await keyPairs(cluster)).map((k) => tag(k, 'swarmup:owner'))).toEqual([owner]);
      const vols = await ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: 'tag:swarmup:cluster', Values: [cluster] }] }),
      );
      for (const v of vols.Volumes ?? []) expect(tag(v, 'swarmup:owner')).toBe(owner);
    }

    const dry = await swarmup(['cleanup', '--provider', 'ec2', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(`^\\* eu-west-1 {2}mine: 1 instance.*\\[owner ${mine}: this state home\\]$`, 'm'),
    );
    expect(dry.stdout).toMatch(
      new RegExp(`^ {2}eu-west-1 {2}theirs: 1 instance.*\\[owner ${theirs}: another state home\\]$`, 'm'),
    );
    expect(dry.stdout).toContain(
      '1 orphan of another owner (or of none) not selected: --any-owner selects it',
    );

    const any = await swarmup(['cleanup', '--provider', 'ec2', '--any-owner', '--dry-run'], env);
    expect(any.code, any.stderr).toBe(0);
    expect(any.stdout).toMatch(/^\* eu-west-1 {2}mine: /m);
    expect(any.stdout).toMatch(/^\* eu-west-1 {2}theirs: .*another state home\]$/m);

    const r = await swarmup(['cleanup', '--provider', 'ec2', '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await instances('mine')).toEqual([]);
    expect(await groups('mine')).toEqual([]);
    expect(await keyPairs('mine')).toEqual([]);
    expect(await instances('theirs')).toHaveLength(1);
    expect(await groups('theirs')).toHaveLength(1);
    expect(await keyPairs('theirs')).toHaveLength(1);

    const all = await swarmup(['cleanup', '--provider', 'ec2', '--any-owner', '--yes'], env);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(
      /^deleting \(orphans of every owner: --any-owner\):\n\* eu-west-1 {2}theirs: /m,
    );
    expect(await instances('theirs')).toEqual([]);
    expect(await groups('theirs')).toEqual([]);
    expect(await keyPairs('theirs')).toEqual([]);
    rmSync(otherHome, { recursive: true, force: true });
  });

  it('up --until provision after a worker was terminated out of band launches a tagged replacement', async () => {
    const made = await swarmup(upArgs('lab'), env);
    expect(made.code, made.stderr).toBe(0);
    const [old] = await aws.named('lab', 'lab-worker-1');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old!.InstanceId!] }));

    const r = await swarmup(upArgs('lab'), env);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBeGreaterThanOrEqual(1);
    const list = await instances('lab');
    expect(list.map((i) => [tag(i, 'Name'), tag(i, 'swarmup:role')]).sort()).toEqual([
      ['lab-manager-1', 'manager'],
      ['lab-manager-2', 'manager'],
      ['lab-manager-3', 'manager'],
      ['lab-worker-1', 'worker'],
      ['lab-worker-2', 'worker'],
    ]);
    const replacement = list.find((i) => tag(i, 'Name') === 'lab-worker-1')!;
    expect(replacement.InstanceId).not.toBe(old!.InstanceId);
    expect(replacement.State?.Name).toBe('running');
  });
});

describe('ec2 provider, machine by machine, against the emulator', () => {
  // Every test starts from an empty emulator and an empty state home, with an image the emulator knows.
  aws.freshForEachTest();

  it('list() of a cluster that does not exist creates nothing, here or in AWS', async () => {
    expect(await provider('ghost', 1, 1).list()).toEqual([]);
    expect(existsSync(join(home, 'ghost'))).toBe(false);
    expect(await keyPairs('ghost')).toEqual([]);
    expect(await groups('ghost')).toEqual([]);
  });

  it('a worker terminated out of band is replaced by a tagged instance', async () => {
    const first = await provisionAll(provider('lab', 1, 2));
    expect(first.created).toBe(3);
    expect(first.machines.map((m) => m.name)).toEqual(['lab-manager-1', 'lab-worker-1', 'lab-worker-2']);
    const [old] = await aws.named('lab', 'lab-worker-1');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old!.InstanceId!] }));
    expect((await provider('lab', 1, 2).list()).map((m) => [m.name, m.state])).toEqual([
      ['lab-manager-1', 'running'],
      ['lab-worker-2', 'running'],
    ]);

    const again = await provisionAll(provider('lab', 1, 2));
    expect(again.created).toBe(1);
    expect(again.machines.map((m) => m.name)).toEqual(['lab-manager-1', 'lab-worker-1', 'lab-worker-2']);
    const live = (await aws.named('lab', 'lab-worker-1')).filter((i) => i.State?.Name === 'running');
    expect(live).toHaveLength(1);
    const replacement = live[0]!;
    expect(replacement.InstanceId).not.toBe(old!.InstanceId);
    expect(tag(replacement, 'swarmup:cluster')).toBe('lab');
    expect(tag(replacement, 'swarmup:role')).toBe('worker');
    expect(replacement.KeyName).toBe('swarmup-lab');
    // Its own launch token: the node's next life, recorded before the launch.
    expect(replacement.ClientToken).not.toBe(old!.ClientToken);
    expect(new StateStore('lab').read()?.lives).toEqual({ 'lab-worker-1': 1 });
    // Placed where its predecessor was: the slot's zone.
    expect(replacement.Placement?.AvailabilityZone).toBe(old!.Placement?.AvailabilityZone);
    expect(await instances('lab')).toHaveLength(3);
  });

  it('remove(name) terminates only that node', async () => {
    await provisionAll(provider('lab', 1, 2));
    const before = await instances('lab');
    const gone = before.find((i) => tag(i, 'Name') === 'lab-worker-2')!;
    await provider('lab', 1, 2).remove('lab-worker-2', () => undefined);
    const after = await instances('lab');
    expect(after.map((i) => i.InstanceId).sort()).toEqual(
      before
        .filter((i) => i !== gone)
        .map((i) => i.InstanceId)
        .sort(),
    );
    expect((await aws.named('lab', 'lab-worker-2')).map((i) => i.State?.Name)).toEqual(['terminated']);
    expect((await provider('lab', 1, 2).list()).map((m) => m.name)).toEqual([
      'lab-manager-1',
      'lab-worker-1',
    ]);
    // The cluster's shared resources stay.
    expect(await groups('lab')).toHaveLength(1);
    expect(await keyPairs('lab')).toHaveLength(1);
  });

  it('a stopped instance is listed stopped and started again, not replaced', async () => {
    await provisionAll(provider('lab', 1, 0));
    const [m] = await aws.named('lab', 'lab-manager-1');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [m!.InstanceId!] }));
    expect((await provider('lab', 1, 0).list()).map((x) => [x.name, x.state])).toEqual([
      ['lab-manager-1', 'stopped'],
    ]);
    const again = await provisionAll(provider('lab', 1, 0));
    expect(again.created).toBe(1);
    expect((await aws.named('lab', 'lab-manager-1')).map((i) => [i.InstanceId, i.State?.Name])).toEqual([
      [m!.InstanceId, 'running'],
    ]);
  });

  it('removeAll() leaves no tagged instance, security group or key pair', async () => {
    await provisionAll(provider('lab', 1, 1));
    const r = await provider('lab', 1, 1).removeAll(() => undefined);
    expect(r.removed.some((x) => x.startsWith('security group swarmup-lab'))).toBe(true);
    expect(await instances('lab')).toEqual([]);
    expect(await groups('lab')).toEqual([]);
    expect(await keyPairs('lab')).toEqual([]);
  });
});
