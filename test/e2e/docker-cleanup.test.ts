import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { labelled, swarmup, tempHome } from '../support/cli.ts';
import { ownerOf, twoStateHomes } from '../support/state-homes.ts';

/**
 * `cleanup --provider docker` on the local engine. The engine is shared with whatever else runs on this machine
 * (a developer's own clusters have their state in another SWARMUP_HOME and would look orphaned from here): without
 * --name, cleanup deletes only this state home's orphans, so that is safe here; --any-owner is only ever run with
 * --dry-run.
 */
/** A run id in every name: two runs on one engine never touch each other's clusters. */
const RUN = String(process.pid);
const [ORPH, KEPT, OTHER, MINE, OLDC] = ['orph', 'kept', 'other', 'mine', 'old'].map(
  (n) => `e2e-${n}-${RUN}`,
) as [string, string, string, string, string];
const LOOKALIKE = `${ORPH}-manager-9`;
/** This run's state home, and a second one: another owner. */
const { homeA: home, envA: env, homeB: otherHome, envB: otherEnv } = twoStateHomes();

/** Labelled with a cluster but no owner: as an older swarmup made it. */
const OLD = `${OLDC}-manager-1`;

describe('cleanup --provider docker', () => {
  afterAll(async () => {
    for (const name of [ORPH, KEPT, OTHER, MINE])
      await swarmup(['cleanup', '--provider', 'docker', '--name', name, '--any-owner', '--yes'], env);
    await execa('docker', ['rm', '-f', LOOKALIKE, OLD], { reject: false });
    rmSync(otherHome, { recursive: true, force: true });
  });

  it('lists orphans (labelled, no local state) as selected, leaves clusters with state and unlabelled look-alikes alone', async () => {
    for (const name of [ORPH, KEPT]) {
      const r = await swarmup(
        ['up', '--name', name, '--managers', '1', '--workers', '0', '--until', 'provision'],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    rmSync(join(home, ORPH), { recursive: true });
    await execa('docker', ['create', '--name', LOOKALIKE, 'swarmup/node:bookworm-1', 'true']);

    const dry = await swarmup(['cleanup', '--provider', 'docker', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(
        String.raw`^\* local engine {2}${ORPH}: 1 container \(${ORPH}-manager-1\); 1 volume; network swarmup-${ORPH} {2}\[owner [0-9a-f]{12}: this state home\]$`,
        'm',
      ),
    );
    expect(dry.stdout).toMatch(new RegExp(String.raw`^ {2}local engine {2}${KEPT}: `, 'm'));
    expect(dry.stdout).not.toContain(LOOKALIKE);
    expect(await labelled('ps -a', ORPH)).toHaveLength(1);

    const noYes = await swarmup(['cleanup', '--provider', 'docker', '--name', ORPH], env);
    expect(noYes.code).toBe(2);
    expect(await labelled('ps -a', ORPH)).toHaveLength(1);
  });

  it("--name deletes that cluster's containers, volumes and network, and nothing else", async () => {
    const r = await swarmup(['cleanup', '--provider', 'docker', '--name', ORPH, '--yes', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await labelled('ps -a', ORPH)).toEqual([]);
    expect(await labelled('volume ls', ORPH)).toEqual([]);
    expect(await labelled('network ls', ORPH)).toEqual([]);
    expect(await labelled('ps -a', KEPT)).toHaveLength(1);
    const look = await execa('docker', ['ps', '-a', '-q', '--filter', `name=${LOOKALIKE}`]);
    expect(String(look.stdout).trim()).not.toBe('');
  });

  it("without --name only this state home's orphans are deleted; another owner's and unowned ones are listed, spared, and selected by --any-owner", async () => {
    const mine = ownerOf(home);
    expect(mine).toMatch(/^[0-9a-f]{12}$/);
    expect(statSync(join(home, 'owner')).mode & 0o777).toBe(0o600);

    // Another state home's cluster, orphaned there; and one made by an older swarmup (no owner label).
    const other = await swarmup(
      ['up', '--name', OTHER, '--managers', '1', '--workers', '0', '--until', 'provision'],
      otherEnv,
    );
    expect(other.code, other.stderr).toBe(0);
    rmSync(join(otherHome, OTHER), { recursive: true });
    const theirs = ownerOf(otherHome);
    expect(theirs).not.toBe(mine);
    for (const kind of ['ps -a', 'volume ls', 'network ls'] as const) {
      const r = await execa('docker', [
        ...kind.split(' '),
        '-q',
        '--filter',
        `label=swarmup.cluster=${OTHER}`,
        '--filter',
        `label=swarmup.owner=${theirs}`,
      ]);
      expect(String(r.stdout).trim(), kind).not.toBe('');
    }
    await execa('docker', [
      'create',
      '--name',
      OLD,
      '--label',
      `swarmup.cluster=${OLDC}`,
      'swarmup/node:bookworm-1',
      'true',
    ]);
    // And an orphan of this home.
    const up = await swarmup(
      ['up', '--name', MINE, '--managers', '1', '--workers', '0', '--until', 'provision'],
      env,
    );
    expect(up.code, up.stderr).toBe(0);
    rmSync(join(home, MINE), { recursive: true });

    const dry = await swarmup(['cleanup', '--provider', 'docker', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(`^\\* local engine {2}${MINE}: .*\\[owner ${mine}: this state home\\]$`, 'm'),
    );
    expect(dry.stdout).toMatch(
      new RegExp(`^ {2}local engine {2}${OTHER}: .*\\[owner ${theirs}: another state home\\]$`, 'm'),
    );
    expect(dry.stdout).toMatch(
      new RegExp(
        String.raw`^ {2}local engine {2}${OLDC}: 1 container \(${OLDC}-manager-1\) {2}\[no owner: made by an older swarmup\]$`,
        'm',
      ),
    );
    expect(dry.stdout).toMatch(/orphans of another owner \(or of none\) not selected: --any-owner/);

    const any = await swarmup(['cleanup', '--provider', 'docker', '--any-owner', '--dry-run'], env);
    expect(any.code, any.stderr).toBe(0);
    expect(any.stdout).toMatch(
      new RegExp(String.raw`^\* local engine {2}${OTHER}: .*another state home\]$`, 'm'),
    );
    expect(any.stdout).toMatch(new RegExp(String.raw`^\* local engine {2}${OLDC}: .*older swarmup\]$`, 'm'));
    expect(any.stdout).toMatch(new RegExp(String.raw`^\* local engine {2}${MINE}: `, 'm'));
    expect(any.stdout).toMatch(new RegExp(String.raw`^ {2}local engine {2}${KEPT}: `, 'm'));

    // --any-owner without --yes: listed first, then refused (no terminal), nothing deleted.
    const noYes = await swarmup(['cleanup', '--provider', 'docker', '--any-owner'], env);
    expect(noYes.code).toBe(2);
    expect(noYes.stdout).toMatch(/^deleting \(orphans of every owner: --any-owner\):$/m);
    expect(noYes.stdout).toMatch(new RegExp(String.raw`^\* local engine {2}${OTHER}: `, 'm'));
    expect(await labelled('ps -a', OTHER)).toHaveLength(1);

    const r = await swarmup(['cleanup', '--provider', 'docker', '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await labelled('ps -a', MINE)).toEqual([]);
    expect(await labelled('volume ls', MINE)).toEqual([]);
    expect(await labelled('network ls', MINE)).toEqual([]);
    expect(await labelled('ps -a', OTHER)).toHaveLength(1);
    expect(await labelled('volume ls', OTHER)).toHaveLength(1);
    expect(await labelled('network ls', OTHER)).toHaveLength(1);
    expect(await labelled('ps -a', OLDC)).toHaveLength(1);
    expect(await labelled('ps -a', KEPT)).toHaveLength(1);

    // --name alone takes only this home's: another owner's cluster of that name is listed and spared.
    const spared = await swarmup(['cleanup', '--provider', 'docker', '--name', OTHER, '--yes'], env);
    expect(spared.code, spared.stderr).toBe(0);
    expect(spared.stdout).toContain(
      `--name ${OTHER}: only this state home's (--any-owner selects every owner's)`,
    );
    expect(spared.stdout).toMatch(
      new RegExp(String.raw`^ {2}local engine {2}${OTHER}: .*another state home\]$`, 'm'),
    );
    expect(await labelled('ps -a', OTHER)).toHaveLength(1);
    // --name with --any-owner takes that cluster whatever its owner, and says so.
    const named = await swarmup(
      ['cleanup', '--provider', 'docker', '--name', OTHER, '--any-owner', '--yes'],
      env,
    );
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toContain(`--name ${OTHER} --any-owner: selected whatever its owner`);
    expect(named.stdout).toMatch(
      new RegExp(String.raw`^\* local engine {2}${OTHER}: .*another state home\]$`, 'm'),
    );
    expect(await labelled('ps -a', OTHER)).toEqual([]);
    expect(await labelled('volume ls', OTHER)).toEqual([]);
    expect(await labelled('network ls', OTHER)).toEqual([]);
  });

  it('cleanup in a state home with no owner yet creates none', async () => {
    const fresh = tempHome();
    const r = await swarmup(['cleanup', '--provider', 'docker', '--dry-run'], { SWARMUP_HOME: fresh });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(fresh, 'owner'))).toBe(false);
    rmSync(fresh, { recursive: true, force: true });
  });
});
