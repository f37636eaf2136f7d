import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { swarmup, tempHome } from '../support/cli.ts';

describe("a cluster's record names its provider", () => {
  it('plan, up and status with another --provider under that name: exit 2 naming both, the record unchanged', async () => {
    const home = tempHome();
    const dir = join(home, 'lab');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const record = JSON.stringify({
      name: 'lab',
      provider: 'ec2',
      region: 'eu-west-1',
      managers: 3,
      workers: 2,
    });
    writeFileSync(join(dir, 'state.json'), record, { mode: 0o600 });
    for (const args of [
      ['plan', '--provider', 'docker', '--name', 'lab'],
      ['up', '--provider', 'multipass', '--name', 'lab', '--yes'],
      ['status', '--provider', 'docker', '--name', 'lab'],
    ]) {
      const r = await swarmup(args, { SWARMUP_HOME: home });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`cluster lab was made with the ec2 provider (${dir})`);
      expect(r.stderr).toContain('give --provider ec2');
      expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(record);
    }
  });
});
