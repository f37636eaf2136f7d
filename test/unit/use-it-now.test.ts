import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/config/cluster.ts';
import { managerCandidates } from '../../src/cli/access.ts';
import { completionScript, describeProgram, recordedNodeNames } from '../../src/cli/completion.ts';
import { contextDescription, contextName, ownership } from '../../src/cli/docker-context.ts';
import { envLines } from '../../src/cli/env.ts';
import { liveOf, lsRow, recordedClusters, renderLs } from '../../src/cli/ls.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { bastionAlias, forwardArgv, sshArgv, sshConfigText } from '../../src/cli/ssh-config.ts';
import type { Verification } from '../../src/swarm/verify.ts';

const host = (over: Partial<HostSpec>): HostSpec => ({
  name: 'lab-manager-1',
  address: '127.0.0.1',
  port: 32768,
  user: 'root',
  advertiseAddress: '10.0.0.2',
  role: 'manager',
  ...over,
});

describe('ssh_config of a cluster', () => {
  it("pins host keys in swarmup's known_hosts, uses only the cluster key, keeps the node alias", () => {
    const text = sshConfigText([host({ privateKey: '/s/lab/id_ed25519', hostKeyAlias: 'lab-manager-1' })], {
      knownHosts: '/s/lab/known_hosts',
    });
    expect(text).toContain('Host lab-manager-1\n  HostName 127.0.0.1\n  Port 32768\n  User root\n');
    for (const line of [
      'HostKeyAlias lab-manager-1',
      'UserKnownHostsFile /s/lab/known_hosts',
      'GlobalKnownHostsFile /dev/null',
      'StrictHostKeyChecking yes',
      'IdentityFile /s/lab/id_ed25519',
      'IdentitiesOnly yes',
      'ConnectTimeout 15',
    ])
      expect(text).toContain(`  ${line}\n`);
    expect(text).not.toContain('ProxyJump');
  });

  it('a bastion becomes a Host of its own, and the nodes behind it ProxyJump to it (once)', () => {
    const jump = { name: 'bastion 203.0.113.9', address: '203.0.113.9', port: 2222, user: 'ec2-user' };
    const text = sshConfigText(
      [
        host({ name: 'n1', address: '10.0.1.5', port: 22, user: 'ubuntu', jump }),
        host({ name: 'n2', address: '10.0.1.6', port: 22, user: 'ubuntu', jump }),
      ],
      { knownHosts: '/s/known_hosts' },
    );
    const alias = bastionAlias('203.0.113.9', 2222);
    expect(alias).toBe('bastion-203.0.113.9-2222');
    expect(text.match(/ProxyJump bastion-203\.0\.113\.9-2222/g)).toHaveLength(2);
    expect(text.match(new RegExp(`^Host ${alias}$`, 'gm'))).toHaveLength(1);
    expect(text).toContain(`Host ${alias}\n  HostName 203.0.113.9\n  Port 2222\n  User ec2-user\n`);
    // No key given: the agent's and the user's defaults, not IdentitiesOnly.
    expect(text).not.toContain('IdentitiesOnly');
  });

  it('paths with spaces are quoted; a value with a double quote is refused', () => {
    const text = sshConfigText([host({ privateKey: '/home/a b/key' })], { knownHosts: '/x y/kh' });
    expect(text).toContain('  IdentityFile "/home/a b/key"\n');
    expect(text).toContain('  UserKnownHostsFile "/x y/kh"\n');
    expect(() => sshConfigText([host({ user: 'a"b' })], { knownHosts: '/k' })).toThrow(/cannot be written/);
  });

  it("ssh argv: the command's words are quoted for the remote shell; -t only when asked", () => {
    expect(sshArgv('/s/ssh_config', 'n1', [], false)).toEqual(['-F', '/s/ssh_config', 'n1']);
    expect(sshArgv('/s/ssh_config', 'n1', ['sh', '-c', 'exit 7'], true)).toEqual([
      '-F',
      '/s/ssh_config',
      '-t',
      'n1',
      '--',
      "sh -c 'exit 7'",
    ]);
  });

  it('the forwarder: no command, no terminal, fails rather than runs without its forward', () => {
    const argv = forwardArgv('/s/ssh_config', 'n1', '/s/docker.sock', '/var/run/docker.sock');
    expect(argv.slice(0, 4)).toEqual(['-F', '/s/ssh_config', '-N', '-T']);
    expect(argv).toContain('ExitOnForwardFailure=yes');
    expect(argv).toContain('BatchMode=yes');
    expect(argv.slice(-3)).toEqual(['-L', '/s/docker.sock:/var/run/docker.sock', 'n1']);
  });
});

