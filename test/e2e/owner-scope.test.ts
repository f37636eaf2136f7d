import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelled, swarmup } from '../support/cli.ts';
import { ownerOf, twoStateHomes } from '../support/state-homes.ts';

/**
 * Two state homes on one engine (two CI jobs with the same cluster name do this): what one home's destructive
 * commands select is its own. Home A has a cluster up; home B's down, cleanup and up of the same name touch none
 * of A's containers, volumes or network. Names carry this run's id.
 */
const NAME = `e2e-own-${process.pid}`;
const { homeA, homeB, envA, envB, remove } = twoStateHomes();

/** Every object of the cluster on the engine, whatever its owner: ids, sorted. */
async function everything(): Promise<string[]> {
  const all = await Promise.all(
    (['ps -a', 'volume ls', 'network ls'] as const).map((k) => labelled(k, NAME)),
  );
  return all.flat().sort();
}

describe('destructive commands select only what this state home made (docker)', () => {
  let before: string[];
  let ownerA: string;

  beforeAll(async () => {
    const up = await swarmup(
      [
        'up',
        '--provider',
        'docker',
        '--name',
        NAME,
        '--managers',
        '1',
        '--workers',
        '0',
        '--until',
        'provision',
      ],
      envA,
    );
    expect(up.code, up.stderr).toBe(0);
    ownerA = ownerOf(homeA);
    before = await everything();
    expect(before).toHaveLength(3); // container, volume, network
  });

  afterAll(async () => {
    await swarmup(['cleanup', '--provider', 'docker', '--name', NAME, '--any-owner', '--yes'], envA);
    remove();
  });

  it("down --name from another state home finds nothing of its own and leaves the other home's cluster", async () => {
    const r = await swarmup(['down', '--provider', 'docker', '--name', NAME, '--yes'], envB);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing of this cluster found');
    expect(await everything()).toEqual(before);
    expect(existsSync(join(homeA, NAME, 'state.json'))).toBe(true);
  });

  it("cleanup --name from another state home lists the other home's cluster and deletes nothing", async () => {
    const r = await swarmup(['cleanup', '--provider', 'docker', '--name', NAME, '--yes'], envB);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(String.raw`^ {2}local engine {2}${NAME}: .*\[owner ${ownerA}: another state home\]$`, 'm'),
    );
    expect(r.stdout).toContain('0 resources removed');
    expect(await everything()).toEqual(before);
  });

  it("up of the same name from another state home is refused, naming the other home's objects, nothing changed", async () => {
    const r = await swarmup(
      [
        'up',
        '--provider',
        'docker',
        '--name',
        NAME,
        '--managers',
        '1',
        '--workers',
        '0',
        '--until',
        'provision',
      ],
      envB,
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `container ${NAME}-manager-1 (cluster ${NAME} of owner ${ownerA}: another state home)`,
    );
    expect(r.stderr).toContain(`volume ${NAME}-manager-1-docker (cluster ${NAME} of owner ${ownerA}`);
    expect(r.stderr).toContain(`network swarmup-${NAME} (cluster ${NAME} of owner ${ownerA}`);
    expect(await everything()).toEqual(before);
    expect(existsSync(join(homeB, NAME))).toBe(false);
    // The network the other home would have made beside it (docker allows two of one name) is not there either.
    const nets = await execa('docker', ['network', 'ls', '-q', '--filter', `name=swarmup-${NAME}`]);
    expect(String(nets.stdout).split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('the home that made it still removes it (down), and its record goes with it', async () => {
    const r = await swarmup(['down', '--name', NAME, '--yes'], envA);
    expect(r.code, r.stderr).toBe(0);
    expect(await everything()).toEqual([]);
    expect(existsSync(join(homeA, NAME))).toBe(false);
  });
});
