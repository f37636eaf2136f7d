import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, swarmup, tempHome } from '../support/cli.ts';

/**
 * The docker provider's engine found as the docker CLI finds it: DOCKER_HOST unset, the current docker context (in a
 * DOCKER_CONFIG of the test's own) names an engine at a unix socket of its own. That socket is a proxy the test
 * runs to the machine's engine and counts connections on, so what reaches the engine through the context is seen.
 */
const NAME = `e2e-ctx-${process.pid}`;
const home = tempHome();
const dir = mkdtempSync(join(tmpdir(), 'swarmup-ctx-'));
const socket = join(dir, 'engine.sock');
const dockerConfig = join(dir, 'docker');
let proxy: Server;
let connections = 0;

/** The user's shell: their DOCKER_CONFIG, no DOCKER_HOST, no DOCKER_CONTEXT. */
function userEnv(more: Record<string, string> = {}): Record<string, string> {
  const e = childEnv({ SWARMUP_HOME: home, DOCKER_CONFIG: dockerConfig, ...more });
  delete e.DOCKER_HOST;
  if (!('DOCKER_CONTEXT' in more)) delete e.DOCKER_CONTEXT;
  return e;
}
const cli = (args: string[], more: Record<string, string> = {}) => swarmup(args, userEnv(more));
const docker = (args: string[]) =>
  execa('docker', args, { env: userEnv(), extendEnv: false, timeout: 60_000 });

describe('the docker provider uses the current docker context', () => {
  beforeAll(async () => {
    proxy = createServer((client) => {
      connections++;
      const engine = connect('/var/run/docker.sock');
      client.pipe(engine).pipe(client);
      client.on('error', () => engine.destroy());
      engine.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(socket, r));
    await docker(['context', 'create', 'engine', '--docker', `host=unix://${socket}`]);
    await docker(['context', 'use', 'engine']);
  });
  afterAll(async () => {
    await cli(['down', '--yes', '--name', NAME]);
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plan names the engine and how it was found; up makes the nodes through it', async () => {
    const plan = await cli(['plan', '--name', NAME, '--managers', '1', '--workers', '0']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      `unix://${socket}, docker context engine, the current one in ${join(dockerConfig, 'config.json')}`,
    );
    const before = connections;
    expect(before).toBeGreaterThan(0);
    const up = await cli(['up', '--name', NAME, '--managers', '1', '--workers', '0']);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(connections).toBeGreaterThan(before);
    const state = JSON.parse(readFileSync(join(home, NAME, 'state.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ endpoint: `unix://${socket}`, dockerContext: 'engine' });
  });

  it("swarmup's own context (as `swarmup env` selects it) is skipped; another engine is refused naming the context", async () => {
    // up made swarmup-NAME; selected through DOCKER_CONTEXT it is not taken for the nodes' engine: the default
    // socket would be, which is not where the cluster was made.
    const r = await cli(['status', '--name', NAME], { DOCKER_CONTEXT: `swarmup-${NAME}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cluster ${NAME} was made on the Docker engine at unix://${socket}`);
    expect(r.stderr).toContain(`swarmup-${NAME} is swarmup's own, skipped: give --docker-context engine`);
    const named = await cli(['status', '--name', NAME, '--docker-context', 'engine'], {
      DOCKER_CONTEXT: `swarmup-${NAME}`,
    });
    expect(named.code, named.stderr).toBe(0);
  });
});
