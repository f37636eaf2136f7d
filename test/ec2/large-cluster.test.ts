import { DescribeKeyPairsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import { recordCalls } from '../support/aws.ts';
import { summaryOf, swarmup } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * Past 100 (issue #22): 3 managers + 997 workers on EC2, against moto's emulator (the stand-in for AWS), through the
 * real command line up to `--until provision` (the emulator's instances cannot be reached over SSH). What real AWS
 * would throttle (one RunInstances per node: its request bucket holds 5 and refills 2 a second) is one launch per
 * zone and role here; what moto pages (DescribeInstances, 100 reservations a page) is read to the end.
 */
const aws = ec2Emulator();
const env = aws.env();

const tag = (i: { Tags?: Array<{ Key?: string; Value?: string }> }, k: string) =>
  i.Tags?.find((t) => t.Key === k)?.Value;

describe('ec2: 1000 nodes against the emulator', () => {
  aws.freshForEachTest();

  it('up --until provision of 3+997 launches 1000 tagged instances over the zones in one launch per zone and role; a re-run launches none; down leaves nothing tagged', async () => {
    const started = Date.now();
    let r!: Awaited<ReturnType<typeof swarmup>>;
    const calls = await recordCalls(aws.url, async () => {
      r = await swarmup(
        aws.args('up', 'big', {}, '--managers', '3', '--workers', '997', '--until', 'provision', '--json'),
        env,
      );
    });
    const upMs = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    const live = await aws.instances('big', ['pending', 'running']);
    expect(live).toHaveLength(1000);
    // Every instance carries the cluster's tags, its own Name and its role.
    const names = live.map((i) => tag(i, 'Name'));
    expect(new Set(names).size).toBe(1000);
    expect(names.filter((n) => n?.startsWith('big-manager-'))).toHaveLength(3);
    for (const i of live) {
      expect(tag(i, 'swarmup:owner')).toMatch(/.+/);
      expect(tag(i, 'swarmup:role')).toBe(tag(i, 'Name')!.includes('-manager-') ? 'manager' : 'worker');
    }
    // Spread over the region's three zones: the managers one each, the workers 332-333 each.
    const byZone = new Map<string, string[]>();
    for (const i of live)
      byZone.set(i.Placement!.AvailabilityZone!, [
        ...(byZone.get(i.Placement!.AvailabilityZone!) ?? []),
        tag(i, 'swarmup:role')!,
      ]);
    expect([...byZone.keys()].sort()).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    for (const roles of byZone.values()) {
      expect(roles.filter((x) => x === 'manager')).toHaveLength(1);
      expect(roles.filter((x) => x === 'worker').length).toBeGreaterThanOrEqual(332);
    }
    // One RunInstances per zone and role (not one per node; the permission check's DryRun launches nothing), each
    // tagging its instances as it makes them.
    const launches = calls.filter((c) => c.action === 'RunInstances' && c.params.get('DryRun') !== 'true');
    expect(launches).toHaveLength(6);
    expect(launches.reduce((n, l) => n + Number(l.params.get('MaxCount')), 0)).toBe(1000);
    for (const l of launches) {
      expect(l.params.get('TagSpecification.1.ResourceType')).toBe('instance');
      expect(l.params.get('TagSpecification.1.Tag.1.Key')).toBe('swarmup:cluster');
      expect(l.params.get('TagSpecification.1.Tag.1.Value')).toBe('big');
    }

    const againStarted = Date.now();
    let again!: Awaited<ReturnType<typeof swarmup>>;
    // What the re-run sent, as the emulator received it: it reads, it launches, names and removes nothing (a
    // listing of the 1000 instances costs the emulator seconds: the calls say it more cheaply than a listing).
    const againCalls = await recordCalls(aws.url, async () => {
      again = await swarmup(
        aws.args('up', 'big', {}, '--managers', '3', '--workers', '997', '--until', 'provision', '--json'),
        env,
      );
    });
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
    const changing = againCalls.filter(
      (c) => !c.action.startsWith('Describe') && c.params.get('DryRun') !== 'true',
    );
    expect(changing.map((c) => c.action).filter((a) => a !== 'GetCallerIdentity')).toEqual([]);
    const againMs = Date.now() - againStarted;
    const downStarted = Date.now();
    const down = await swarmup(['down', '--name', 'big', '--yes', '--json'], env);
    const downMs = Date.now() - downStarted;
    expect(down.code, down.stderr).toBe(0);
    expect(await aws.instances('big', ['pending', 'running', 'stopping', 'stopped'])).toEqual([]);
    const filter = [{ Name: 'tag:swarmup:cluster', Values: ['big'] }];
    expect(
      (await aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filter }))).SecurityGroups,
    ).toEqual([]);
    expect((await aws.ec2.send(new DescribeKeyPairsCommand({ Filters: filter }))).KeyPairs).toEqual([]);
    console.log(
      `3+997 against moto: up --until provision ${upMs} ms, re-run ${againMs} ms, down ${downMs} ms, ` +
        `whole test ${Date.now() - started} ms (load average ${loadavg()[0]!.toFixed(1)})`,
    );
  }, 300_000);
});
