import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepBackups } from '../../src/state/kept-backups.ts';
import { testNodeImage } from '../support/suite.ts';
import { inNode, summaryOf, swarmState, swarmup, tempHome, type CliResult } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { restartNodeEngine } from '../support/node-engine.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * Day-2 secrets on real engines, one cluster of 3 managers + 1 worker in node containers, made with autolock from
 * a config file: join tokens rotated (a node with an old token is refused by the swarm), a manager locked by an
 * engine restart and unlocked by swarmup, the unlock key rotated, autolock turned off and on by `up`; and neither a
 * join token nor the unlock key anywhere but `unlock-key`'s stdout.
 */
const cluster = clusterFixture('e2e-lock');
const { name: NAME, home, env } = cluster;
const config = join(home, 'cluster.yaml');
const [M1, M2, M3] = ['manager-1', 'manager-2', 'manager-3'].map(cluster.node) as [string, string, string];
const STRANGER = cluster.node('stranger');
/** `unlock-key`'s whole stdout: one key, one line (execa drops the final newline). */
const KEY_LINE = /^SWMKEY-1-\S+$/;

/** Every run's output; `unlock-key`'s stdout is the one place the key may be, kept apart. */
const outputs: CliResult[] = [];
const keyOutputs: CliResult[] = [];
const run = async (...args: string[]) => {
  const r = await swarmup([...args, '--name', NAME], env);
  (args[0] === 'unlock-key' ? keyOutputs : outputs).push(r);
  return r;
};
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The test reads tokens itself, inside a manager, only to compare them; swarmup never shows them. */
async function joinTokens(): Promise<{ worker: string; manager: string }> {
  const worker = await inNode(M1, ['docker', 'swarm', 'join-token', '-q', 'worker']);
  const manager = await inNode(M1, ['docker', 'swarm', 'join-token', '-q', 'manager']);
  return { worker, manager };
}

const autolockOn = async () =>
  inNode(M1, ['docker', 'info', '-f', '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}']);

/** `docker node ls` from a manager, as "hostname status manager-status" lines. */
async function nodeLs(): Promise<string[]> {
  const out = await inNode(M1, [
    'docker',
    'node',
    'ls',
    '--format',
    '{{.Hostname}} {{.Status}} {{.ManagerStatus}}',
  ]);
  return out.split('\n').map((l) => l.trimEnd());
}

/**
 * Wait until `docker node ls` shows `line`: managers that were locked take a raft election after their unlock, which
 * on a loaded machine (three e2e files at a time on 2 cores) took longer than 30 s.
 */
async function waitNodeLs(line: string): Promise<void> {
  await waitUntil(`docker node ls to show "${line}"`, 120_000, async (seen) => {
    const ls = await nodeLs().catch((err: unknown) => [String(err)]);
    seen(ls.join('; '));
    return ls.includes(line) ? true : undefined;
  });
}

/** A machine that is no node of the cluster: a container of the node image on the cluster's network. */
async function startStranger(): Promise<void> {
  await execa('docker', [
    'run',
    '-d',
    '--name',
    STRANGER,
    '--hostname',
    STRANGER,
    '--network',
    `swarmup-${NAME}`,
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '--cgroupns',
    'host',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--mount',
    'type=volume,dst=/var/lib/docker',
    testNodeImage(),
    'sh',
    '-c',
    `dockerd --cgroup-parent /swarmup-${STRANGER} >/var/log/dockerd.log 2>&1 & exec sleep infinity`,
  ]);
  for (let i = 0; i < 150; i++) {
    if ((await execa('docker', ['exec', STRANGER, 'docker', 'info'], { reject: false })).exitCode === 0)
      return;
    await sleep(200);
  }
  throw new Error(`${STRANGER}: its engine did not start`);
}

const removeStranger = () => execa('docker', ['rm', '-f', '-v', STRANGER], { reject: false });

