import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
} from '@aws-sdk/client-ec2';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.ts';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { swarmup, tempHome } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * Images and architectures against moto's emulator: the image's OS decides the login user, the engine source and
 * the boot-time install; the instance type's architecture must fit the image. The images are moto's own catalogue
 * (Amazon Linux 2023 from moto/ec2/resources/latest_amis/eu-west-1.json.gz, Ubuntu 16.04 from amis.json.gz).
 */
const aws = ec2Emulator();
const { ec2 } = aws;
const env = aws.env();

const imageNamed = (pattern: string) => aws.image(pattern);
const instances = (cluster: string) => aws.instances(cluster, ['pending', 'running']);

/** Everything in the emulator, tagged or not: a refusal must leave all three empty. */
async function everything(): Promise<{ instances: number; groups: string[]; keys: number }> {
  const i = await ec2.send(new DescribeInstancesCommand({}));
  const g = await ec2.send(new DescribeSecurityGroupsCommand({}));
  const k = await ec2.send(new DescribeKeyPairsCommand({}));
  return {
    instances: (i.Reservations ?? []).flatMap((r) => r.Instances ?? []).length,
    // Every VPC has its "default" group; anything else was made.
    groups: (g.SecurityGroups ?? []).map((x) => x.GroupName!).filter((n) => n !== 'default'),
    keys: (k.KeyPairs ?? []).length,
  };
}

const up = (name: string, ...more: string[]) =>
  swarmup(
    aws.args(
      'up',
      name,
      { ami: false },
      '--until',
      'provision',
      '--managers',
      '1',
      '--workers',
      '0',
      '--json',
      ...more,
    ),
    env,
  );

describe('EC2 images against the emulator', () => {
  aws.freshForEachTest();

  it("the emulator knows t4g.small runs arm64 only and t3.small x86_64 (what the image's architecture is checked against)", async () => {
    const r = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t4g.small', 't3.small'] }));
    const archs = Object.fromEntries(
      (r.InstanceTypes ?? []).map((t) => [t.InstanceType, t.ProcessorInfo?.SupportedArchitectures]),
    );
    expect(archs).toEqual({ 't4g.small': ['arm64'], 't3.small': ['x86_64'] });
  });

  it('Amazon Linux 2023 with the default engine source: launched with user data that installs its docker package; reach logs in as ec2-user', async () => {
    const ami = await imageNamed('al2023-ami-2023.*-kernel-6.1-x86_64');
    const r = await up('al', '--ami', ami);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`AMI ${ami}`);
    expect(r.stdout).toMatch(/no docker-ce repository: installing its own docker package/);

    const [instance, ...others] = await instances('al');
    expect(others).toEqual([]);
    expect(instance!.ImageId).toBe(ami);
    const attr = await ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instance!.InstanceId!, Attribute: 'userData' }),
    );
    const userData = Buffer.from(attr.UserData!.Value!, 'base64').toString();
    expect(userData).toContain('[ "$ID" = amzn ] || exit 0');
    expect(userData).toContain('dnf -y install docker\n');
    expect(userData).toContain('systemctl enable --now docker');
    expect(userData).not.toContain('docker-ce');

    // The provider as `up` makes it after provisioning: it reaches the instance as the image's user.
    const provider = aws.provider('al', { ami });
    const machines = await provider.reach();
    expect(machines.map((m) => [m.name, m.user])).toEqual([['al-manager-1', 'ec2-user']]);
  });

  it('an arm64 instance type with an amd64 --ami is refused (exit 2) before anything is made', async () => {
    const ami = await imageNamed('*ubuntu-xenial-16.04-amd64*');
    const r = await up('arm', '--ami', ami, '--instance-type', 't4g.small');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`--ami: AMI ${ami} .* is built for x86_64, but instance type t4g\\.small runs arm64`),
    );
    expect(await everything()).toEqual({ instances: 0, groups: [], keys: 0 });
  });

  it('an arm64 instance type with an arm64 image launches', async () => {
    const ami = await imageNamed('al2023-ami-2023.*-kernel-6.1-arm64');
    const r = await up('graviton', '--ami', ami, '--instance-type', 't4g.small');
    expect(r.code, r.stderr).toBe(0);
    expect((await instances('graviton')).map((i) => [i.InstanceType, i.ImageId])).toEqual([
      ['t4g.small', ami],
    ]);
  });

  it('engine.source docker-ce given explicitly with Amazon Linux 2023 is refused (exit 2) naming the image, before anything is made', async () => {
    const ami = await imageNamed('al2023-ami-2023.*-kernel-6.1-x86_64');
    const config = join(tempHome('swarmup-images-config-'), 'pinned.yaml');
    writeFileSync(
      config,
      stringify({ name: 'pinned', provider: 'ec2', engine: { source: 'docker-ce' }, ec2: { ami } }),
    );
    // The file is what the command line reads: the source is recorded as given.
    expect(resolveCluster(loadConfigFile(config), {}, config).engine).toEqual({ source: 'docker-ce' });
    const r = await swarmup(
      ['up', '--config', config, '--until', 'provision', '--ssh-cidr', '203.0.113.7/32', '--json'],
      env,
    );
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`engine\\.source docker-ce cannot work on AMI ${ami} .*use engine\\.source distro`),
    );
    expect(await everything()).toEqual({ instances: 0, groups: [], keys: 0 });
  });
});
