import { describe, expect, it } from 'vitest';
import type { AwsApi } from '../../src/providers/ec2/aws.ts';
import { loginUserFor } from '../../src/providers/ec2/ec2-provider.ts';
import { clientToken, placeNodes } from '../../src/providers/ec2/placement.ts';
import { deleteClusterResources, withDependencyRetry } from '../../src/providers/ec2/resources.ts';
import { missingIngress, ruleKeys, wantedIngress } from '../../src/providers/ec2/security-group.ts';
import { engineUserData } from '../../src/providers/ec2/user-data.ts';

/**
 * A stand-in AWS client for what the emulator (moto) does not do: it answers `send` per command name from a table
 * of handlers and records every call. Real AWS cannot be reached from these machines.
 */
function standIn(
  handlers: Record<string, (input: Record<string, unknown>) => unknown>,
): AwsApi & { calls: Array<[string, Record<string, unknown>]> } {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = cmd.constructor.name.replace(/Command$/, '');
    calls.push([name, cmd.input]);
    const h = handlers[name];
    if (!h) throw new Error(`stand-in: no handler for ${name}`);
    return h(cmd.input);
  };
  return { ec2: { send } as never, ssm: { send } as never, region: 'eu-west-1', calls };
}

describe('security group rules', () => {
  it('Swarm ports only from the group itself, SSH only from the given CIDRs, ESP only when asked', () => {
    const keys = ruleKeys(wantedIngress('sg-1', ['203.0.113.7/32'], false));
    expect(keys).toEqual([
      'tcp|22-22|203.0.113.7/32',
      'tcp|2377-2377|sg:sg-1',
      'tcp|7946-7946|sg:sg-1',
      'udp|4789-4789|sg:sg-1',
      'udp|7946-7946|sg:sg-1',
    ]);
    expect(ruleKeys(wantedIngress('sg-1', [], true))).toContain('50||sg:sg-1');
  });

  it('a re-run authorises only what is missing, whatever way AWS groups or spells the rules', () => {
    const wanted = wantedIngress('sg-1', ['203.0.113.7/32', '2001:db8::/64'], true);
    const existing = [
      { IpProtocol: '6', FromPort: 2377, ToPort: 2377, UserIdGroupPairs: [{ GroupId: 'sg-1' }] },
      { IpProtocol: 'udp', FromPort: 7946, ToPort: 7946, UserIdGroupPairs: [{ GroupId: 'sg-1' }] },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] },
    ];
    expect(ruleKeys(missingIngress(wanted, existing))).toEqual([
      '50||sg:sg-1',
      'tcp|22-22|2001:db8::/64',
      'tcp|7946-7946|sg:sg-1',
      'udp|4789-4789|sg:sg-1',
    ]);
    expect(missingIngress(wanted, wanted)).toEqual([]);
  });
});

describe('placement and idempotency tokens', () => {
  const nodes = (m: number, w: number) => [
    ...Array.from({ length: m }, (_, i) => ({ name: `m${i + 1}`, role: 'manager' as const })),
    ...Array.from({ length: w }, (_, i) => ({ name: `w${i + 1}`, role: 'worker' as const })),
  ];
  const count = (p: Map<string, string>, prefix: string) => {
    const c: Record<string, number> = {};
    for (const [n, z] of p) if (n.startsWith(prefix)) c[z] = (c[z] ?? 0) + 1;
    return Object.values(c).sort().reverse();
  };

  it('managers spread over zones: 3 -> 1-1-1, 5 -> 2-2-1', () => {
    const zones = ['eu-west-1c', 'eu-west-1a', 'eu-west-1b'];
    expect(count(placeNodes(nodes(3, 2), zones), 'm')).toEqual([1, 1, 1]);
    expect(count(placeNodes(nodes(5, 4), zones), 'm')).toEqual([2, 2, 1]);
    expect(placeNodes(nodes(1, 0), ['b', 'a']).get('m1')).toBe('a');
  });

  it('client tokens are deterministic per cluster life and node, and fit the 64-character limit', () => {
    const t = clientToken('lab', 'gen1', 'lab-manager-1');
    expect(t).toBe(clientToken('lab', 'gen1', 'lab-manager-1'));
    expect(t).not.toBe(clientToken('lab', 'gen2', 'lab-manager-1'));
    expect(t).not.toBe(clientToken('lab', 'gen1', 'lab-manager-2'));
    expect(t.length).toBeLessThanOrEqual(64);
  });
});

