import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { parseConfig, parseInput } from '../../src/config/load.ts';
import { mayConfigure, opensshResolver } from '../../src/transport/openssh-config.ts';
import { inputError } from '../support/input-error.ts';

/** ssh hosts resolved by the real OpenSSH client (`ssh -G -F FILE`), from a config file of the test's own. */
const dir = mkdtempSync(join(tmpdir(), 'swarmup-sshcfg-'));
const key = join(dir, 'id_lab');
const jumpKey = join(dir, 'id_jump');
writeFileSync(key, 'not read here');
writeFileSync(jumpKey, 'not read here');

function sshConfig(text: string): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

const lab = sshConfig(
  [
    'Host lab-*',
    '  User deploy',
    `  IdentityFile ${join(dir, 'missing_key')}`,
    `  IdentityFile ${dir}/id_%r`,
    'Host lab-a',
    '  HostName 10.0.0.11',
    '  Port 2201',
    'Host lab-b',
    '  HostName 10.0.0.12',
    '  ProxyJump bastion',
    'Host lab-c',
    '  HostName 10.0.0.13',
    '  ProxyJump admin@10.0.0.99:2022',
    'Host bastion',
    '  HostName 10.0.0.1',
    '  Port 2200',
    '  User jumper',
    `  IdentityFile ${jumpKey}`,
    'Host chained',
    '  ProxyJump bastion,lab-a',
    'Host piped',
    '  ProxyCommand nc %h %p',
    '',
  ].join('\n'),
);

/** Asked all at once, as a run asks them (lab-a... known beforehand); a jump host's alias is asked when met. */
const labResolver = await opensshResolver(
  ['lab-a', 'lab-b', 'lab-c', 'chained', 'piped', 'other', '10.1.1.1'],
  lab,
);

const reach = (
  inventory: string,
  file = 'hosts.ini',
  resolve: Awaited<ReturnType<typeof opensshResolver>> | 'none' = labResolver,
) => {
  const { config } = parseInput(inventory, file);
  return resolveCluster(config, {}, file, resolve === 'none' ? undefined : resolve).hosts.map((h) => ({
    name: h.name,
    at: `${h.user}@${h.address}:${h.port}`,
    key: h.privateKey,
    jump: h.jump && `${h.jump.user}@${h.jump.address}:${h.jump.port} ${h.jump.privateKey}`,
    advertise: h.advertiseAddress,
    from: h.fromSshConfig,
  }));
};

describe('~/.ssh/config as OpenSSH resolves it (ssh -G)', () => {
  it('an alias: HostName, Port, User and the first IdentityFile that exists (tokens expanded)', async () => {
    expect(reach('[managers]\nlab-a\n')).toEqual([
      {
        name: 'lab-a',
        at: 'deploy@10.0.0.11:2201',
        key: undefined,
        jump: undefined,
        advertise: '10.0.0.11',
        from: ['HostName', 'Port', 'User'],
      },
    ]);
    writeFileSync(join(dir, 'id_deploy'), 'not read here');
    expect(reach('[managers]\nlab-a\n', 'h.ini', await opensshResolver(['lab-a'], lab))[0]!.key).toBe(
      join(dir, 'id_deploy'),
    );
  });

  it("swarmup's own fields win over the configuration's", () => {
    const [h] = reach(
      `[managers]\nlab-a ansible_port=22 ansible_user=root ansible_ssh_private_key_file=${key}\n`,
    );
    expect(h).toMatchObject({ at: 'root@10.0.0.11:22', key, from: ['HostName'] });
    // swarmup's YAML: the ssh: defaults are swarmup's fields too.
    const spec = resolveCluster(
      parseConfig('provider: ssh\nssh: { user: admin }\nhosts:\n  - { name: a, address: lab-a }\n', 'f'),
      {},
      'f',
      labResolver,
    );
    expect(spec.hosts[0]).toMatchObject({ address: '10.0.0.11', port: 2201, user: 'admin' });
  });

  it('ProxyJump to an alias is resolved in turn (its HostName, Port, User, IdentityFile); user@host:port as written', () => {
    expect(reach('[managers]\nlab-b\n[workers]\nlab-c\n').map((h) => [h.at, h.jump, h.from])).toEqual([
      [
        'deploy@10.0.0.12:22',
        `jumper@10.0.0.1:2200 ${jumpKey}`,
        ['HostName', 'User', 'IdentityFile', 'ProxyJump'],
      ],
      [
        'deploy@10.0.0.13:22',
        `admin@10.0.0.99:2022 ${join(dir, 'id_deploy')}`,
        ['HostName', 'User', 'IdentityFile', 'ProxyJump'],
      ],
    ]);
  });

  it('a chain of jump hosts and a ProxyCommand are refused (exit 2), naming the host', () => {
    expect(inputError(() => reach('[managers]\nchained\n'))).toContain(
      'hosts.ini: host chained: ProxyJump bastion,lab-a: one jump host only',
    );
    expect(inputError(() => reach('[managers]\npiped\n'))).toContain(
      'hosts.ini: host piped: the ssh configuration gives piped a ProxyCommand',
    );
  });

  it('with --no-ssh-config (no resolver) the alias is the address and swarmup defaults apply', () => {
    expect(reach('[managers]\nlab-a\n', 'h.ini', 'none')[0]).toMatchObject({ at: 'root@lab-a:22' });
  });

  it('a host no Host block names is left as it is', () => {
    expect(reach('[managers]\nother ansible_host=10.1.1.1\n')[0]).toMatchObject({
      at: 'root@10.1.1.1:22',
      from: undefined,
    });
    expect(homedir()).not.toBe('');
  });

  it('ssh -G is run only when some configuration file names a field swarmup reads', () => {
    const debian =
      'Include /etc/ssh/ssh_config.d/*.conf\nHost *\n    SendEnv LANG LC_*\n    HashKnownHosts yes\n';
    const system = { path: '/etc/ssh/ssh_config', text: debian };
    expect(mayConfigure([{ path: '/root/.ssh/config', text: undefined }, system])).toBe(false);
    expect(
      mayConfigure([
        { path: '/root/.ssh/config', text: 'Host *\n  ServerAliveInterval 30 # Port 22\n' },
        system,
      ]),
    ).toBe(false);
    for (const line of [
      'Host lab\n  HostName 10.0.0.1',
      'Host *\n  user=deploy',
      'Match host x',
      'Include ~/.ssh/more',
    ])
      expect(mayConfigure([{ path: '/root/.ssh/config', text: line }, system])).toBe(true);
    // The same Include elsewhere than the system file is not the one whose folder is read.
    expect(mayConfigure([{ path: '/root/.ssh/config', text: 'Include /etc/ssh/ssh_config.d/*.conf' }])).toBe(
      true,
    );
  });
});
