import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { swarmup, tempHome } from '../support/cli.ts';

/** `--provider multipass` through the real binary, where nothing reaches a VM: bad input, and Multipass missing. */
describe('command line: --provider multipass', () => {
  const home = tempHome();

  it.each([
    [['up', '--provider', 'multipass', '--memory', 'lots'], /--memory: "lots" is not a size like 2G or 512M/],
    [
      ['up', '--provider', 'multipass', '--cpus', 'two'],
      /--cpus: expected a whole number from 1 to 64, got "two"/,
    ],
    [
      ['plan', '--provider', 'multipass', '--disk', '100M'],
      /--disk: "100M" is below Multipass's minimum of 1 GiB/,
    ],
  ])('swarmup %j exits 2 and writes nothing', async (args, message) => {
    const state = join(home, 'bad');
    const r = await swarmup(args as string[], { SWARMUP_HOME: state });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(existsSync(state)).toBe(false);
  });

  it('Multipass not installed: says how to install it on this OS, and creates nothing', async () => {
    const state = join(home, 'missing');
    // Only node's own folder on PATH: no multipass there.
    const r = await swarmup(['up', '--provider', 'multipass', '--name', 'vmless', '--yes'], {
      SWARMUP_HOME: state,
      PATH: dirname(process.execPath),
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /local: find multipass: the multipass command is not on PATH: install it with `sudo snap install multipass`/,
    );
    expect(existsSync(join(state, 'vmless'))).toBe(false);
  });
});