describe('join tokens and autolock (rotate-tokens, unlock, unlock-key)', () => {
  beforeAll(async () => {
    await removeStranger();
    await swarmup(['down', '--yes', '--name', NAME], env); // leftovers of an interrupted earlier run
    writeFileSync(
      config,
      [
        `name: ${NAME}`,
        'provider: docker',
        'managers: 3',
        'workers: 1',
        'swarm: { autolock: true }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await removeStranger();
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('up with swarm.autolock makes an autolocked swarm and keeps its unlock key 0600 beside the state', async () => {
    const r = await swarmup(['up', '--config', config, '--json'], env);
    outputs.push(r);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).ok).toBe(true);
    expect(summaryOf(r).nodes).toHaveLength(4);
    expect(await autolockOn()).toBe('true');

    const keyFile = join(home, NAME, 'unlock-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const k = await run('unlock-key');
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toMatch(KEY_LINE);
    expect(k.stderr).toBe('');
    expect(readFileSync(keyFile, 'utf8')).toBe(k.stdout + '\n');

    // Autolock is remembered (by its key): a re-run without the file or the flag changes nothing.
    const again = await run('up', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
    expect(await autolockOn()).toBe('true');
  });

  it('rotate-tokens renews the tokens it is asked for; a node with an old worker token is refused by the swarm', async () => {
    const before = await joinTokens();
    const w = await run('rotate-tokens', '--worker', '--json');
    expect(w.code, w.stderr).toBe(0);
    expect(w.events.filter((e) => e.event === 'action')).toEqual([
      expect.objectContaining({ kind: 'rotate-tokens', tokens: 'worker', status: 'ok' }),
    ]);
    expect(summaryOf(w).changes).toBe(1);
    const mid = await joinTokens();
    expect(mid.worker).not.toBe(before.worker);
    expect(mid.manager).toBe(before.manager);

    const both = await run('rotate-tokens');
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/join tokens rotated; 1 change/);
    const after = await joinTokens();
    expect(after.worker).not.toBe(mid.worker);
    expect(after.manager).not.toBe(mid.manager);

    await startStranger();
    try {
      const ip = String(
        (
          await execa('docker', [
            'inspect',
            '-f',
            `{{(index .NetworkSettings.Networks "swarmup-${NAME}").IPAddress}}`,
            M1,
          ])
        ).stdout,
      ).trim();
      const join = (token: string) =>
        execa('docker', ['exec', STRANGER, 'docker', 'swarm', 'join', '--token', token, `${ip}:2377`], {
          reject: false,
          timeout: 60_000,
        });
      const refused = await join(before.worker);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/valid join token is necessary/i);
      expect((await swarmState(STRANGER)).state).toBe('inactive');

      // The same machine with the current token joins: the refusal was the old token's, not the setup's.
      const joined = await join(after.worker);
      expect(joined.exitCode, joined.stderr).toBe(0);
      const { nodeId } = await swarmState(STRANGER);
      await inNode(STRANGER, ['docker', 'swarm', 'leave', '--force']);
      await inNode(M1, ['docker', 'node', 'rm', '--force', nodeId]);
    } finally {
      await removeStranger();
    }
  });

  it('a manager locked by an engine restart: status and up say to run unlock; unlock brings it back', async () => {
    await restartNodeEngine(M2, 'locked');

    const status = await run('status');
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`manager ${M2} is locked: run swarmup unlock`);
    const up = await run('up', '--json');
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`manager ${M2} is locked: run swarmup unlock`);
    expect(up.events.filter((e) => e.event === 'action')).toEqual([]);

    const r = await run('unlock');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${M2}: unlocked`);
    expect((await swarmState(M2)).state).toBe('active');
    await waitNodeLs(`${M2} Ready Reachable`);
    const st = await run('status', '--json');
    expect(st.code, st.stderr).toBe(0);

    // Nothing locked: unlock says so and changes nothing.
    const none = await run('unlock', '--json');
    expect(none.code, none.stderr).toBe(0);
    expect(summaryOf(none).changes).toBe(0);
  });

  it('unlock-key --rotate: the old key no longer unlocks, the new one (kept, printed) does, for every locked manager at once', async () => {
    const old = (await run('unlock-key')).stdout.trim();
    const rotated = await run('unlock-key', '--rotate');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(KEY_LINE);
    expect(rotated.stdout.trim()).not.toBe(old);
    expect((await run('unlock-key')).stdout).toBe(rotated.stdout);

    await restartNodeEngine(M2, 'locked');
    await restartNodeEngine(M3, 'locked');
    // The engine itself refuses the old key (given on stdin, as an operator would type it).
    const stale = await execa('docker', ['exec', '-i', M3, 'docker', 'swarm', 'unlock'], {
      input: old + '\n',
      reject: false,
    });
    expect(stale.exitCode).not.toBe(0);
    expect(stale.stderr).toMatch(/invalid key/i);

    const r = await run('unlock', '--json');
    expect(r.code, r.stderr).toBe(0);
    const unlocked = r.events
      .filter((e) => e.event === 'action' && e.kind === 'unlock' && e.status === 'ok')
      .map((e) => e.host);
    expect(unlocked.sort()).toEqual([M2, M3]);
    await waitNodeLs(`${M2} Ready Reachable`);
    await waitNodeLs(`${M3} Ready Reachable`);
  });

  it('backup of an autolocked swarm: the key is nowhere in the archive; --restore finds it in the state home and checks it opens the archive', async () => {
    const key = (await run('unlock-key')).stdout.trim();
    const b = await run('backup', '--json');
    expect(b.code, b.stderr).toBe(0);
    const event = b.events.find((e) => e.event === 'backup') as { file: string; autolock: boolean };
    expect(event.autolock).toBe(true);
    const human = await run('backup', '--restore', event.file);
    // Every member, and every byte (compressed and not): no key, in any of its forms.
    const members = String((await execa('tar', ['-tzf', event.file])).stdout).split('\n');
    expect(members[0]).toBe('swarmup-backup.json');
    expect(members.filter((m) => /unlock|key$/i.test(m) && !m.startsWith('swarm/certificates/'))).toEqual([]);
    const gz = readFileSync(event.file);
    const raw = gunzipSync(gz);
    const secret = Buffer.from(key.replace(/^SWMKEY-1-/, ''), 'base64');
    for (const bytes of [gz, raw]) {
      expect(bytes.includes(key)).toBe(false);
      expect(bytes.includes(key.replace(/^SWMKEY-1-/, ''))).toBe(false);
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes('SWMKEY')).toBe(false);
    }
    const meta = JSON.parse(
      String((await execa('tar', ['-xzOf', event.file, 'swarmup-backup.json'])).stdout),
    );
    expect(meta).toMatchObject({ cluster: NAME, autolock: true });
    expect(meta).not.toHaveProperty('unlockKey');

    // --restore takes the key from the state home, checks it against the archive, and never prints it.
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(
      `"swarmup unlock-key --name ${NAME}" prints (kept in ${join(home, NAME, 'unlock-key')})`,
    );
    expect(human.stdout).toContain('checked: that key unlocks this archive');
    // A state home without the key: what is missing is said, exit 2; the key in a file of the user's is taken.
    const other = { SWARMUP_HOME: tempHome() };
    const none = await swarmup(['backup', '--restore', event.file], other);
    outputs.push(none);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain(
      'is a backup of an autolocked swarm, and the archive does not hold its unlock key',
    );
    expect(none.stderr).toContain(`no unlock key of cluster "${NAME}" is kept in this state home`);
    expect(none.stderr).toContain('--unlock-key-file FILE');
    const keyDir = mkdtempSync(join(tmpdir(), 'swarmup-key-'));
    writeFileSync(join(keyDir, 'key'), key + '\n', { mode: 0o600 });
    const given = await swarmup(
      ['backup', '--restore', event.file, '--unlock-key-file', join(keyDir, 'key')],
      other,
    );
    outputs.push(given);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toContain(`typing the key in ${join(keyDir, 'key')}`);
    // After down: its backups are kept beside the state home, the cluster's unlock-key with them (archives never
    // hold it): --restore of a kept archive finds that key, in a state home that no longer has the cluster.
    const from = mkdtempSync(join(tmpdir(), 'swarmup-kept-'));
    copyFileSync(event.file, join(from, basename(event.file)));
    const kept = keepBackups(from, other.SWARMUP_HOME, NAME, new Date(), join(home, NAME, 'unlock-key'))!;
    expect(statSync(join(kept, 'unlock-key')).mode & 0o777).toBe(0o600);
    const fromKept = await swarmup(['backup', '--restore', join(kept, basename(event.file))], other);
    outputs.push(fromKept);
    expect(fromKept.code, fromKept.stderr).toBe(0);
    expect(fromKept.stdout).toContain(`typing the key in ${join(kept, 'unlock-key')}`);
    expect(fromKept.stdout).toContain('checked: that key unlocks this archive');
    // A key that does not open this archive (obviously fake, of the right shape) is refused.
    writeFileSync(
      join(keyDir, 'wrong'),
      `SWMKEY-1-${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}\n`,
    );
    const wrong = await swarmup(
      ['backup', '--restore', event.file, '--unlock-key-file', join(keyDir, 'wrong')],
      other,
    );
    outputs.push(wrong);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('does not unlock');
  });

  it('up turns autolock off (--no-autolock: the key is forgotten) and on again (--autolock: a key is kept)', async () => {
    const off = await run('up', '--no-autolock', '--json');
    expect(off.code, off.stderr).toBe(0);
    expect(off.events.filter((e) => e.event === 'action')).toEqual([
      expect.objectContaining({ kind: 'autolock', enable: false, status: 'ok' }),
    ]);
    expect(await autolockOn()).toBe('false');
    expect(readdirSync(join(home, NAME))).not.toContain('unlock-key');
    const none = await run('unlock-key');
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('no unlock key is recorded');

    const on = await run('up', '--autolock', '--json');
    expect(on.code, on.stderr).toBe(0);
    expect(on.events.filter((e) => e.event === 'action')).toEqual([
      expect.objectContaining({ kind: 'autolock', enable: true, status: 'ok' }),
    ]);
    expect(await autolockOn()).toBe('true');
    expect(statSync(join(home, NAME, 'unlock-key')).mode & 0o777).toBe(0o600);
    expect((await run('unlock-key')).stdout).toMatch(KEY_LINE);
  });

  it('no join token and no unlock key in any output or state file, except unlock-key on stdout', async () => {
    expect(outputs.length).toBeGreaterThan(10);
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(text).not.toMatch(/SWMTKN-|SWMKEY-/);
    expect(keyOutputs.map((o) => o.stderr).join('')).not.toMatch(/SWMTKN-|SWMKEY-/);
    for (const o of keyOutputs) expect(o.stdout).not.toMatch(/SWMTKN-/);

    const dir = join(home, NAME);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.map((f) => f.name)).toContain('unlock-key');
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      if (f.name === 'unlock-key') {
        expect(statSync(path).mode & 0o777).toBe(0o600);
        continue;
      }
      expect(readFileSync(path, 'latin1'), path).not.toMatch(/SWMTKN-|SWMKEY-/);
    }
  });
});
