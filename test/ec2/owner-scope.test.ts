import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterLock } from '../../src/state/lock.ts';
import { ensureOwner } from '../../src/state/owner.ts';
import { StateStore } from '../../src/state/store.ts';
import { labelled, swarmup } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';
import { ownerOf, twoStateHomes } from '../support/state-homes.ts';

/**
 * Two state homes against one EC2 account (the emulator): what one home's down, listing and up select is its own
 * (tag swarmup:owner); and a cleanup of another provider's namesake never takes a live EC2 cluster's record.
 */
const RUN = String(process.pid);
const aws = ec2Emulator();
const { homeA, homeB, envA, envB, remove } = twoStateHomes((home) => aws.env(home), aws.home);

const upArgs = (name: string) =>
  aws.args('up', name, {}, '--managers', '1', '--workers', '0', '--until', 'provision');
const live = (cluster: string) => aws.instances(cluster, ['pending', 'running', 'stopping', 'stopped']);

/** The provider in this process, in the given state home, pointed at the emulator. */
function providerIn(home: string, name: string) {
  process.env.SWARMUP_HOME = home;
  return aws.provider(name, { managers: '1', workers: '0' });
}

describe('EC2: destructive commands select only what this state home made', () => {
  aws.freshForEachTest([homeB]);
  afterAll(remove);

  it("down and the machine listing from another state home select nothing of this home's cluster; up of its name is refused", async () => {
    const up = await swarmup(upArgs('lab'), envA);
    expect(up.code, up.stderr).toBe(0);
    const [instance] = await live('lab');
    expect(instance).toBeDefined();
    const ownerA = ownerOf(homeA);

    // Home B has an owner of its own (it made something before).
    process.env.SWARMUP_HOME = homeB;
    const ownerB = ensureOwner();
    expect(ownerB).not.toBe(ownerA);
    const down = await swarmup(['down', '--provider', 'ec2', '--name', 'lab', '--yes'], envB);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('nothing of this cluster found at EC2 region eu-west-1');
    expect((await live('lab')).map((i) => i.InstanceId)).toEqual([instance!.InstanceId]);

    // Another home's provider lists, reaches and removes nothing of A's.
    const b = providerIn(homeB, 'lab');
    expect(await b.list()).toEqual([]);
    expect(await b.removable()).toEqual([]);
    expect(await b.removeAll(() => undefined)).toEqual({ removed: [] });
    expect(await b.reach()).toEqual([]);
    const again = await swarmup(upArgs('lab'), envB);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(
        `key pair swarmup-lab \\(key-[0-9a-f]+\\): cluster lab of owner ${ownerA}: another state home`,
      ),
    );
    expect(again.stderr).toContain(`security group swarmup-lab (sg-`);
    expect(existsSync(join(homeB, 'lab'))).toBe(false);
    expect(await providerIn(homeB, 'lab').list()).toEqual([]);
    expect((await live('lab')).map((i) => i.InstanceId)).toEqual([instance!.InstanceId]);

    // The home that made it lists and removes it as before.
    const a = providerIn(homeA, 'lab');
    expect((await a.list()).map((m) => m.name)).toEqual(['lab-manager-1']);
    const mine = await swarmup(['down', '--name', 'lab', '--yes'], envA);
    expect(mine.code, mine.stderr).toBe(0);
    expect(await live('lab')).toEqual([]);
    expect(existsSync(join(homeA, 'lab'))).toBe(false);
  });

  it("cleanup of another owner's docker namesake keeps this home's live EC2 record (its only key)", async () => {
    const name = `e2e-rec-${RUN}`;
    const made = await swarmup(upArgs(name), envA);
    expect(made.code, made.stderr).toBe(0);
    // Another state home's docker cluster of the same name, on this machine's engine.
    const docker = await swarmup(
      [
        'up',
        '--provider',
        'docker',
        '--name',
        name,
        '--managers',
        '1',
        '--workers',
        '0',
        '--until',
        'provision',
      ],
      envB,
    );
    expect(docker.code, docker.stderr).toBe(0);
    try {
      const r = await swarmup(
        ['cleanup', '--provider', 'docker', '--name', name, '--any-owner', '--yes'],
        envA,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(await labelled('ps -a', name)).toEqual([]); // deleted, as asked (--any-owner)
      expect(existsSync(join(homeA, name, 'state.json'))).toBe(true);
      expect(existsSync(join(homeA, name, 'id_ed25519'))).toBe(true);
      expect(existsSync(join(homeA, name, 'lock'))).toBe(false);
      expect(r.stdout).toContain(
        `the record of ${name} in ${join(homeA, name)} is kept: what was deleted is not the cluster it describes (the record is of provider ec2, not docker)`,
      );
      expect(await live(name)).toHaveLength(1);
      // While another command holds the cluster's lock, cleanup deletes nothing.
      process.env.SWARMUP_HOME = homeA;
      const held = ClusterLock.acquire(new StateStore(name).dir, name, 'up');
      try {
        const busy = await swarmup(['cleanup', '--provider', 'ec2', '--name', name, '--yes'], envA);
        expect(busy.code).toBe(2);
        expect(busy.stderr).toContain(`cluster ${name} is busy: swarmup up (pid ${process.pid}`);
        expect(await live(name)).toHaveLength(1);
        expect(existsSync(join(homeA, name, 'state.json'))).toBe(true);
      } finally {
        held.release();
      }
      // Its own cleanup --name takes the record once the deletion is proven.
      const own = await swarmup(['cleanup', '--provider', 'ec2', '--name', name, '--yes'], envA);
      expect(own.code, own.stderr).toBe(0);
      expect(own.stdout).toContain(`removed the record of ${name}`);
      expect(await live(name)).toEqual([]);
      expect(existsSync(join(homeA, name))).toBe(false);
    } finally {
      await swarmup(['cleanup', '--provider', 'docker', '--name', name, '--any-owner', '--yes'], envB);
    }
  });
});
