import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.ts';
import { loginUserFor, resolveImage } from '../../src/providers/ec2/image.ts';
import { chooseLife, clientToken, launchToken } from '../../src/providers/ec2/launch-token.ts';
import { machineListing, reachStatus } from '../../src/providers/ec2/listing.ts';
import { placeNodes } from '../../src/providers/ec2/placement.ts';
import { adopt, batchToken, launchBatches, nameLaunched } from '../../src/providers/ec2/launch-batch.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { deleteClusterResources, withDependencyRetry } from '../../src/providers/ec2/resources.ts';
import { fingerprintMatches, keyFingerprints } from '../../src/providers/ec2/key-pair.ts';
import {
  describeRule,
  ensureSecurityGroup,
  missingIngress,
  ruleKeys,
  SSH_RULE_DESCRIPTION,
  staleSshIngress,
  wantedIngress,
} from '../../src/providers/ec2/security-group.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { engineUserData } from '../../src/providers/ec2/user-data.ts';
import { freshHome, labSpec, ownTags, standIn, standInEc2, userShutdown } from '../support/ec2-stand-in.ts';

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

  it('each rule reads as one line (what prepare reports it created)', () => {
    expect(wantedIngress('sg-1', ['203.0.113.7/32'], true).map(describeRule)).toEqual([
      'tcp 2377 from the group',
      'tcp 7946 from the group',
      'udp 7946 from the group',
      'udp 4789 from the group',
      'ESP from the group',
      'tcp 22 from 203.0.113.7/32',
    ]);
  });
});

describe('SSH rules reconciled with --ssh-cidr', () => {
  const ours = (CidrIp: string) => ({ CidrIp, Description: SSH_RULE_DESCRIPTION });
  const existing = [
    ...wantedIngress('sg-1', [], false),
    {
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      IpRanges: [ours('198.51.100.0/24'), ours('203.0.113.7/32'), { CidrIp: '192.0.2.5/32' }],
      Ipv6Ranges: [
        { CidrIpv6: '2001:db8:1::/48', Description: SSH_RULE_DESCRIPTION },
        { CidrIpv6: '2001:db8:2::/48', Description: 'office' },
      ],
    },
    // Not SSH: never swarmup's to revoke, whatever its description says.
    { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [ours('198.51.100.0/24')] },
  ];

  it("revokes only swarmup's own SSH rules for CIDRs no longer given; hand-made and Swarm rules stay", () => {
    expect(staleSshIngress(existing, ['203.0.113.7/32'])).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '198.51.100.0/24' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:db8:1::/48' }],
      },
    ]);
    // The same block spelt otherwise is still wanted (AWS echoes IPv6 in lower case).
    expect(staleSshIngress(existing, ['198.51.100.0/24', '203.0.113.7/32', '2001:DB8:1:0::/48'])).toEqual([]);
    expect(staleSshIngress(wantedIngress('sg-1', ['203.0.113.7/32'], true), ['203.0.113.7/32'])).toEqual([]);
  });

  it('stand-in: a changed --ssh-cidr adds the new rule first, then revokes the old one', async () => {
    const api = standIn({
      DescribeSecurityGroups: () => ({
        SecurityGroups: [
          { GroupId: 'sg-1', Tags: [{ Key: 'swarmup:cluster', Value: 'lab' }], IpPermissions: existing },
        ],
      }),
      AuthorizeSecurityGroupIngress: () => ({}),
      RevokeSecurityGroupIngress: () => ({}),
    });
    const r = await ensureSecurityGroup(
      api,
      {
        cluster: 'lab',
        groupName: 'swarmup-lab',
        vpcId: 'vpc-1',
        sshCidrs: ['203.0.113.9/32'],
        encryptedOverlay: false,
      },
      () => undefined,
    );
    expect(api.calls.map(([n]) => n)).toEqual([
      'DescribeSecurityGroups',
      'AuthorizeSecurityGroupIngress',
      'RevokeSecurityGroupIngress',
    ]);
    expect(ruleKeys(api.calls[2]![1].IpPermissions as never)).toEqual([
      'tcp|22-22|198.51.100.0/24',
      'tcp|22-22|2001:db8:1::/48',
      'tcp|22-22|203.0.113.7/32',
    ]);
    expect(r.created).toEqual([
      'ingress tcp 22 from 203.0.113.9/32 on swarmup-lab',
      'revoked ingress tcp 22 from 198.51.100.0/24, 203.0.113.7/32, 2001:db8:1::/48 on swarmup-lab',
    ]);
  });
});

