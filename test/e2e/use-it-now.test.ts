import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, inNode, labelled, swarmup, tempHome } from '../support/cli.ts';

/**
 * Using a cluster from one's own shell, on one small docker-provider cluster (1 manager + 1 worker): the docker
 * context made by `up`, `swarmup ssh`, `swarmup env`, `swarmup ls`, and what `down` leaves. The docker CLI's
 * contexts live in a DOCKER_CONFIG of the test's own, so the machine's contexts are never touched.
 */
const NAME = `e2e-use-${process.pid}`;
const FOREIGN = `e2e-usef-${process.pid}`;
const CONTEXT = `swarmup-${NAME}`;
const home = tempHome();
const dockerConfig = mkdtempSync(join(tmpdir(), 'swarmup-dockercfg-'));
const env = { SWARMUP_HOME: home, DOCKER_CONFIG: dockerConfig };
const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

/** The user's docker CLI: their DOCKER_CONFIG (the test's), no DOCKER_HOST. */
function userEnv(): Record<string, string> {
  const e = childEnv(env);
  delete e.DOCKER_HOST;
  delete e.DOCKER_CONTEXT;
  return e;
}
const docker = (args: string[]) =>
  execa('docker', args, { env: userEnv(), extendEnv: false, reject: false, timeout: 60_000 });

