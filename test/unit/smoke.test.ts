import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeEventSchema } from '../../src/playbook/event-schema.ts';
import { smokeOptions } from '../../src/cli/smoke-flags.ts';
import { goArch, smokeImage, tarArchive } from '../../src/swarm/smoke-image.ts';
import { parseProbeOutput, probeArgs, PROBE_SCRIPT } from '../../src/swarm/smoke-probe.ts';
import { smokeProblems, type SmokeCheck, type SmokeFindings } from '../../src/swarm/smoke-report.ts';
import { swarmup, tempHome } from '../support/cli.ts';

const nodes = ['m1', 'm2', 'm3', 'w1', 'w2'];
const findings = (checks: SmokeCheck[], extra: Partial<SmokeFindings> = {}): SmokeFindings => ({
  nodes,
  notRunning: [],
  leftBehind: [],
  checks,
  publishedPort: 24000,
  entry: 'm1',
  dataPathPort: 4789,
  ...extra,
});
/** Every ordered pair over the overlay, failing where `broken(from, to)`. */
const overlay = (broken: (a: string, b: string) => boolean): SmokeCheck[] =>
  nodes.flatMap((from) =>
    nodes
      .filter((to) => to !== from)
      .map((to) => {
        const ok = !broken(from, to);
        return { from, to, via: 'overlay' as const, ok, detail: ok ? to : 'no answer within 3 s' };
      }),
  );

describe('smoke: what the results mean', () => {
  it('all connections answered: no problem', () => {
    expect(smokeProblems(findings(overlay(() => false)))).toEqual([]);
  });

  it('one node cut off from all others is named once, with each of its pairs and the likely ports', () => {
    const p = smokeProblems(findings(overlay((a, b) => a === 'w2' || b === 'w2')));
    expect(p).toEqual([
      'overlay: w2 cannot talk to m1, m2, m3, w1 (4 of 4 other nodes; pairs w2↔m1, w2↔m2, w2↔m3, w2↔w1): ' +
        '4789/udp (VXLAN) or 7946/tcp+udp (gossip) is likely blocked at w2',
    ]);
  });

  it('a single broken pair is named as a pair, with what each direction saw and a changed data path port', () => {
    const checks = overlay((a, b) => a === 'm2' && b === 'w1');
    const p = smokeProblems(findings(checks, { dataPathPort: 5789 }));
    expect(p).toEqual([
      'overlay: m2↔w1 cannot talk (m2 → w1: no answer within 3 s): 5789/udp (VXLAN) or 7946/tcp+udp (gossip) ' +
        'is likely blocked between m2 and w1',
    ]);
  });

  it('a published port that does not answer names the node and the port; a task that never ran names why', () => {
    const checks: SmokeCheck[] = [
      ...overlay(() => false),
      { from: 'm1', to: 'w1', via: 'published', ok: false, detail: 'connect: Connection refused' },
      { from: 'm1', to: 'm2', via: 'published', ok: true, detail: 'm2' },
    ];
    const p = smokeProblems(
      findings(checks, {
        notRunning: [{ node: 'w2', reason: 'task rejected: port 24000 is already in use' }],
        leftBehind: ['network swarmup-smoke-abc: in use'],
      }),
    );
    expect(p).toEqual([
      'w2: the smoke task did not run: task rejected: port 24000 is already in use',
      'published port: 24000/tcp (host mode) on w1 does not answer from m1: connect: Connection refused; ' +
        '24000/tcp is likely blocked on w1',
      'not removed: network swarmup-smoke-abc: in use (the next verify --smoke removes it, so does down)',
    ]);
  });

  it('the JSON event shape accepts what runSmoke emits and refuses a stray field', () => {
    const event = {
      event: 'smoke',
      ok: false,
      runId: 'a1b2c3',
      durationMs: 1200,
      publishedPort: 24000,
      overlay: { checked: 20, failed: 8 },
      published: { checked: 5, failed: 0 },
      failures: [{ from: 'w2', to: 'm1', via: 'overlay', error: 'no answer within 3 s' }],
      problems: ['overlay: ...'],
    };
    expect(smokeEventSchema.safeParse(event).success).toBe(true);
    expect(smokeEventSchema.safeParse({ ...event, extra: 1 }).success).toBe(false);
  });
});

