import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  archiveProblem,
  backupFileName,
  backupScript,
  chooseBackupNode,
  readMetadataJson,
  REQUIRED_MEMBERS,
  restoreSteps,
} from '../../src/swarm/backup-plan.ts';
import { TarReader, tarDir, tarEnd, tarEntry } from '../../src/tar.ts';
import { loadEngineFixture } from '../support/engine-fixtures.ts';

/** The pure parts of `swarmup backup` over states captured from real engines, and the tar bytes it writes. */
function hostsOf(state: string) {
  const { facts, nodes } = loadEngineFixture(state);
  return { nodes, hosts: facts.map((f) => ({ name: f.host, nodeId: f.nodeId })) };
}

describe('which manager is backed up', () => {
  it('a healthy 3-manager swarm: the first non-leader manager, never the leader', () => {
    const { nodes, hosts } = hostsOf('converged');
    const c = chooseBackupNode(nodes, hosts);
    expect(c).toEqual({
      ok: true,
      host: 'fx-converged-manager-2',
      nodeId: expect.any(String),
      single: false,
    });
    expect(nodes.find((n) => n.leader)!.id).not.toBe((c as { nodeId: string }).nodeId);
  });

  it('one of three managers already down: refused, as taking another down would lose quorum', () => {
    const { nodes, hosts } = hostsOf('manager-gone');
    const c = chooseBackupNode(nodes, hosts);
    expect(c.ok).toBe(false);
    expect((c as { why: string }).why).toMatch(/would lose quorum.*2 of 3 managers are reachable/);
  });

  it('a swarm that lost quorum: refused', () => {
    const { nodes, hosts } = hostsOf('quorum-lost-early-leader');
    expect(chooseBackupNode(nodes, hosts).ok).toBe(false);
  });

  it('a single-manager swarm (after recover): its only manager, marked single so the user is asked', () => {
    const { nodes, hosts } = hostsOf('recovered-settled');
    expect(chooseBackupNode(nodes, hosts)).toMatchObject({
      ok: true,
      host: 'fx-quorum-manager-3',
      single: true,
    });
  });
});

