import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  chooseEngine,
  DEFAULT_ENGINE,
  describeEngine,
  dockerodeOptions,
  resolveEngine,
} from '../../src/providers/docker/endpoint.ts';

describe('chooseEngine: the docker CLI order (--context, DOCKER_HOST, DOCKER_CONTEXT, currentContext, default)', () => {
  const host = 'unix:///run/other.sock';
  it.each([
    ['nothing at all', {}, { from: 'default' }],
    ['the current context', { currentContext: 'colima' }, { from: 'current context', context: 'colima' }],
    [
      'DOCKER_CONTEXT over the current context',
      { env: { DOCKER_CONTEXT: 'lab' }, currentContext: 'colima' },
      { from: 'DOCKER_CONTEXT', context: 'lab' },
    ],
    [
      'DOCKER_HOST over both',
      { env: { DOCKER_HOST: host, DOCKER_CONTEXT: 'lab' }, currentContext: 'colima' },
      { from: 'DOCKER_HOST', host },
    ],
    [
      '--docker-context over DOCKER_HOST',
      { flag: 'lab', env: { DOCKER_HOST: host }, currentContext: 'colima' },
      { from: '--docker-context', context: 'lab' },
    ],
    [
      '--docker-context default: DOCKER_HOST',
      { flag: 'default', env: { DOCKER_HOST: host } },
      { from: 'DOCKER_HOST', host },
    ],
    [
      '--docker-context default: the socket',
      { flag: 'default', currentContext: 'colima' },
      { from: 'default' },
    ],
    ['a current context named default', { currentContext: 'default' }, { from: 'default' }],
    [
      "swarmup's own current context is skipped",
      { currentContext: 'swarmup-lab' },
      { from: 'default', skipped: { context: 'swarmup-lab', from: 'current context' } },
    ],
    [
      "swarmup's own DOCKER_CONTEXT (what `swarmup env` sets) is skipped, not passed on to the current context",
      { env: { DOCKER_CONTEXT: 'swarmup-lab' }, currentContext: 'colima' },
      { from: 'default', skipped: { context: 'swarmup-lab', from: 'DOCKER_CONTEXT' } },
    ],
    [
      'an empty DOCKER_HOST counts as unset',
      { env: { DOCKER_HOST: '' }, currentContext: 'colima' },
      { from: 'current context', context: 'colima' },
    ],
  ])('%s', (_, given, expected) => {
    expect(chooseEngine({ env: {}, ...given })).toEqual(expected);
  });

  it("--docker-context naming swarmup's own context is bad input", () => {
    expect(() => chooseEngine({ flag: 'swarmup-lab', env: {} })).toThrow(InputError);
    expect(() => chooseEngine({ flag: 'swarmup-lab', env: {} })).toThrow(/swarmup's own context/);
  });
});

describe('resolveEngine: the context store as the docker CLI writes it', () => {
  // A DOCKER_CONFIG of the test's own, filled by the docker CLI itself (never the machine's ~/.docker).
  const config = mkdtempSync(join(tmpdir(), 'swarmup-endpoint-'));
  const docker = (args: string[]) =>
    execa('docker', args, { env: { DOCKER_CONFIG: config }, extendEnv: true });
  const env = (more: Record<string, string> = {}) => ({ DOCKER_CONFIG: config, ...more });

  beforeAll(async () => {
    await docker(['context', 'create', 'lab', '--docker', 'host=unix:///run/lab.sock']);
    await docker(['context', 'create', 'swarmup-x', '--docker', 'host=unix:///run/x.sock']);
    await docker(['context', 'create', 'far', '--docker', 'host=tcp://127.0.0.1:2375']);
  });
  afterAll(() => rmSync(config, { recursive: true, force: true }));

  it('no current context: the default socket, said so', () => {
    const e = resolveEngine(undefined, env());
    expect(e.host).toBe(DEFAULT_ENGINE);
    expect(describeEngine(e)).toBe(
      `${DEFAULT_ENGINE}, the default socket: no DOCKER_HOST, no docker context`,
    );
  });

  it('the current context of config.json (docker context use), named with its file', async () => {
    await docker(['context', 'use', 'lab']);
    const e = resolveEngine(undefined, env());
    expect(e.host).toBe('unix:///run/lab.sock');
    expect(describeEngine(e)).toBe(
      `unix:///run/lab.sock, docker context lab, the current one in ${join(config, 'config.json')}`,
    );
    expect(dockerodeOptions(e)).toMatchObject({ socketPath: '/run/lab.sock', host: undefined });
    // DOCKER_HOST wins over it, as with the docker CLI; --docker-context wins over DOCKER_HOST.
    expect(resolveEngine(undefined, env({ DOCKER_HOST: 'unix:///run/h.sock' })).host).toBe(
      'unix:///run/h.sock',
    );
    const far = resolveEngine('far', env({ DOCKER_HOST: 'unix:///run/h.sock' }));
    expect(far.host).toBe('tcp://127.0.0.1:2375');
    expect(describeEngine(far)).toBe('tcp://127.0.0.1:2375, docker context far from --docker-context');
    expect(dockerodeOptions(far)).toMatchObject({ host: '127.0.0.1', port: '2375', protocol: 'http' });
  });

  it("swarmup's own context as the current one is skipped for the default socket", async () => {
    await docker(['context', 'use', 'swarmup-x']);
    const e = resolveEngine(undefined, env());
    expect(e.host).toBe(DEFAULT_ENGINE);
    expect(describeEngine(e)).toContain("the current docker context swarmup-x is swarmup's own, skipped");
    expect(resolveEngine(undefined, env({ DOCKER_CONTEXT: 'lab' })).host).toBe('unix:///run/lab.sock');
    await docker(['context', 'use', 'default']);
  });

  it('a context that does not exist is bad input naming it and where it was looked for', () => {
    expect(() => resolveEngine(undefined, env({ DOCKER_CONTEXT: 'nope' }))).toThrow(
      `docker context "nope" (DOCKER_CONTEXT) does not exist in ${join(config, 'contexts')}`,
    );
    expect(() => resolveEngine('nope', env())).toThrow(InputError);
  });
});