/** A key made once with ssh-keygen, and what ssh-keygen, AWS and the emulator (moto 5.2.1) say its fingerprint is. */
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILghIdUXxPFN8Ru7PMHJEbfl2Z5VNJlGpcTd/7u4SSuL root@vm';
// ssh-keygen -l -E sha256: SHA256:cb15gVbqfBTBP1yM5lqB4zMouguVG7IY1wGuSYGTLds; AWS: the same without "SHA256:".
const ED25519_AWS = 'cb15gVbqfBTBP1yM5lqB4zMouguVG7IY1wGuSYGTLds';
// moto: colon-hex SHA-256 of the DER SubjectPublicKeyInfo (not what AWS reports).
const ED25519_MOTO =
  '8d:a7:99:03:ac:da:8b:4d:8e:37:08:5f:5c:31:8d:74:8c:68:d8:1b:33:95:d1:e7:1a:5d:7b:9a:68:62:7d:d5';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDjc2RFLSchNgUPsuSrNZ/vHkSXjg9H5VGYXlXY4oERHEp50/myrV0YykBRwwi9H3+ndvODTuPsNLgf1RNXLtx5F2lyQLOSIvJ5G9P1TZWcZVsgJcPgUQlIGuhwk9/FnH5ylN8cPLUQtQcVutiHYH/u6ikavtuOljhILJv53/dxbUvztnGGoGo1bZi3nOufiZZtyorvFY9X33UhDZTg5YpNQfmoNXuRb4IAQQB1UVIcRicSMeSHpCAE3mSJWzF+BvWH34c9XWhnAZbZRsgyUcFFXVjYU7Y18Nr8msqwA99VhPsbAt8kaZeWM92VQyeoIhdLAO3iJNryjyfFaWZl6pID root@vm';
// AWS and moto: colon-hex MD5 of the DER public key; ssh-keygen -E md5 (RFC 4716): MD5 of the key blob.
const RSA_AWS = '0b:6c:65:48:76:77:61:7e:3f:08:12:0d:a6:a8:28:8f';
const RSA_SSH_KEYGEN = '3e:07:06:9e:f0:75:1b:6d:42:32:54:31:ac:5c:17:fc';

describe('key pair fingerprints', () => {
  it('ed25519: the base64 SHA-256 of the key blob as AWS reports it (and as the emulator does)', () => {
    expect(keyFingerprints(ED25519)).toEqual([ED25519_AWS, ED25519_MOTO]);
    expect(fingerprintMatches(ED25519, ED25519_AWS)).toBe(true);
    expect(fingerprintMatches(ED25519, `SHA256:${ED25519_AWS}=`)).toBe(true);
    expect(fingerprintMatches(ED25519, ED25519_MOTO.toUpperCase())).toBe(true);
    expect(fingerprintMatches(ED25519, 'AAAAC3NzaC1lZDI1NTE5AAAAILghIdUXxPFN8Ru7PMHJEb')).toBe(false);
    expect(fingerprintMatches(ED25519, RSA_AWS)).toBe(false);
  });

  it('RSA: the MD5 of the DER public key in colon hex (AWS), or of the key blob (RFC 4716)', () => {
    expect(keyFingerprints(RSA)).toEqual([RSA_AWS, RSA_SSH_KEYGEN]);
    expect(fingerprintMatches(RSA, RSA_AWS)).toBe(true);
    expect(fingerprintMatches(RSA, ED25519_AWS)).toBe(false);
  });

  it('a key type it cannot fingerprint, or no fingerprint given, is not refused', () => {
    expect(keyFingerprints('ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAA=')).toEqual([]);
    expect(fingerprintMatches('ecdsa-sha2-nistp256 AAAA', 'anything')).toBe(true);
    expect(fingerprintMatches(ED25519, undefined)).toBe(true);
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
    expect(launchToken('lab', 'gen1', 'lab-manager-1', 0)).not.toBe(
      launchToken('lab', 'gen1', 'lab-manager-1', 1),
    );
  });

  const tokenOf = (life: number) => launchToken('lab', 'g', 'lab-worker-1', life);
  it('a node keeps its life while its instance lives or is not listed yet (a crash-retry sends the same token)', () => {
    expect(chooseLife(0, tokenOf, [])).toBe(0);
    expect(chooseLife(2, tokenOf, [])).toBe(2);
    expect(chooseLife(0, tokenOf, [{ clientToken: tokenOf(0), state: 'running' }])).toBe(0);
    expect(chooseLife(0, tokenOf, [{ clientToken: tokenOf(0), state: 'stopped' }])).toBe(0);
    // Life 1 was recorded, then launched, then the run crashed: only the old life's instance is listed.
    expect(chooseLife(1, tokenOf, [{ clientToken: tokenOf(0), state: 'terminated' }])).toBe(1);
  });

  it('a node moves to its next life when the instance of its current one is terminated or terminating', () => {
    expect(chooseLife(0, tokenOf, [{ clientToken: tokenOf(0), state: 'terminated' }])).toBe(1);
    expect(chooseLife(0, tokenOf, [{ clientToken: tokenOf(0), state: 'shutting-down' }])).toBe(1);
    expect(
      chooseLife(0, tokenOf, [
        { clientToken: tokenOf(0), state: 'terminated' },
        { clientToken: tokenOf(1), state: 'terminated' },
      ]),
    ).toBe(2);
    // Another token's instance (another generation, an older swarmup) says nothing about this life.
    expect(chooseLife(0, tokenOf, [{ clientToken: 'other', state: 'terminated' }])).toBe(0);
  });
});