describe('backup files', () => {
  it('names sort by time and carry no colon', () => {
    expect(backupFileName(new Date('2026-11-25T22:32:47.107Z'), 'lab-manager-2')).toBe(
      '2026-11-25T223247Z-lab-manager-2.tar.gz',
    );
  });

  it('the script is valid sh and writes nothing but the archive to stdout', async () => {
    const script = backupScript("/var/lib/it's docker");
    expect((await execa('sh', ['-n', '-c', script], { reject: false })).exitCode).toBe(0);
    expect(script).toContain(`root='/var/lib/it'\\''s docker'`);
    // Every command that could print (systemctl, the restarted engine) is sent to stderr or a log.
    for (const line of script.split('\n').filter((l) => /systemctl (start|stop)|setsid/.test(l)))
      expect(line).toMatch(/>&2|>>\/var\/log\/dockerd\.log/);
  });

  it('the restore steps follow the admin guide and say where the unlock key is, never the key', () => {
    const meta = {
      node: 'm2',
      dockerRootDir: '/var/lib/docker',
      autolock: true,
      createdAt: '2026-01-01T00:00:00Z',
    };
    const steps = restoreSteps('/x/b.tar.gz', meta, {
      kind: 'state',
      file: '/h/lab/unlock-key',
      cluster: 'lab',
      matches: true,
    }).join('\n');
    expect(steps).toContain('docker swarm init --force-new-cluster');
    expect(steps).toContain('tar -xzf b.tar.gz -C /var/lib/docker swarm');
    expect(steps).toContain('docker swarm unlock');
    expect(steps).toContain('"swarmup unlock-key --name lab" prints (kept in /h/lab/unlock-key)');
    expect(steps).toContain('checked: that key unlocks this archive');
    expect(steps).not.toContain('SWMKEY-1');
    const given = restoreSteps('/x/b.tar.gz', meta, { kind: 'file', file: '/k', matches: undefined }).join(
      '\n',
    );
    expect(given).toContain('typing the key in /k');
    expect(given).not.toContain('checked');
  });

  it('metadata of an archive made before the key was kept out: autolock said, the key dropped', () => {
    const meta = readMetadataJson(JSON.stringify({ cluster: 'c', node: 'n', unlockKey: 'SWMKEY-1-x' }));
    expect(meta).toEqual({ cluster: 'c', node: 'n', autolock: true });
  });

  it('what a restorable archive must hold: complete, metadata first, identity and raft log', () => {
    const names = [
      'swarmup-backup.json',
      'swarm/',
      ...REQUIRED_MEMBERS,
      'swarm/raft/wal-v3-encrypted/0000000000000000-0000000000000000.wal',
    ];
    expect(archiveProblem({ names, complete: true })).toBeUndefined();
    expect(archiveProblem({ names, complete: false })).toMatch(/cut short/);
    expect(archiveProblem({ names: names.slice(1), complete: true })).toMatch(/not a swarmup backup/);
    expect(archiveProblem({ names: names.filter((n) => !n.endsWith('.key')), complete: true })).toBe(
      'members missing: swarm/certificates/swarm-node.key',
    );
    expect(archiveProblem({ names: names.slice(0, -1), complete: true })).toMatch(/swarm\/raft\/wal/);
  });

  it("the tar reader follows GNU tar's own archives to their end, and sees one cut short", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-tar-r-'));
    const long = `${'d'.repeat(60)}/${'f'.repeat(70)}.txt`;
    mkdirSync(join(dir, 'src', 'd'.repeat(60)), { recursive: true });
    writeFileSync(join(dir, 'src', long), 'long name');
    writeFileSync(join(dir, 'src', 'big.bin'), randomBytes(200_000));
    await execa('tar', ['-C', join(dir, 'src'), '-cf', join(dir, 'a.tar'), '.']);
    const bytes = readFileSync(join(dir, 'a.tar'));
    const read = (b: Buffer, step: number) => {
      const r = new TarReader((n) => n.endsWith('.txt'));
      for (let i = 0; i < b.length; i += step) r.push(b.subarray(i, i + step));
      return r;
    };
    for (const step of [1000, 4096, 1 << 20]) {
      const r = read(bytes, step);
      expect(r.ended).toBe(true);
      expect(r.problem).toBeUndefined();
      expect(r.entries.map((e) => e.name)).toEqual(expect.arrayContaining([`./${long}`, './big.bin']));
      expect(r.kept.get(`./${long}`)!.toString()).toBe('long name');
    }
    const cut = read(bytes.subarray(0, 150_000), 4096);
    expect(cut.ended).toBe(false);
    const damaged = Buffer.from(bytes);
    damaged[5] = damaged[5]! ^ 0xff;
    expect(read(damaged, 4096).problem).toMatch(/damaged tar header/);
  });

  it('tar entries written here are read by the system tar, names, modes and contents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-tar-'));
    const big = 'x'.repeat(1300);
    const archive = Buffer.concat([
      tarDir('node-a'),
      tarEntry('node-a/info.json', '{"a":1}\n'),
      tarEntry('node-a/big.txt', big, { mode: 0o644 }),
      tarEntry('empty', ''),
      tarEnd(),
    ]);
    writeFileSync(join(dir, 'a.tar.gz'), gzipSync(archive));
    const list = await execa('tar', ['-tvzf', join(dir, 'a.tar.gz')]);
    expect(String(list.stdout)).toMatch(/^drwx------ root\/root\s+0 .* node-a\/$/m);
    expect(String(list.stdout)).toMatch(/^-rw------- root\/root\s+8 .* node-a\/info.json$/m);
    expect(String(list.stdout)).toMatch(/^-rw-r--r-- root\/root\s+1300 .* node-a\/big.txt$/m);
    await execa('tar', ['-xzf', join(dir, 'a.tar.gz'), '-C', dir]);
    expect(readFileSync(join(dir, 'node-a/big.txt'), 'utf8')).toBe(big);
  });
});