describe('docker context ownership', () => {
  it('ours only with our exact description; any other one is foreign', () => {
    expect(contextName('lab')).toBe('swarmup-lab');
    const mine = contextDescription('lab', '/h/lab');
    expect(mine).toBe('swarmup cluster lab (/h/lab)');
    expect(ownership(undefined, 'lab', '/h/lab')).toBe('absent');
    expect(ownership(mine, 'lab', '/h/lab')).toBe('ours');
    expect(ownership('', 'lab', '/h/lab')).toBe('foreign');
    // Another state home's cluster of the same name is not this one's.
    expect(ownership(contextDescription('lab', '/other/lab'), 'lab', '/h/lab')).toBe('foreign');
  });

  it('managers are tried leader first, then other managers, then hosts of open role', () => {
    const hosts = [
      host({ name: 'm1' }),
      host({ name: 'm2' }),
      host({ name: 'w1', role: 'worker' }),
      host({ name: 'a1', role: 'auto' }),
    ];
    const v = {
      ok: true,
      problems: [],
      nodes: [
        { name: 'm1', role: 'manager', leader: false },
        { name: 'm2', role: 'manager', leader: true },
        { name: 'gone', role: 'manager', leader: false },
      ],
    } as unknown as Verification;
    expect(managerCandidates(hosts, v)).toEqual(['m2', 'm1', 'a1']);
    expect(managerCandidates(hosts)).toEqual(['m1', 'm2', 'a1']);
  });
});

describe('swarmup env lines', () => {
  it('exports the context, unsets a DOCKER_HOST that would win over it, and undoes itself', () => {
    expect(envLines('lab', { socket: '/h/lab/docker.sock', node: 'lab-manager-1' })).toEqual([
      'export DOCKER_CONTEXT=swarmup-lab',
      '# swarmup cluster lab: the docker CLI reaches unix:///h/lab/docker.sock, forwarded by ssh to lab-manager-1; undo: eval "$(swarmup env --unset)"',
    ]);
    expect(envLines('lab', { dockerHostSet: true, socket: '/s' })).toContain('unset DOCKER_HOST');
    expect(envLines('lab', { unset: true })).toEqual(['unset DOCKER_CONTEXT']);
  });
});

describe('swarmup ls', () => {
  it('a row from the record; the live part from a verification or an error', () => {
    const row = lsRow('lab', { name: 'lab', provider: 'docker', managers: 3, workers: 2, updatedAt: 'u' }, 0);
    expect(row).toEqual({
      cluster: 'lab',
      provider: 'docker',
      managers: 3,
      workers: 2,
      createdAt: '1970-01-01T00:00:00.000Z',
      updatedAt: 'u',
    });
    expect(lsRow('odd', {}, undefined)).toMatchObject({
      cluster: 'odd',
      provider: 'unknown',
      managers: null,
    });
    const v = {
      ok: false,
      problems: ['x'],
      nodes: [{ state: 'ready' }, { state: 'down' }],
    } as unknown as Verification;
    expect(liveOf(v)).toEqual({ reachable: true, ok: false, ready: 1, nodes: 2 });
    expect(liveOf(new Error('boom'))).toEqual({
      reachable: false,
      ok: false,
      ready: 0,
      nodes: 0,
      error: 'boom',
    });
  });

  it('renders a table, with the live column only when checked', () => {
    const rows = [
      { ...lsRow('lab', { provider: 'ec2', managers: 3, workers: 0 }, Date.UTC(2026, 0, 2, 3, 4)) },
      { ...lsRow('x', { provider: 'docker' }, undefined) },
    ];
    expect(renderLs(rows, false)).toBe(
      [
        'NAME   PROVIDER   MANAGERS   WORKERS   CREATED            STATE',
        'lab    ec2        3          0         2026-01-02 03:04   running',
        'x      docker     -          -         -                  running',
      ].join('\n'),
    );
    rows[0]!.live = { reachable: true, ok: true, ready: 3, nodes: 3 };
    rows[1]!.live = { reachable: false, ok: false, ready: 0, nodes: 0, error: 'gone' };
    const checked = renderLs(rows, true).split('\n');
    expect(checked[0]).toMatch(/CREATED\s+STATE\s+LIVE$/);
    expect(checked[1]).toMatch(/3\/3 ready$/);
    expect(checked[2]).toMatch(/unreachable: gone$/);
    expect(renderLs([], false)).toBe('no clusters');
  });

  it('lists the folders of a state home that hold a record, by name', () => {
    const home = mkdtempSync(join(tmpdir(), 'swarmup-ls-'));
    for (const [n, p] of [
      ['zeta', 'ssh'],
      ['alpha', 'docker'],
    ]) {
      mkdirSync(join(home, n!));
      writeFileSync(join(home, n!, 'state.json'), JSON.stringify({ name: n, provider: p }));
    }
    mkdirSync(join(home, 'not-a-cluster'));
    expect(recordedClusters(home).map((r) => [r.cluster, r.provider])).toEqual([
      ['alpha', 'docker'],
      ['zeta', 'ssh'],
    ]);
  });
});