const instance = (
  name: string,
  state: string,
  more: Partial<Instance> & { role?: 'manager' | 'worker' } = {},
): Instance => {
  const { role = 'worker', ...rest } = more;
  return {
    InstanceId: `i-${name}-${state}`,
    State: { Name: state as never },
    Tags: [
      { Key: 'Name', Value: name },
      { Key: 'swarmup:cluster', Value: 'lab' },
      { Key: 'swarmup:role', Value: role },
    ],
    ...rest,
  };
};
const launchFailure = {
  StateReason: {
    Code: 'Server.InsufficientInstanceCapacity',
    Message: 'Server.InsufficientInstanceCapacity: Insufficient capacity.',
  },
};
describe('listing instances as machines', () => {
  it('pending, running, stopping and stopped instances are machines: starting, running, stopped', () => {
    expect(
      machineListing([
        instance('lab-manager-1', 'running', { role: 'manager' }),
        instance('lab-worker-1', 'pending'),
        instance('lab-worker-2', 'stopping'),
        instance('lab-worker-3', 'stopped', {
          StateReason: { Code: 'Client.UserInitiatedShutdown', Message: 'stopped by you' },
        }),
      ]),
    ).toEqual([
      { name: 'lab-manager-1', role: 'manager', state: 'running' },
      { name: 'lab-worker-1', role: 'worker', state: 'starting' },
      { name: 'lab-worker-2', role: 'worker', state: 'stopped' },
      { name: 'lab-worker-3', role: 'worker', state: 'stopped', reason: 'stopped by you' },
    ]);
  });

  it('a terminated instance is no machine; one that died while pending is failed with its reason, unless its Name lives on', () => {
    expect(machineListing([instance('lab-worker-1', 'terminated', userShutdown)])).toEqual([]);
    expect(machineListing([instance('lab-worker-1', 'shutting-down', userShutdown)])).toEqual([]);
    expect(machineListing([instance('lab-worker-1', 'terminated', launchFailure)])).toEqual([
      {
        name: 'lab-worker-1',
        role: 'worker',
        state: 'failed',
        reason: 'Server.InsufficientInstanceCapacity: Insufficient capacity.',
      },
    ]);
    expect(
      machineListing([
        instance('lab-worker-1', 'terminated', launchFailure),
        instance('lab-worker-1', 'pending'),
      ]),
    ).toEqual([{ name: 'lab-worker-1', role: 'worker', state: 'starting' }]);
    // The newest of a node's dead instances tells: a replacement that was terminated later is no failure.
    expect(
      machineListing([
        instance('lab-worker-1', 'terminated', { ...launchFailure, LaunchTime: new Date(1000) }),
        {
          ...instance('lab-worker-1', 'terminated', { ...userShutdown, LaunchTime: new Date(2000) }),
          InstanceId: 'i-2',
        },
      ]),
    ).toEqual([]);
  });

  it('reach waits for a replacement not listed yet, and fails at once when the current life died', () => {
    const current = (name: string) => (name === 'lab-worker-1' ? 'token-1' : undefined);
    const old = instance('lab-worker-1', 'terminated', { ...userShutdown, ClientToken: 'token-0' });
    expect(reachStatus(['lab-worker-1'], [old], current)).toEqual({
      ready: [],
      waiting: [{ name: 'lab-worker-1', seen: 'not listed yet' }],
      died: [],
    });
    const dead = instance('lab-worker-1', 'terminated', { ...launchFailure, ClientToken: 'token-1' });
    expect(reachStatus(['lab-worker-1'], [old, dead], current).died).toEqual([
      {
        name: 'lab-worker-1',
        id: dead.InstanceId,
        state: 'terminated',
        reason: 'Server.InsufficientInstanceCapacity: Insufficient capacity.',
      },
    ]);
    const up = instance('lab-worker-1', 'running', { PrivateIpAddress: '10.0.0.9' });
    expect(reachStatus(['lab-worker-1'], [old, up], current).ready).toEqual([up]);
    expect(reachStatus(['lab-worker-1'], [instance('lab-worker-1', 'running')], current).waiting).toEqual([
      { name: 'lab-worker-1', seen: 'running, no address yet' },
    ]);
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
    const api = standIn({
      GetParameter: (i) => {
        expect(i.Name).toBe(
          '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
        );
        return { Parameter: { Value: 'ami-0abc' } };
      },
      DescribeInstanceTypes: () => ({
        InstanceTypes: [{ ProcessorInfo: { SupportedArchitectures: ['x86_64'] } }],
      }),
      DescribeImages: () => ({
        Images: [
          {
            ImageId: 'ami-0abc',
            Name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241004',
            RootDeviceName: '/dev/sda1',
          },
        ],
      }),
    });
    const spec = resolveCluster(undefined, { name: 'lab', provider: 'ec2', sshCidr: '203.0.113.7/32' });
    expect(await resolveImage(api, spec.ec2!, spec.engine)).toMatchObject({
      imageId: 'ami-0abc',
      user: 'ubuntu',
      rootDevice: '/dev/sda1',
    });
    expect(loginUserFor('debian-12-amd64-20240717-1811')).toBe('admin');
    expect(loginUserFor('al2023-ami-2023.5.20240722.0-kernel-6.1-x86_64')).toBe('ec2-user');
  });

  it("stand-in: a key pair whose fingerprint (as AWS reports it) is not the local key's is refused before anything is made", async () => {
    freshHome();
    const keyFile = join(process.env.SWARMUP_HOME!, 'mine.pub');
    writeFileSync(keyFile, ED25519 + '\n');
    const spec = resolveCluster(undefined, {
      name: 'lab',
      provider: 'ec2',
      sshCidr: '203.0.113.7/32',
      ami: 'ami-0abc',
      managers: '1',
      workers: '0',
      sshKey: keyFile,
    });
    for (const [fingerprint, ok] of [
      [ED25519_AWS, true],
      ['Ny3kzWbpXpP0c3Ut1GFkqJvmlvJ8sFuDF5V4wgnWo0k', false],
    ] as const) {
      const fake = standInEc2();
      const handlers = fake.api.ec2 as unknown as { send: (c: unknown) => Promise<unknown> };
      const send = handlers.send;
      handlers.send = async (c) =>
        (c as { constructor: { name: string } }).constructor.name === 'DescribeKeyPairsCommand'
          ? { KeyPairs: [{ KeyName: 'swarmup-lab', KeyFingerprint: fingerprint, Tags: ownTags() }] }
          : send(c);
      const state = new StateStore('lab');
      const run = provisionAll(new Ec2Provider(spec, state, { aws: async () => fake.api, pollMs: 1 }));
      if (ok) {
        await run;
        expect(fake.launched()).toBe(1);
        continue;
      }
      await expect(run).rejects.toThrow(
        `key pair swarmup-lab in eu-west-1 does not match the key in ${keyFile} (AWS reports fingerprint Ny3kzWbpXpP0c3Ut1GFkqJvmlvJ8sFuDF5V4wgnWo0k, the local key's is ${ED25519_AWS}): delete the key pair swarmup-lab in eu-west-1`,
      );
      await expect(run).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringContaining('swarmup down --name lab'),
      });
      expect(fake.api.calls.map(([n]) => n)).not.toContain('RunInstances');
      expect(fake.api.calls.map(([n]) => n)).not.toContain('ImportKeyPair');
      expect(fake.api.calls.map(([n]) => n)).not.toContain('CreateSecurityGroup');
      expect(fake.api.calls.map(([n]) => n)).not.toContain('AuthorizeSecurityGroupIngress');
    }
  });

  it('stand-in: list() creates nothing, here or in AWS (no key, no state, no key pair)', async () => {
    freshHome();
    const fake = standInEc2();
    const provider = new Ec2Provider(labSpec(1, 1), new StateStore('lab'), { aws: async () => fake.api });
    expect(await provider.list()).toEqual([]);
    expect(new StateStore('lab').exists()).toBe(false);
    expect(fake.api.calls.map(([n]) => n)).toEqual(['DescribeInstances']);
  });

  it('stand-in: the emulator ignores ClientToken; AWS returns the same instance for the same token, and swarmup sends the same token on a re-run', async () => {
    freshHome();
    const fake = standInEc2();
    const state = new StateStore('lab');
    const provider = () => new Ec2Provider(labSpec(3, 0), state, { aws: async () => fake.api, pollMs: 1 });
    await provisionAll(provider());
    const first = fake.api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i.ClientToken);
    // The re-run does not see the instances (the crash window): it launches again with the same tokens...
    for (const id of fake.instances.keys()) fake.hidden.add(id);
    const again = await provisionAll(provider());
    const all = fake.api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i.ClientToken);
    expect(all.slice(3)).toEqual(first);
    // ...so AWS hands back the same three instances instead of three more.
    expect(fake.launched()).toBe(3);
    expect(again.machines.map((m) => m.name)).toEqual(['lab-manager-1', 'lab-manager-2', 'lab-manager-3']);
    expect(state.read()?.lives).toBeUndefined();
  });

  it('stand-in: a node whose instance was terminated gets a new token on the next create; a crash-retry gets the same token', async () => {
    freshHome();
    const fake = standInEc2();
    const state = new StateStore('lab');
    const provider = () => new Ec2Provider(labSpec(1, 1), state, { aws: async () => fake.api, pollMs: 1 });
    await provisionAll(provider());
    const generation = state.read()!.generation!;
    const old = fake.idOf('lab-worker-1');
    expect(fake.tokensLaunched('lab-worker-1')).toEqual([launchToken('lab', generation, 'lab-worker-1', 0)]);

    fake.terminate(old);
    const replaced = await provisionAll(provider());
    expect(replaced.created).toBe(1);
    const next = launchToken('lab', generation, 'lab-worker-1', 1);
    expect(fake.tokensLaunched('lab-worker-1')).toEqual([
      launchToken('lab', generation, 'lab-worker-1', 0),
      next,
    ]);
    expect(state.read()?.lives).toEqual({ 'lab-worker-1': 1 });
    const replacement = fake.idOf('lab-worker-1');
    expect(replacement).not.toBe(old);
    expect(fake.launched()).toBe(3);

    // A crash right after that launch: the re-run sees only the old, terminated instance, and sends the same token.
    fake.hidden.add(replacement);
    const retry = provider();
    await retry.prepare(() => undefined);
    await retry.create({ name: 'lab-worker-1', role: 'worker' }, () => undefined);
    expect(fake.tokensLaunched('lab-worker-1').at(-1)).toBe(next);
    expect(fake.launched()).toBe(3);
    expect(state.read()?.lives).toEqual({ 'lab-worker-1': 1 });
    expect((await retry.reach(['lab-worker-1'])).map((m) => m.name)).toEqual(['lab-worker-1']);
  });

  it("stand-in: an instance that dies while pending is listed failed, fails reach at once with AWS's reason, and is replaced", async () => {
    freshHome();
    const fake = standInEc2();
    const state = new StateStore('lab');
    const provider = () => new Ec2Provider(labSpec(1, 0), state, { aws: async () => fake.api, pollMs: 1 });
    const p = provider();
    await p.prepare(() => undefined);
    await p.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined);
    fake.terminate(fake.idOf('lab-manager-1'), launchFailure.StateReason);
    expect(await p.list()).toEqual([
      {
        name: 'lab-manager-1',
        role: 'manager',
        state: 'failed',
        reason: 'Server.InsufficientInstanceCapacity: Insufficient capacity.',
      },
    ]);
    const started = Date.now();
    await expect(p.reach(['lab-manager-1'])).rejects.toThrow(
      /lab-manager-1: wait for the instance to run: instance i-1 is terminated: Server\.InsufficientInstanceCapacity/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    const again = await provisionAll(provider());
    expect(again.machines.map((m) => m.name)).toEqual(['lab-manager-1']);
    expect(fake.idOf('lab-manager-1')).toBe('i-2');
    expect(state.read()?.lives).toEqual({ 'lab-manager-1': 1 });
  });
});