describe('stand-in client (what the emulator does not do)', () => {
  it('stand-in: DeleteSecurityGroup answering DependencyViolation is retried with backoff until the ENIs are gone', async () => {
    let failures = 2;
    const api = standIn({
      DeleteSecurityGroup: () => {
        if (failures-- > 0)
          throw Object.assign(new Error('resource sg-1 has a dependent object'), {
            name: 'DependencyViolation',
          });
        return {};
      },
      DeleteKeyPair: () => ({}),
    });
    const progress: string[] = [];
    const removed = await deleteClusterResources(
      api,
      {
        cluster: 'lab',
        instances: [],
        securityGroups: [{ id: 'sg-1', name: 'swarmup-lab' }],
        keyPairs: [{ id: 'key-1', name: 'swarmup-lab' }],
        volumes: [],
      },
      { progress: (m) => progress.push(m), pollMs: 1, firstDelayMs: 10 },
    );
    expect(removed).toEqual(['security group swarmup-lab (sg-1)', 'key pair swarmup-lab']);
    expect(api.calls.filter(([n]) => n === 'DeleteSecurityGroup')).toHaveLength(3);
    expect(progress.filter((p) => p.includes('still in use'))).toHaveLength(2);
  });

  it('stand-in: DependencyViolation past the deadline is reported, other errors at once', async () => {
    const always = () => Promise.reject(Object.assign(new Error('in use'), { name: 'DependencyViolation' }));
    await expect(
      withDependencyRetry(always, { progress: () => undefined, dependencyTimeoutMs: 50, firstDelayMs: 10 }),
    ).rejects.toThrow('in use');
    let n = 0;
    const other = () => {
      n++;
      return Promise.reject(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    };
    await expect(withDependencyRetry(other, { progress: () => undefined, firstDelayMs: 10 })).rejects.toThrow(
      'denied',
    );
    expect(n).toBe(1);
  });

  it("stand-in: the default AMI comes from Ubuntu 24.04's SSM public parameter, and the login user from the image", async () => {
    const { Ec2Provider } = await import('../../src/providers/ec2/ec2-provider.ts');
    const { resolveCluster } = await import('../../src/config/cluster.ts');
    const { StateStore } = await import('../../src/state/store.ts');
    const api = standIn({
      GetParameter: (i) => {
        expect(i.Name).toBe(
          '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
        );
        return { Parameter: { Value: 'ami-0abc' } };
      },
      DescribeImages: () => ({
        Images: [
          {
            ImageId: 'ami-0abc',
            Name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241004',
            RootDeviceName: '/dev/sda1',
          },
        ],
      }),
      DescribeInstances: () => ({ Reservations: [] }),
    });
    const spec = resolveCluster(undefined, { name: 'lab', provider: 'ec2', sshCidr: '203.0.113.7/32' });
    const provider = new Ec2Provider(spec, new StateStore('stand-in-never-written'), {
      aws: async () => api,
    });
    const image = await (
      provider as unknown as { image(a: AwsApi): Promise<{ imageId: string; user: string }> }
    ).image(api);
    expect(image).toEqual({ imageId: 'ami-0abc', user: 'ubuntu' });
    expect(loginUserFor('debian-12-amd64-20240717-1811')).toBe('admin');
    expect(loginUserFor('al2023-ami-2023.5.20240722.0-kernel-6.1-x86_64')).toBe('ec2-user');
  });

  it('stand-in: the emulator ignores ClientToken; AWS returns the same instance for the same token, and swarmup sends the same token on a re-run', async () => {
    const { Ec2Provider } = await import('../../src/providers/ec2/ec2-provider.ts');
    const { resolveCluster } = await import('../../src/config/cluster.ts');
    const { StateStore } = await import('../../src/state/store.ts');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    process.env.SWARMUP_HOME = mkdtempSync(join(tmpdir(), 'ec2-token-'));
    const byToken = new Map<string, string>();
    let launched = 0;
    // Like AWS right after a crash: DescribeInstances does not list the instances yet (eventual consistency).
    const running = new Map<string, Record<string, unknown>>();
    let describeCalls = 0;
    const api = standIn({
      DescribeImages: () => ({
        Images: [{ ImageId: 'ami-0abc', Name: 'ubuntu-noble', RootDeviceName: '/dev/sda1' }],
      }),
      DescribeVpcs: () => ({ Vpcs: [{ VpcId: 'vpc-1' }] }),
      DescribeSubnets: () => ({
        Subnets: ['a', 'b', 'c'].map((z, i) => ({
          SubnetId: `subnet-${i}`,
          AvailabilityZone: `eu-west-1${z}`,
        })),
      }),
      DescribeKeyPairs: () => ({ KeyPairs: [{ KeyName: 'swarmup-lab' }] }),
      DescribeSecurityGroups: () => ({
        SecurityGroups: [
          {
            GroupId: 'sg-1',
            Tags: [{ Key: 'swarmup:cluster', Value: 'lab' }],
            IpPermissions: wantedIngress('sg-1', ['203.0.113.7/32'], false),
          },
        ],
      }),
      RunInstances: (i) => {
        const token = i.ClientToken as string;
        if (!byToken.has(token)) byToken.set(token, `i-${++launched}`);
        const id = byToken.get(token)!;
        const name = (
          i.TagSpecifications as Array<{ Tags: Array<{ Key: string; Value: string }> }>
        )[0]!.Tags.find((t) => t.Key === 'Name')!.Value;
        running.set(id, {
          InstanceId: id,
          State: { Name: 'running' },
          PrivateIpAddress: '10.0.0.1',
          Tags: [
            { Key: 'Name', Value: name },
            { Key: 'swarmup:role', Value: 'manager' },
          ],
        });
        return { Instances: [{ InstanceId: id }] };
      },
      DescribeInstances: () => ({
        Reservations: describeCalls++ < 1 ? [] : [{ Instances: [...running.values()] }],
      }),
    });
    const spec = resolveCluster(undefined, {
      name: 'lab',
      provider: 'ec2',
      sshCidr: '203.0.113.7/32',
      ami: 'ami-0abc',
      managers: '3',
      workers: '0',
    });
    const state = new StateStore('lab');
    await new Ec2Provider(spec, state, { aws: async () => api, pollMs: 1 }).provision(() => undefined);
    const first = api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i.ClientToken);
    // The re-run does not see the instances (the crash window): it launches again with the same tokens...
    describeCalls = 0;
    await new Ec2Provider(spec, state, { aws: async () => api, pollMs: 1 }).provision(() => undefined);
    const all = api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i.ClientToken);
    expect(all.slice(3)).toEqual(first);
    // ...so AWS hands back the same three instances instead of three more.
    expect(launched).toBe(3);
  });
});

describe('user data', () => {
  it('starts the engine installation at boot for unpinned docker-ce and distro; leaves pinned installs to the engine step', () => {
    expect(engineUserData({ source: 'docker-ce' })).toMatch(
      /download\.docker\.com\/linux\/\$ID \$VERSION_CODENAME stable/,
    );
    expect(engineUserData({ source: 'distro' })).toMatch(/install docker\.io/);
    expect(engineUserData({ source: 'docker-ce', version: '27.3' })).toBeUndefined();
    expect(engineUserData({ source: 'none' })).toBeUndefined();
  });
});
