import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { ConfigFile } from '../../src/config/schema.ts';
import { KnownHostsFile } from '../../src/transport/known-hosts.ts';
import { cidrAnswer, configProblem } from '../../src/wizard/check.ts';
import { inventory } from '../../src/wizard/hosts.ts';
import { renderConfig } from '../../src/wizard/render.ts';
import { PendingKnownHosts } from '../../src/wizard/ssh-check.ts';
import { generateEd25519 } from '../../src/state/cluster-key.ts';

const docker: ConfigFile = { name: 'local', provider: 'docker', managers: 3, workers: 2 };
const ssh: ConfigFile = {
  name: 'lab',
  provider: 'ssh',
  managers: 1,
  ...inventory([
    { name: 'node-1', address: '192.168.1.130', user: 'root', port: 22, privateKey: '~/.ssh/id_ed25519' },
    { name: 'node-2', address: '192.168.1.131', user: 'admin', port: 2222, privateKey: '~/.ssh/id_ed25519' },
  ]),
  engine: { source: 'script', version: '27.3' },
};
const ec2: ConfigFile = {
  name: 'aws-lab',
  provider: 'ec2',
  managers: 5,
  workers: 0,
  engine: { source: 'docker-ce' },
  ec2: {
    region: 'eu-west-1',
    profile: 'work',
    instanceType: 't3.small',
    sshKey: '~/.ssh/id_ed25519.pub',
    sshCidr: ['203.0.113.7/32', '2001:db8::/48'],
  },
};

describe('wizard: the YAML writer', () => {
  for (const [what, config] of Object.entries({ docker, ssh, ec2 })) {
    it(`${what}: the file reads back, through the config loader, as the very answers, and resolves`, () => {
      const text = renderConfig(config, 'swarmup.yaml');
      expect(parseConfig(text, 'swarmup.yaml')).toEqual(config);
      expect(() => resolveCluster(parseConfig(text, 'swarmup.yaml'), {}, 'swarmup.yaml')).not.toThrow();
    });
  }

  it('comments what each setting means, and how to use the file', () => {
    const text = renderConfig(ec2, 'aws.yaml');
    expect(text).toMatch(/^# See what up would do: swarmup plan --config aws\.yaml$/m);
    expect(text).toMatch(/^# Managers: 1 = no fault tolerance, 3 tolerate the loss of 1, 5 of 2, 7 of 3\.$/m);
    expect(text).toMatch(/^ {2}# who may reach SSH/m);
    expect(text).toMatch(/^ {2}# ami: ami-0123456789abcdef0/m);
    // Every setting has its comment just above it.
    const lines = text.split('\n');
    for (const key of ['name', 'provider', 'managers', 'workers', 'engine', 'ec2']) {
      const at = lines.findIndex((l) => l.startsWith(`${key}:`));
      expect(lines[at - 1], key).toMatch(/^# /);
    }
  });

  it('ssh: the hosts as the inventory writes them, one flow map each, shared settings under ssh:', () => {
    const text = renderConfig(ssh, 'lab.yaml');
    expect(text).toMatch(/^ {2}- \{ name: node-1, address: 192\.168\.1\.130 \}$/m);
    expect(text).toMatch(/^ {2}- \{ name: node-2, address: 192\.168\.1\.131, user: admin, port: 2222 \}$/m);
    expect(ssh.ssh).toEqual({ user: 'root', port: 22, privateKey: '~/.ssh/id_ed25519' });
  });

  it('ssh: a key not shared by every host stays with its host (a default key cannot be undone per host)', () => {
    const inv = inventory([
      { name: 'a', address: '10.0.0.1', user: 'root', port: 22, privateKey: '~/.ssh/a' },
      { name: 'b', address: '10.0.0.2', user: 'root', port: 22 },
    ]);
    expect(inv).toEqual({
      ssh: { user: 'root', port: 22 },
      hosts: [
        { name: 'a', address: '10.0.0.1', privateKey: '~/.ssh/a' },
        { name: 'b', address: '10.0.0.2' },
      ],
    });
  });
});

describe('wizard: answers judged by the config file rules', () => {
  it('accepts what the file accepts, an ssh inventory before its hosts included', () => {
    expect(configProblem(docker)).toBeUndefined();
    expect(configProblem({ provider: 'ssh', name: 'lab' })).toBeUndefined();
  });

  it('refuses with the field and the rule the file would give', () => {
    expect(configProblem({ provider: 'docker', name: 'Lab_1' })).toMatch(/^name: lowercase letters/);
    expect(configProblem({ provider: 'docker', managers: 4 })).toMatch(
      /^managers: managers must be 1, 3, 5 or 7, not 4/,
    );
    expect(configProblem({ provider: 'docker', workers: 1000 })).toBeUndefined();
    expect(configProblem({ provider: 'docker', workers: 1001 })).toMatch(/^workers: at most 1000/);
    expect(configProblem({ provider: 'ec2', ec2: { sshCidr: '0.0.0.0/0' } })).toMatch(
      /^ec2\.sshCidr: 0\.0\.0\.0\/0 would open SSH to the whole internet/,
    );
    expect(
      configProblem({ provider: 'ec2', ec2: { sshCidr: cidrAnswer('10.0.0.0/8, 203.0.113.7/32') } }),
    ).toMatch(/^ec2\.sshCidr: .*more than one \/16/);
    expect(configProblem({ provider: 'ec2', ec2: { sshCidr: 'nowhere' } })).toMatch(/not a CIDR block/);
    expect(
      configProblem({
        provider: 'ssh',
        hosts: [
          { name: 'a', address: '10.0.0.1' },
          { name: 'a', address: '10.0.0.2' },
        ],
      }),
    ).toMatch(/^hosts\[1\]\.name: "a" is already used by hosts\[0\]/);
    expect(configProblem({ provider: 'ssh', hosts: [{ name: 'a', address: 'x;rm' }] })).toMatch(
      /^hosts\[0\]\.address: an IP address or a DNS name/,
    );
    expect(
      configProblem({ provider: 'ssh', managers: 3, hosts: [{ name: 'a', address: '10.0.0.1' }] }),
    ).toMatch(/more than the 1 node there is/);
  });
});

describe('wizard: host keys of the machines it logged in to', () => {
  const blob = (seed: string) =>
    ssh2.utils.parseKey(generateEd25519(seed).public) as {
      getPublicSSH(): Buffer;
    };

  it('holds first-seen keys in memory; commit pins them where up reads them', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'swarmup-wizard-kh-')), 'lab', 'known_hosts');
    const key = blob('one').getPublicSSH();
    const pending = new PendingKnownHosts(path);
    pending.verify('node-1', '[127.0.0.1]:2222', key);
    pending.verify('node-1', '[127.0.0.1]:2222', key);
    expect(existsSync(path)).toBe(false);
    pending.commit();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(() => new KnownHostsFile(path).verify('node-1', '[127.0.0.1]:2222', key)).not.toThrow();
  });

  it('a key other than the pinned one is refused, as up refuses it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'swarmup-wizard-kh-')), 'known_hosts');
    new KnownHostsFile(path).verify('node-1', 'host.example', blob('old').getPublicSSH());
    expect(() =>
      new PendingKnownHosts(path).verify('node-1', 'host.example', blob('new').getPublicSSH()),
    ).toThrow(/has changed since it was first trusted/);
  });
});
