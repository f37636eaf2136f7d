import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allText, inNode, swarmup } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { startNodeEngine, stopNodeEngine, waitSwarmState } from '../support/node-engine.ts';

/**
 * Day-2 commands on real engines (one 3-manager + 1-worker cluster of node containers shared by the file): backup
 * takes one manager down at a time with quorum held throughout, status warns only about what is real, diagnose
 * gathers every node's state into one archive without a secret in it.
 */
const cluster = clusterFixture('e2e-bh');
const { name: NAME, home, env, outputs, run, node: c, nodeLs, leader } = cluster;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const managers = ['manager-1', 'manager-2', 'manager-3'].map(c);

const dockerdPid = (node: string) =>
  inNode(node, ['sh', '-c', 'pgrep -o -r R,S,D -x dockerd || true']).then((s) => s.trim());

/** Wait until the leader lists `node` with this manager status. */
async function waitManagerStatus(node: string, status: RegExp): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const row = (await nodeLs(await leader())).find((r) => r.hostname === node);
      if (row && status.test(row.manager)) return;
    } catch {
      // an election: ask again
    }
    await sleep(200);
  }
  throw new Error(`${node} never became ${status}`);
}

const backupsDir = () => join(home, NAME, 'backups');
const backups = () => {
  try {
    return readdirSync(backupsDir());
  } catch {
    return [];
  }
};

