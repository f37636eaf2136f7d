import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERL_LAYER_COMMAND } from '../../src/swarm/smoke-image.ts';
import { childEnv, inNode, summaryOf, type CliResult } from '../support/cli.ts';
import { clusterFixture, RUN_ID } from '../support/cluster-fixture.ts';
import { startNodeEngine, stopNodeEngine, waitSwarmState } from '../support/node-engine.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * `swarmup image load` on real engines (1 manager + 2 workers in node containers, Docker 20.10): an image built on
 * this machine's engine, with no registry anywhere, reaches every node with the same ID, a second run copies
 * nothing, a stack deployed through the cluster's docker context runs it on every node; a node whose engine is
 * down is named while the others get the image, and the next run finishes the job.
 *
 * The image: FROM scratch, the host's perl and its libraries (the smoke test's layer command), built by the local
 * engine. Its name's registry is localhost:1 so that the pull a swarm task tries first (an engine always tries for a
 * tag) goes to the node's own loopback and is refused there, never to a registry on the network.
 */
const { name: NAME, env, node, run } = clusterFixture('e2e-imgload', { managers: 1 });
const NODES = ['manager-1', 'worker-1', 'worker-2'];
const IMAGE = `localhost:1/swarmup-e2e-imgload:${RUN_ID}`;
const OTHER = `localhost:1/swarmup-e2e-imgload:${RUN_ID}-other`;
const STACK = `imgload${RUN_ID}`;
const dir = mkdtempSync(join(tmpdir(), 'swarmup-imgload-'));

/** The docker CLI as the user's shell has it: the test run's DOCKER_CONFIG (where `up` wrote the context). */
const docker = (args: string[]) =>
  execa('docker', args, { env: childEnv(env), extendEnv: false, reject: false, timeout: 120_000 });