describe('use it now: docker context, ssh, env, ls', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env); // leftovers of an interrupted earlier run
    const r = await swarmup(['up', '--name', NAME, '--managers', '1', '--workers', '1'], env);
    if (r.code !== 0) throw new Error(`up failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toContain(`docker context ${CONTEXT} created`);
    expect(r.stdout).toContain(`docker context rm ${CONTEXT}`);
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('after up, `docker --context swarmup-NAME node ls` lists the nodes, with DOCKER_HOST unset', async () => {
    const r = await docker(['--context', CONTEXT, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout).split('\n').sort()).toEqual([
      `${NAME}-manager-1 Ready`,
      `${NAME}-worker-1 Ready`,
    ]);
    // The socket behind it is its owner's alone.
    expect(statSync(join(home, NAME, 'docker.sock')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, NAME)).mode & 0o777).toBe(0o700);
    // The current context is left as it was.
    const current = await docker(['context', 'show']);
    expect(String(current.stdout).trim()).toBe('default');
    const described = await docker(['context', 'inspect', CONTEXT, '--format', '{{json .}}']);
    const meta = JSON.parse(String(described.stdout)) as { Metadata: { Description: string } };
    expect(meta.Metadata.Description).toBe(`swarmup cluster ${NAME} (${join(home, NAME)})`);
  });

  it('a no-change up keeps the forwarder and the context as they are (no new SSH forward, no context update)', async () => {
    const pid = readFileSync(join(home, NAME, 'forward.pid'), 'utf8');
    const r = await swarmup(['up', '--name', NAME, '--managers', '1', '--workers', '1'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`docker context ${CONTEXT}: unchanged`);
    expect(readFileSync(join(home, NAME, 'forward.pid'), 'utf8')).toBe(pid);
    expect((await docker(['--context', CONTEXT, 'node', 'ls', '-q'])).exitCode).toBe(0);
  });

  it('`swarmup ssh NODE -- hostname` runs on that node; its exit code is passed through', async () => {
    const r = await swarmup(['ssh', '--name', NAME, `${NAME}-worker-1`, '--', 'hostname'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(await inNode(`${NAME}-worker-1`, ['hostname']));
    // Words reach the node as given (one argument with a space stays one).
    const words = await swarmup(['ssh', '--name', NAME, `${NAME}-worker-1`, '--', 'sh', '-c', 'exit 7'], env);
    expect(words.code).toBe(7);
  });

  it('`swarmup ssh` of an unknown node is exit 2 naming the nodes', async () => {
    const r = await swarmup(['ssh', '--name', NAME, 'nope', '--', 'true'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${NAME}-manager-1, ${NAME}-worker-1`);
  });

  it('`swarmup ssh` refuses a host key other than the pinned one (StrictHostKeyChecking)', async () => {
    const file = join(home, NAME, 'known_hosts');
    const pinned = readFileSync(file, 'utf8');
    const other = await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, 'other')], {
      reject: false,
    });
    expect(other.exitCode).toBe(0);
    const otherKey = readFileSync(join(home, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const worker = `${NAME}-worker-1`;
    writeFileSync(
      file,
      pinned
        .split('\n')
        .map((l) => (l.startsWith(`${worker} `) ? `${worker} ${otherKey}` : l))
        .join('\n'),
    );
    try {
      const r = await swarmup(['ssh', '--name', NAME, worker, '--', 'hostname'], env);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/host key|HOST IDENTIFICATION/i);
      expect(r.stdout).toBe('');
    } finally {
      writeFileSync(file, pinned, { mode: 0o600 });
    }
  });

  it('eval "$(swarmup env)" points the docker CLI at the cluster, starting the forwarder again if it is gone', async () => {
    // As after a reboot: the forwarder is gone; env starts it again.
    const pid = Number(readFileSync(join(home, NAME, 'forward.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    const state = async () =>
      String((await execa('ps', ['-p', String(pid), '-o', 'stat='], { reject: false })).stdout);
    await expect.poll(state, { timeout: 10_000 }).toMatch(/^\s*(Z.*)?$/);
    expect((await docker(['--context', CONTEXT, 'node', 'ls'])).exitCode).not.toBe(0);
    const script = `eval "$(node ${JSON.stringify(BIN)} env --name ${NAME})" && docker node ls --format '{{.Hostname}}'`;
    const r = await execa('sh', ['-c', script], {
      env: userEnv(),
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout).split('\n').sort()).toEqual([`${NAME}-manager-1`, `${NAME}-worker-1`]);
    const unset = await swarmup(['env', '--unset'], env);
    expect(unset.stdout.trim()).toBe('unset DOCKER_CONTEXT');
  });

  it('`swarmup ls --json` lists the cluster; --check reads it live', async () => {
    const r = await swarmup(['ls', '--json', '--check'], env);
    expect(r.code, r.stderr).toBe(0);
    const row = r.events.find((e) => e.cluster === NAME);
    expect(row).toMatchObject({
      cluster: NAME,
      provider: 'docker',
      managers: 1,
      workers: 1,
      live: { reachable: true, ok: true, ready: 2, nodes: 2 },
    });
    expect(Date.parse(String(row!.createdAt))).toBeGreaterThan(Date.now() - 3_600_000);
  });

  it('a context of the cluster name that swarmup did not make is refused (exit 2), left as it was, nothing made', async () => {
    const mine = await docker([
      'context',
      'create',
      `swarmup-${FOREIGN}`,
      '--description',
      'my own',
      '--docker',
      'host=unix:///var/run/docker.sock',
    ]);
    expect(mine.exitCode, String(mine.stderr)).toBe(0);
    const before = String((await docker(['context', 'inspect', `swarmup-${FOREIGN}`])).stdout);
    try {
      const r = await swarmup(['up', '--name', FOREIGN, '--managers', '1', '--workers', '0'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`docker context "swarmup-${FOREIGN}" exists and was not made by swarmup`);
      expect(await labelled('ps -a', FOREIGN)).toEqual([]);
      expect(String((await docker(['context', 'inspect', `swarmup-${FOREIGN}`])).stdout)).toBe(before);
    } finally {
      await docker(['context', 'rm', '--force', `swarmup-${FOREIGN}`]);
    }
  });

  it('down removes the context and stops the forwarder', async () => {
    const socket = join(home, NAME, 'docker.sock');
    expect(existsSync(socket)).toBe(true);
    const r = await swarmup(['down', '--yes', '--name', NAME], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`docker context ${CONTEXT} removed`);
    const gone = await docker(['context', 'inspect', CONTEXT]);
    expect(gone.exitCode).not.toBe(0);
    expect(existsSync(socket)).toBe(false);
    const ps = await execa('ps', ['-eo', 'stat=,args='], { reject: false });
    const alive = String(ps.stdout)
      .split('\n')
      .filter((l) => l.includes(socket) && !l.trim().startsWith('Z'));
    expect(alive).toEqual([]);
  });
});