/** A tmpfs of the test's own over the backups folder (read-only, or this small): a real file system that refuses. */
async function withMount<T>(opts: string, body: () => Promise<T>): Promise<T> {
  mkdirSync(backupsDir(), { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', backupsDir()]);
  try {
    return await body();
  } finally {
    await execa('umount', [backupsDir()]);
  }
}

let goodArchive = '';

describe('backup, health in status, diagnose', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
    const up = await run('up', '--provider', 'docker', '--managers', '3', '--workers', '1', '--yes');
    if (up.code !== 0) throw new Error(`up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
    // Nothing any command printed holds a secret.
    expect(outputs.map((o) => o.stdout + o.stderr).join('\n')).not.toMatch(/SWMTKN-1-|SWMKEY-1-/);
  });

  it('status of a healthy cluster: no warnings, in the table view or in --json', async () => {
    const json = await run('status', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(json.events[0]).toMatchObject({ cluster: NAME, warnings: [] });
    const human = await run('status');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).not.toMatch(/warning/i);
  });

  it('status warns about a real underlay MTU too small for VXLAN, and its exit code stays 0', async () => {
    const worker = c('worker-1');
    await inNode(worker, ['ip', 'link', 'set', 'eth0', 'mtu', '1400']);
    try {
      const json = await run('status', '--json');
      expect(json.code, json.stderr).toBe(0);
      const warnings = json.events[0]!.warnings as Array<{ check: string; node?: string; message: string }>;
      expect(warnings).toEqual([expect.objectContaining({ check: 'mtu', node: worker })]);
      expect(warnings[0]!.message).toMatch(/eth0 .* MTU 1400/);
      const human = await run('status');
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`warning: ${worker}: eth0 .*MTU 1400`));
    } finally {
      await inNode(worker, ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    }
  });

  it('backup stops one non-leader manager, quorum held throughout, and saves its raft data', async () => {
    const lead = await leader();
    const pids = Object.fromEntries(await Promise.all(managers.map(async (m) => [m, await dockerdPid(m)])));
    // While backup runs, the leader's node list is read every ~200 ms: it must always answer, with at least 2
    // managers Leader or Reachable.
    let sampling = true;
    const samples: Array<{ ok: boolean; reachable: number; unreachable: string[] }> = [];
    const sampler = (async () => {
      while (sampling) {
        try {
          const rows = (await nodeLs(lead)).filter((r) => r.manager !== '');
          samples.push({
            ok: true,
            reachable: rows.filter((r) => /Leader|Reachable/.test(r.manager)).length,
            unreachable: rows.filter((r) => !/Leader|Reachable/.test(r.manager)).map((r) => r.hostname),
          });
        } catch {
          samples.push({ ok: false, reachable: 0, unreachable: [] });
        }
        await sleep(200);
      }
    })();
    const r = await run('backup', '--json');
    await sleep(1_000);
    sampling = false;
    await sampler;
    expect(r.code, r.stderr).toBe(0);

    const event = r.events.find((e) => e.event === 'backup') as { node: string; file: string; bytes: number };
    expect(event.node).not.toBe(lead);
    expect(managers).toContain(event.node);
    // Its engine really was stopped and started again (a new dockerd); the other managers' were not touched.
    for (const m of managers) {
      if (m === event.node) expect(await dockerdPid(m)).not.toBe(pids[m]);
      else expect(await dockerdPid(m), m).toBe(pids[m]);
    }
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.filter((s) => !s.ok)).toEqual([]);
    expect(Math.min(...samples.map((s) => s.reachable))).toBeGreaterThanOrEqual(2);
    // Only the backed-up manager was ever seen unreachable.
    expect([...new Set(samples.flatMap((s) => s.unreachable))].filter((n) => n !== event.node)).toEqual([]);

    expect(event.file.startsWith(backupsDir())).toBe(true);
    goodArchive = event.file;
    // Written under a temporary name and renamed once verified: nothing else is left beside it.
    expect(backups()).toEqual([event.file.split('/').pop()]);
    const st = statSync(event.file);
    expect(st.size).toBe(event.bytes);
    expect(st.size).toBeGreaterThan(1024);
    expect(st.mode & 0o777).toBe(0o600);
    const list = String((await execa('tar', ['-tzf', event.file])).stdout).split('\n');
    expect(list[0]).toBe('swarmup-backup.json');
    expect(list).toEqual(expect.arrayContaining(['swarm/state.json', 'swarm/docker-state.json']));
    expect(list.some((f) => /^swarm\/raft\/wal-v3-encrypted\/.+\.wal$/.test(f))).toBe(true);
    const meta = JSON.parse(
      String((await execa('tar', ['-xzOf', event.file, 'swarmup-backup.json'])).stdout),
    );
    expect(meta).toMatchObject({ cluster: NAME, node: event.node, managers: 3 });
    // No unlock-key file in the state folder (no autolock): none in the metadata.
    expect(meta).not.toHaveProperty('unlockKey');

    // Back to a verified cluster: every manager Reachable again.
    const status = await run('status', '--json');
    expect(status.code, status.stderr).toBe(0);

    const restore = await run('backup', '--restore', event.file);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('docker swarm init --force-new-cluster');
    expect(restore.stdout).toContain(`taken from ${event.node}`);
  });

  it('backup refuses when taking a manager down would lose quorum, and changes nothing', async () => {
    const lead = await leader();
    const down = managers.find((m) => m !== lead)!;
    const before = backups();
    await stopNodeEngine(down);
    try {
      await waitManagerStatus(down, /Unreachable/);
      const others = managers.filter((m) => m !== lead && m !== down);
      const pids = await Promise.all([lead, ...others].map(dockerdPid));
      const r = await run('backup', '--yes');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/would lose quorum.*2 of 3 managers are reachable/);
      expect(backups()).toEqual(before);
      expect(await Promise.all([lead, ...others].map(dockerdPid))).toEqual(pids);
    } finally {
      await startNodeEngine(down);
      await waitSwarmState(down, 'active');
      await waitManagerStatus(down, /Reachable/);
    }
  });

  it('backup to a read-only destination: refused before any engine stops, exit 2 naming the path', async () => {
    const pids = await Promise.all(managers.map(dockerdPid));
    const r = await withMount('ro,size=1m', () => run('backup', '--yes'));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`cannot write the archive to ${backupsDir()}`);
    expect(r.stderr).toMatch(/read-only file system/i);
    expect(r.stderr).toContain('nothing was changed');
    expect(await Promise.all(managers.map(dockerdPid))).toEqual(pids);
  });

  it('backup onto a disk that fills up: the copy stops at once, the engine runs again, exit 3 naming host, step, cause', async () => {
    const pids = Object.fromEntries(await Promise.all(managers.map(async (m) => [m, await dockerdPid(m)])));
    const started = Date.now();
    const { r, left } = await withMount('size=32k', async () => {
      const res = await run('backup', '--yes');
      return { r: res, left: readdirSync(backupsDir()) };
    });
    expect(r.code, r.stderr).toBe(3);
    // Not the 10-minute copy deadline: the channel was closed when the write failed.
    expect(Date.now() - started).toBeLessThan(150_000);
    const m = /swarmup: (\S+): backup: copying the swarm data: writing \S+: (.*)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const node = m![1]!;
    expect(managers).toContain(node);
    expect(m![2]).toMatch(/ENOSPC|no space left/i);
    expect(m![2]).toContain(
      'no archive was kept; its engine is running again and the node is a Reachable manager',
    );
    // No truncated archive, under its name or any other.
    expect(left).toEqual([]);
    // Its engine really was stopped and runs again; the others were not touched.
    for (const x of managers) {
      if (x === node) expect(await dockerdPid(x)).not.toBe(pids[x]);
      else expect(await dockerdPid(x), x).toBe(pids[x]);
    }
    await waitManagerStatus(node, /Reachable|Leader/);
    expect((await run('status', '--json')).code).toBe(0);
  });

  it('backup --restore refuses an archive cut short, and a file that is no archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-cut-'));
    const whole = readFileSync(goodArchive);
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const r = await run('backup', '--restore', cut);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${cut} is not a complete swarmup backup: the archive is cut short`);
    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, 'not an archive');
    const j = await run('backup', '--restore', junk);
    expect(j.code).toBe(2);
    expect(j.stderr).toMatch(/not a gzip archive/);
  });

  it('diagnose writes one folder per node with its files, and no join token or unlock key', async () => {
    // A real join token and an unlock-key-shaped string in an engine log: the archive must carry them redacted.
    await inNode(c('manager-1'), [
      'sh',
      '-c',
      // An obviously fake unlock key, built here so that no key-shaped literal stands in the sources.
      `echo "test line: token $(docker swarm join-token -q worker) key SWMKEY-1-${'FakeKey0'.repeat(5)}" >> /var/log/dockerd.log`,
    ]);
    // A service whose environment and log driver options hold secrets (random values, made here).
    const password = `pw${randomBytes(16).toString('hex')}`;
    const logOpt = `lo${randomBytes(16).toString('hex')}`;
    await inNode(c('manager-1'), [
      'docker',
      'service',
      'create',
      '--detach',
      '--no-resolve-image',
      '--replicas',
      '0',
      '--name',
      'diag-secrets',
      '--env',
      `PASSWORD=${password}`,
      '--log-driver',
      'json-file',
      '--log-opt',
      `tag=${logOpt}`,
      '--log-opt',
      `labels=${logOpt}`,
      'swarmup-none:1',
    ]);
    const spec = await inNode(c('manager-1'), ['docker', 'service', 'inspect', 'diag-secrets']);
    expect(spec).toContain(password);
    expect(spec).toContain(logOpt);
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-diag-e2e-'));
    const file = join(dir, 'diag.tar.gz');
    // An existing file, readable by all: replaced by a 0600 one.
    writeFileSync(file, 'old');
    chmodSync(file, 0o644);
    const r = await run('diagnose', '--output', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const bytes = gunzipSync(readFileSync(file)).toString('latin1');
    expect(bytes).toContain('diag-secrets');
    expect(bytes).not.toContain(password);
    expect(bytes).not.toContain(logOpt);
    expect(bytes).toContain('PASSWORD=<redacted>');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.events.find((e) => e.event === 'diagnose')).toMatchObject({ file, nodes: 4 });
    await execa('tar', ['-xzf', file, '-C', dir]);
    const [root] = readdirSync(dir).filter((f) => f.startsWith('swarmup-diagnose-'));
    const top = readdirSync(join(dir, root!)).sort();
    expect(top).toEqual([...managers, c('worker-1'), 'port-probes.txt', 'summary.txt'].sort());
    for (const node of [...managers, c('worker-1')]) {
      const files = readdirSync(join(dir, root!, node)).sort();
      const want = ['docker-info.json', 'engine.log', 'networks.json'];
      if (managers.includes(node)) want.push('nodes.json', 'services.json');
      expect(files, node).toEqual(want.sort());
      const info = JSON.parse(
        String((await execa('cat', [join(dir, root!, node, 'docker-info.json')])).stdout),
      );
      expect(info.Name).toBe(node);
    }
    const probes = String((await execa('cat', [join(dir, root!, 'port-probes.txt')])).stdout);
    expect(probes).toMatch(/all probed ports answered/);
    const everything = await allText(dir.replace(/\/$/, '') + '/' + root);
    expect(everything).not.toMatch(/SWMTKN-1-|SWMKEY-1-/);
    expect(everything).toMatch(/test line: token SWMTKN-<redacted> key SWMKEY-<redacted>/);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(logOpt);
  });
});