describe('user data', () => {
  it('starts the engine installation at boot for unpinned docker-ce and distro; leaves pinned installs to the engine step', () => {
    expect(engineUserData('ubuntu', { source: 'docker-ce' })).toMatch(
      /download\.docker\.com\/linux\/\$ID \$VERSION_CODENAME stable/,
    );
    expect(engineUserData('ubuntu', { source: 'distro' })).toMatch(/install docker\.io/);
    expect(engineUserData('ubuntu', { source: 'docker-ce', version: '27.3' })).toBeUndefined();
    expect(engineUserData('ubuntu', { source: 'none' })).toBeUndefined();
  });
});

const batchZones = ['eu-west-1c', 'eu-west-1a', 'eu-west-1b'];

describe('EC2 launches in batches (pure)', () => {
  it('3+997 nodes: one launch per zone and role (6, not 1000), every node once, managers 1-1-1, workers 333-332-332', () => {
    const wanted = wantedNodes('big', 3, 997);
    const batches = launchBatches(wanted, wanted, batchZones);
    expect(batches.map((b) => [b.role, b.zone, b.nodes.length])).toEqual([
      ['manager', 'eu-west-1a', 1],
      ['manager', 'eu-west-1b', 1],
      ['manager', 'eu-west-1c', 1],
      ['worker', 'eu-west-1a', 333],
      ['worker', 'eu-west-1b', 332],
      ['worker', 'eu-west-1c', 332],
    ]);
    const names = batches.flatMap((b) => b.nodes.map((n) => n.name));
    expect(names.sort()).toEqual(wanted.map((n) => n.name).sort());
    expect(batches.every((b) => b.nodes.every((n) => n.role === b.role))).toBe(true);
  });

  it('a replacement alone is launched in the zone of its slot', () => {
    const wanted = wantedNodes('lab', 3, 3);
    const w2 = wanted.find((n) => n.name === 'lab-worker-2')!;
    expect(launchBatches([w2], wanted, batchZones)).toEqual([
      { zone: 'eu-west-1b', role: 'worker', nodes: [w2] },
    ]);
  });

  it("a batch's token: the same for the same nodes and lives (any order), another for any other set, life or zone attempt; at most 64 characters", () => {
    const t = batchToken(['a#0', 'b#0'], 0);
    expect(t).toBe(batchToken(['b#0', 'a#0'], 0));
    expect(t).not.toBe(batchToken(['a#0'], 0));
    expect(t).not.toBe(batchToken(['a#0', 'b#1'], 0));
    expect(batchToken(['a#0', 'b#0'], 1)).toBe(`${t}-z1`);
    expect(batchToken(['a#0', 'b#0'], 1).length).toBeLessThanOrEqual(64);
    expect(t).toMatch(/^swarmup-[0-9a-f]{40}$/);
  });

  it('unnamed instances (a run stopped between launch and naming) are adopted by role, own zone first; the rest launch', () => {
    const n = (name: string, role: 'manager' | 'worker', zone: string) => ({ name, role, zone });
    const { adopted, left } = adopt(
      [
        { id: 'i-1', role: 'worker', zone: 'a' },
        { id: 'i-2', role: 'worker', zone: 'b' },
        { id: 'i-3', role: 'manager', zone: 'c' },
      ],
      [n('w1', 'worker', 'b'), n('w2', 'worker', 'c'), n('w3', 'worker', 'a'), n('m1', 'manager', 'a')],
    );
    expect(adopted.map((a) => [a.node.name, a.id])).toEqual([
      ['w1', 'i-2'],
      ['w3', 'i-1'],
      ['m1', 'i-3'],
    ]);
    expect(left.map((x) => x.name)).toEqual(['w2']);
    // A worker never takes a manager's instance (its role tag says manager), nor the other way round.
    expect(adopt([{ id: 'i-9', role: 'manager', zone: 'a' }], [n('w1', 'worker', 'a')]).left).toHaveLength(1);
  });

  it('launched instances are named in launch order; fewer launched than asked leaves the last nodes for the next zone', () => {
    expect(
      nameLaunched(
        [
          { id: 'i-b', index: 1 },
          { id: 'i-a', index: 0 },
        ],
        ['w1', 'w2', 'w3'],
      ),
    ).toEqual({
      named: [
        { node: 'w1', id: 'i-a' },
        { node: 'w2', id: 'i-b' },
      ],
      left: ['w3'],
    });
  });
});
