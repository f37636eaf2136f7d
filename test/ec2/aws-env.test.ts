import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { clusterInstances, motoEc2, motoEnv, motoImage, resetMoto } from '../support/aws.ts';
import { swarmup, tempHome } from '../support/cli.ts';

/**
 * AWS_DEFAULT_REGION and AWS_PROFILE read as the AWS CLI reads them, by plan, up and down against moto: the region
 * from AWS_REGION, else AWS_DEFAULT_REGION, else the profile's; the profile from AWS_PROFILE (credentials and region
 * from the test's own shared config files). Each image id is taken from the emulator's catalogue of that region.
 */
const url = inject('motoUrl');
const home = tempHome();
const files = mkdtempSync(join(tmpdir(), 'swarmup-awsfiles-'));
const base = motoEnv(url, home);
// No region of any kind unless a test gives one.
const { AWS_REGION: _region, ...noRegion } = base;
const ssh = ['--ssh-cidr', '203.0.113.7/32'];
let amis: Record<string, string> = {};

const planArgs = (region: string) => [
  'plan',
  '--provider',
  'ec2',
  '--name',
  'lab',
  '--ami',
  amis[region]!,
  ...ssh,
];

describe('the AWS environment as the AWS CLI reads it', () => {
  beforeEach(async () => {
    await resetMoto(url);
    rmSync(home, { recursive: true, force: true });
    amis = {
      'eu-west-1': await motoImage(motoEc2(url, 'eu-west-1')),
      'us-east-1': await motoImage(motoEc2(url, 'us-east-1')),
    };
  });

  it('AWS_DEFAULT_REGION alone: plan, up and down work in that region', async () => {
    const env = { ...noRegion, AWS_DEFAULT_REGION: 'us-east-1' };
    const plan = await swarmup(planArgs('us-east-1'), env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('EC2 region us-east-1');
    const up = await swarmup(
      [
        'up',
        '--provider',
        'ec2',
        '--name',
        'lab',
        '--until',
        'provision',
        '--managers',
        '1',
        '--workers',
        '0',
        '--ami',
        amis['us-east-1']!,
        ...ssh,
      ],
      env,
    );
    expect(up.code, up.stderr).toBe(0);
    expect(await clusterInstances(motoEc2(url, 'us-east-1'), 'lab', ['pending', 'running'])).toHaveLength(1);
    const down = await swarmup(['down', '--name', 'lab', '--yes'], env);
    expect(down.code, down.stderr).toBe(0);
    expect(await clusterInstances(motoEc2(url, 'us-east-1'), 'lab', ['pending', 'running'])).toEqual([]);
  });

  it('AWS_REGION wins over AWS_DEFAULT_REGION, which wins over the profile (AWS_PROFILE) region', async () => {
    const config = join(files, 'config');
    const credentials = join(files, 'credentials');
    writeFileSync(config, '[profile lab]\nregion = us-east-1\n');
    writeFileSync(credentials, '[lab]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
    const both = await swarmup(planArgs('eu-west-1'), {
      ...noRegion,
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    });
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain('EC2 region eu-west-1');
    const overProfile = await swarmup(planArgs('eu-west-1'), {
      ...noRegion,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_PROFILE: 'lab',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(overProfile.code, overProfile.stderr).toBe(0);
    expect(overProfile.stdout).toContain('EC2 region eu-west-1');
  });

  it("AWS_PROFILE alone: that profile's credentials and region", async () => {
    const config = join(files, 'config');
    const credentials = join(files, 'credentials');
    writeFileSync(config, '[profile lab]\nregion = us-east-1\n');
    writeFileSync(credentials, '[lab]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = noRegion;
    const env = {
      ...noKeys,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_PROFILE: 'lab',
    };
    const plan = await swarmup(planArgs('us-east-1'), env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('EC2 region us-east-1');
    // Another profile's name: no credentials there, said as such (exit 2).
    const other = await swarmup(planArgs('us-east-1'), {
      ...env,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PROFILE: 'none',
    });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/no AWS credentials/);
  });

  it('no region anywhere: exit 2 naming every way to give one, nothing made', async () => {
    const r = await swarmup(planArgs('eu-west-1'), noRegion);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set region in your AWS profile',
    );
  });
});