async function build(tag: string, label: string): Promise<string> {
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch\nADD rootfs.tar /\nLABEL swarmup.e2e=${label}\nCMD ["/usr/bin/perl", "-e", "sleep"]\n`,
  );
  const r = await execa('docker', ['build', '-q', '-t', tag, dir], {
    env: { ...childEnv(env), DOCKER_BUILDKIT: '0' },
    extendEnv: false,
    reject: false,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  return localId(tag);
}

async function localId(tag: string): Promise<string> {
  return (await execa('docker', ['image', 'inspect', tag, '--format', '{{.Id}}'])).stdout.trim();
}

/** The ID each node's engine gives the tag ('' where it has none), read inside the node. */
async function idsOnNodes(tag: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const n of NODES) {
    const r = await execa(
      'docker',
      ['exec', node(n), 'docker', 'image', 'inspect', tag, '--format', '{{.Id}}'],
      {
        reject: false,
      },
    );
    ids[n] = r.exitCode === 0 ? String(r.stdout).trim() : '';
  }
  return ids;
}

const imageEvents = (r: CliResult) =>
  r.events
    .filter((e) => e.event === 'image')
    .map((e) => `${String(e.node).slice(NAME.length + 1)} ${String(e.status)}`)
    .sort();

describe('image load: local images into the nodes, no registry', () => {
  let id = '';
  beforeAll(async () => {
    const layer = await execa('sh', ['-c', PERL_LAYER_COMMAND]);
    writeFileSync(join(dir, 'rootfs.tar'), Buffer.from(layer.stdout.trim(), 'base64'));
    id = await build(IMAGE, `imgload-${RUN_ID}`);
    await run('down', '--yes');
    const up = await run('up', '--managers', '1', '--workers', '2', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).nodes).toHaveLength(3);
  });
  afterAll(async () => {
    await docker(['--context', `swarmup-${NAME}`, 'stack', 'rm', STACK]);
    await run('down', '--yes');
    await execa('docker', ['image', 'rm', '--force', IMAGE, OTHER], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('an image unknown to the local engine, or an unknown node: exit 2 naming it, nothing copied', async () => {
    const missing = `localhost:1/swarmup-e2e-imgload:${RUN_ID}-never-built`;
    const r = await run('image', 'load', IMAGE, missing);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`image ${missing}: not on the local Docker engine`);
    const n = await run('image', 'load', IMAGE, '--nodes', `${node('worker-1')},nope`);
    expect(n.code, n.stderr).toBe(2);
    expect(n.stderr).toContain(`${NAME} has no node named nope`);
    expect(await idsOnNodes(IMAGE)).toEqual({ 'manager-1': '', 'worker-1': '', 'worker-2': '' });
  });

  it('loads into every node with the same ID; a second run copies nothing', async () => {
    const first = await run('image', 'load', IMAGE, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(imageEvents(first)).toEqual(['manager-1 loaded', 'worker-1 loaded', 'worker-2 loaded']);
    expect(summaryOf(first).changes).toBe(3);
    expect(await idsOnNodes(IMAGE)).toEqual({ 'manager-1': id, 'worker-1': id, 'worker-2': id });

    const again = await run('image', 'load', IMAGE);
    expect(again.code, again.stderr).toBe(0);
    for (const n of NODES) expect(again.stdout).toContain(`${node(n)}: ${IMAGE} already present (${id})`);
    expect(again.stdout).not.toMatch(/ loaded \(/);
    expect(again.stdout).toContain('0 changes');
  });

  it('a stack using it deploys through the docker context (no registry), a task on every node', async () => {
    writeFileSync(
      join(dir, 'stack.yml'),
      `version: "3.8"\nservices:\n  app:\n    image: ${IMAGE}\n    deploy:\n      mode: global\n`,
    );
    const ctx = ['--context', `swarmup-${NAME}`];
    const deploy = await docker([
      ...ctx,
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '-c',
      join(dir, 'stack.yml'),
      STACK,
    ]);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    await waitUntil(
      `a running task of ${STACK}_app on each of ${NODES.join(', ')}`,
      90_000,
      async (seen) => {
        const ps = await docker([
          ...ctx,
          'service',
          'ps',
          `${STACK}_app`,
          '--filter',
          'desired-state=running',
          '--format',
          '{{.Node}} {{.CurrentState}} {{.Error}}',
        ]);
        const lines = String(ps.stdout).split('\n').filter(Boolean);
        seen(lines.join('; ') || String(ps.stderr));
        const running = lines.filter((l) => / Running /.test(l)).map((l) => l.split(' ')[0]);
        return NODES.every((n) => running.includes(node(n))) ? true : undefined;
      },
      500,
    );
  });

  it('a node whose engine is down is named with the step; the others get the image (exit 3); the next run finishes', async () => {
    const otherId = await build(OTHER, `imgload-${RUN_ID}-other`);
    expect(otherId).not.toBe(id);
    await stopNodeEngine(node('worker-2'));
    try {
      const r = await run('image', 'load', OTHER, IMAGE, '--json');
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`${node('worker-2')}: image load: read the node:`);
      // The cause, as the transport saw it (the engine's socket missing, or the connection to it hung up).
      expect(r.stderr).toMatch(/image load: read the node: \S/);
      expect(r.stderr).toContain('run the same command again');
      expect(imageEvents(r)).toEqual([
        'manager-1 loaded',
        'manager-1 present',
        'worker-1 loaded',
        'worker-1 present',
      ]);
    } finally {
      await startNodeEngine(node('worker-2'));
    }
    await waitSwarmState(node('worker-2'), 'active');
    const next = await run('image', 'load', OTHER, '--role', 'worker', '--json');
    expect(next.code, next.stderr).toBe(0);
    expect(imageEvents(next)).toEqual(['worker-1 present', 'worker-2 loaded']);
    expect(await idsOnNodes(OTHER)).toEqual({
      'manager-1': otherId,
      'worker-1': otherId,
      'worker-2': otherId,
    });
    expect(
      await inNode(node('manager-1'), ['docker', 'image', 'inspect', IMAGE, '--format', '{{.Id}}']),
    ).toBe(id);
  });
});