describe('completion', () => {
  const spec = describeProgram(buildProgram(() => undefined));

  it('describes every visible command with its flags and what its argument is', () => {
    const paths = spec.map((c) => c.path);
    for (const p of ['up', 'down', 'env', 'ssh', 'ls', 'completion', 'engine install'])
      expect(paths).toContain(p);
    expect(paths).not.toContain('complete-nodes');
    const up = spec.find((c) => c.path === 'up')!;
    expect(up.flags.find((f) => f.flags.includes('--name'))!.value).toBe('cluster');
    expect(up.flags.find((f) => f.flags.includes('--provider'))!.value).toEqual({
      choices: ['docker', 'ssh', 'ec2', 'multipass'],
    });
    expect(up.flags.find((f) => f.flags.includes('--config'))).toMatchObject({
      flags: ['--config', '-c'],
      value: 'file',
    });
    expect(up.flags.find((f) => f.flags.includes('--yes'))!.value).toBe('none');
    expect(spec.find((c) => c.path === 'ssh')!.argument).toBe('node');
  });

  it('an unknown shell is bad input (exit 2)', () => {
    expect(() => completionScript('tcsh', spec)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('zsh reuses the bash function through bashcompinit; fish gets complete lines', () => {
    const z = completionScript('zsh', spec);
    expect(z).toContain('bashcompinit');
    expect(z).toContain('complete -o default -F _swarmup swarmup');
    const f = completionScript('fish', spec);
    expect(f).toContain(
      "complete -c swarmup -n '__fish_seen_subcommand_from up' -l name -x -a '(__swarmup_clusters)'",
    );
    expect(f).toContain("complete -c swarmup -n '__fish_seen_subcommand_from ssh' -a '(__swarmup_nodes)'");
  });

  it('node names of a record: the machines of its counts, or its inventory', () => {
    expect(recordedNodeNames({ name: 'lab', provider: 'docker', managers: 1, workers: 2 })).toEqual([
      'lab-manager-1',
      'lab-worker-1',
      'lab-worker-2',
    ]);
    expect(
      recordedNodeNames({
        name: 'inv',
        provider: 'ssh',
        managers: 1,
        hosts: [host({ name: 'node0' }), host({ name: 'node1' })],
      }),
    ).toEqual(['node0', 'node1']);
  });

  it("the bash script, run by bash, completes commands, flags, choices and the state home's clusters", async () => {
    const home = mkdtempSync(join(tmpdir(), 'swarmup-compl-'));
    mkdirSync(join(home, 'lab'));
    writeFileSync(join(home, 'lab', 'state.json'), '{}');
    mkdirSync(join(home, 'no-record'));
    const script = `${completionScript('bash', spec)}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _swarmup; echo "\${COMPREPLY[*]}"; }
t swarmup ''
t swarmup st
t swarmup up --prov
t swarmup up --provider ''
t swarmup status --name ''
t swarmup engine ''
t swarmup completion ''
`;
    const r = await execa('bash', ['-c', script], { env: { SWARMUP_HOME: home, PATH: process.env.PATH! } });
    expect(String(r.stdout).split('\n')).toEqual([
      'up plan status verify scale recover stop start down drain activate rotate-tokens unlock unlock-key rotate-ca backup upgrade diagnose cleanup wizard engine image run env ssh ls schema completion',
      'status stop start',
      '--provider',
      'docker ssh ec2 multipass',
      'lab',
      'install',
      'bash zsh fish',
    ]);
  });
});