describe('smoke: the probe script, run by the real perl on loopback', () => {
  let server: Server;
  let port = 0;
  let closedPort = 0;
  beforeAll(async () => {
    server = createServer((s) => s.end('swarmup-smoke node-abc\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r)); // nothing listens there any more
  });
  afterAll(() => server.close());

  it('reports which target answered (and who) and why another did not', async () => {
    const targets = [`127.0.0.1:${port}`, `127.0.0.1:${closedPort}`];
    const r = await execa('perl', ['-', ...probeArgs(2, targets)], { input: PROBE_SCRIPT });
    const out = parseProbeOutput(String(r.stdout), targets);
    expect(out.get(targets[0]!)).toEqual({ target: targets[0], ok: true, detail: 'node-abc' });
    expect(out.get(targets[1]!)).toMatchObject({ ok: false, detail: 'connect: Connection refused' });
  });

  it('serve answers each connection with its node', async () => {
    const listenPort = closedPort;
    const child = execa('perl', ['-e', PROBE_SCRIPT, 'serve', String(listenPort)], {
      env: { SMOKE_NODE: 'node-xyz' },
      reject: false,
    });
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const target = `127.0.0.1:${listenPort}`;
      const r = await execa('perl', ['-', ...probeArgs(2, [target])], { input: PROBE_SCRIPT });
      expect(parseProbeOutput(String(r.stdout), [target]).get(target)).toEqual({
        target,
        ok: true,
        detail: 'node-xyz',
      });
    } finally {
      child.kill('SIGTERM');
    }
    // SIGTERM ends it at once (it runs as PID 1 in a task, where an unhandled TERM would be ignored).
    expect((await child).exitCode).toBe(0);
  });

  it('a target with no line at all is a failure', () => {
    expect(parseProbeOutput('', ['10.0.0.2:7999']).get('10.0.0.2:7999')).toMatchObject({ ok: false });
  });
});

describe('smoke: the image archive', () => {
  it('is a tar that tar reads, with a manifest naming the config and the layer; its ID is its config digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smoke-image-'));
    const layer = tarArchive([
      { name: 'usr/bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    ]);
    const labels = { 'swarmup.cluster': 'lab', 'swarmup.smoke': 'a1b2c3' };
    const img = smokeImage(layer, { arch: 'x86_64', tag: 'swarmup/smoke:a1b2c3', labels });
    writeFileSync(join(dir, 'image.tar'), img.archive);
    await execa('tar', ['-xf', 'image.tar'], { cwd: dir });
    const manifest = JSON.parse((await execa('cat', ['manifest.json'], { cwd: dir })).stdout) as Array<{
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }>;
    expect(manifest[0]!.RepoTags).toEqual(['swarmup/smoke:a1b2c3']);
    expect(`sha256:${manifest[0]!.Config.replace('.json', '')}`).toBe(img.id);
    const config = (await execa('cat', [manifest[0]!.Config], { cwd: dir })).stdout;
    const digest = (await execa('sha256sum', [manifest[0]!.Config], { cwd: dir })).stdout.split(' ')[0];
    expect(`sha256:${digest}`).toBe(img.id);
    expect(JSON.parse(config)).toMatchObject({ architecture: 'amd64', config: { Labels: labels } });
    const listing = (await execa('tar', ['-tvf', manifest[0]!.Layers[0]!], { cwd: dir })).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x .* usr\/bin\/hello$/);
    // The same layer and labels give the same ID on every node.
    expect(smokeImage(layer, { arch: 'x86_64', tag: 'swarmup/smoke:a1b2c3', labels }).id).toBe(img.id);
    expect(goArch('aarch64')).toBe('arm64');
  });
});

describe('smoke: flags', () => {
  it('default deadline 60 s, port chosen per run; checked values', () => {
    expect(smokeOptions({})).toBeUndefined();
    expect(smokeOptions({ smoke: true })).toEqual({ deadlineMs: 60_000 });
    expect(smokeOptions({ smoke: true, smokeTimeout: '90', smokePort: '24000' })).toEqual({
      deadlineMs: 90_000,
      port: 24000,
    });
  });

  it.each([
    [['verify', '--smoke', '--smoke-timeout', '5'], /--smoke-timeout: "5" is not a whole number of seconds/],
    [['verify', '--smoke', '--smoke-port', '70000'], /--smoke-port: "70000" is not a TCP port/],
    [['up', '--smoke-port', '24000'], /--smoke-port is for the smoke test: give --smoke too/],
  ])('swarmup %j exits 2 and touches nothing', async (args, message) => {
    const state = join(tempHome(), 'state');
    const r = await swarmup([...args, '--name', 'smoke-flags'], { SWARMUP_HOME: state });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(state)).toBe(false);
  });
});
