import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { labelled, swarmup, tempHome } from '../support/cli.ts';

/**
 * `cleanup --provider docker` on the local engine. The engine is shared with whatever else runs on this machine
 * (a developer's own clusters have their state in another SWARMUP_HOME and would look orphaned from here), so this
 * test deletes only by --name and checks the orphan selection with --dry-run.
 */
const home = tempHome();
const env = { SWARMUP_HOME: home };
const LOOKALIKE = 'e2e-orph-manager-9';

describe('cleanup --provider docker', () => {
  afterAll(async () => {
    for (const name of ['e2e-orph', 'e2e-kept'])
      await swarmup(['cleanup', '--provider', 'docker', '--name', name, '--yes'], env);
    await execa('docker', ['rm', '-f', LOOKALIKE], { reject: false });
  });

  it('lists orphans (labelled, no local state) as selected, leaves clusters with state and unlabelled look-alikes alone', async () => {
    for (const name of ['e2e-orph', 'e2e-kept']) {
      const r = await swarmup(
        ['up', '--name', name, '--managers', '1', '--workers', '0', '--until', 'provision'],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
    }
    rmSync(join(home, 'e2e-orph'), { recursive: true });
    await execa('docker', ['create', '--name', LOOKALIKE, 'swarmup/node:bookworm-1', 'true']);

    const dry = await swarmup(['cleanup', '--provider', 'docker', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /^\* local engine {2}e2e-orph: 1 container \(e2e-orph-manager-1\); 1 volume; network swarmup-e2e-orph$/m,
    );
    expect(dry.stdout).toMatch(/^ {2}local engine {2}e2e-kept: /m);
    expect(dry.stdout).not.toContain(LOOKALIKE);
    expect(await labelled('ps -a', 'e2e-orph')).toHaveLength(1);

    const noYes = await swarmup(['cleanup', '--provider', 'docker', '--name', 'e2e-orph'], env);
    expect(noYes.code).toBe(2);
    expect(await labelled('ps -a', 'e2e-orph')).toHaveLength(1);
  });

  it("--name deletes that cluster's containers, volumes and network, and nothing else", async () => {
    const r = await swarmup(
      ['cleanup', '--provider', 'docker', '--name', 'e2e-orph', '--yes', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await labelled('ps -a', 'e2e-orph')).toEqual([]);
    expect(await labelled('volume ls', 'e2e-orph')).toEqual([]);
    expect(await labelled('network ls', 'e2e-orph')).toEqual([]);
    expect(await labelled('ps -a', 'e2e-kept')).toHaveLength(1);
    const look = await execa('docker', ['ps', '-a', '-q', '--filter', `name=${LOOKALIKE}`]);
    expect(String(look.stdout).trim()).not.toBe('');
  });
});
