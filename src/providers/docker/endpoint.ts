import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';

/** The docker CLI's default engine (its `default` context without DOCKER_HOST). */
export const DEFAULT_ENGINE = 'unix:///var/run/docker.sock';

/** swarmup's own contexts (`swarmup-<cluster>`, written by `up`): a swarm's manager, never where nodes are made. */
const OWN_CONTEXT = /^swarmup-/;

/** Where the engine's name came from, in the docker CLI's order. */
export type EngineChoice =
  | { from: 'DOCKER_HOST'; host: string }
  | { from: '--docker-context' | 'DOCKER_CONTEXT' | 'current context'; context: string }
  | { from: 'default'; skipped?: { context: string; from: 'DOCKER_CONTEXT' | 'current context' } };

/**
 * Which engine the docker CLI would talk to (its resolveContextName): `--context` (here `--docker-context`), else
 * DOCKER_HOST, else DOCKER_CONTEXT, else `currentContext` of its config.json, else the default context. The context
 * `default` is DOCKER_HOST or the default socket. swarmup's own `swarmup-*` contexts (what `swarmup env` selects)
 * point at a cluster's manager: found in the environment they are skipped, named by the flag they are refused. Pure.
 */
export function chooseEngine(given: {
  flag?: string | undefined;
  env: { DOCKER_HOST?: string | undefined; DOCKER_CONTEXT?: string | undefined };
  currentContext?: string | undefined;
}): EngineChoice {
  const host = given.env.DOCKER_HOST || undefined;
  const fallback: EngineChoice = host ? { from: 'DOCKER_HOST', host } : { from: 'default' };
  if (given.flag !== undefined) {
    if (given.flag === 'default') return fallback;
    if (OWN_CONTEXT.test(given.flag))
      throw new InputError(
        `--docker-context ${given.flag}: that is swarmup's own context of a cluster's manager, not an engine to ` +
          'make node containers on: name the context of the engine itself (docker context ls lists them)',
      );
    return { from: '--docker-context', context: given.flag };
  }
  if (host) return fallback;
  const named: Array<['DOCKER_CONTEXT' | 'current context', string | undefined]> = [
    ['DOCKER_CONTEXT', given.env.DOCKER_CONTEXT || undefined],
    ['current context', given.currentContext || undefined],
  ];
  const [from, context] = named.find(([, c]) => c !== undefined) ?? [];
  if (!from || !context || context === 'default') return { from: 'default' };
  if (OWN_CONTEXT.test(context)) return { from: 'default', skipped: { context, from } };
  return { from, context };
}

/** The engine the docker provider talks to, and how it was found. */
export interface Engine {
  /** `unix:///...`, `tcp://host:port`, `ssh://user@host`: what is recorded and compared with the record. */
  host: string;
  choice: EngineChoice;
  /** The docker CLI's config folder ($DOCKER_CONFIG, else ~/.docker). */
  configDir: string;
  /** A context's TLS material (ca.pem, cert.pem, key.pem), when its store has any. */
  tlsDir?: string;
}

/** The docker CLI's config folder. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/** The folder of a context in the docker CLI's store is named by the SHA-256 of its name. */
function contextId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read it as JSON (${code ?? (err as Error).message})`);
  }
}

/** `currentContext` of the docker CLI's config.json (absent file: none). */
function currentContext(configDir: string): string | undefined {
  const file = join(configDir, 'config.json');
  if (!existsSync(file)) return undefined;
  const value = (readJson(file) as { currentContext?: unknown } | null)?.currentContext;
  return typeof value === 'string' ? value : undefined;
}

function said(choice: EngineChoice): string {
  switch (choice.from) {
    case '--docker-context':
      return '--docker-context';
    case 'DOCKER_CONTEXT':
      return 'DOCKER_CONTEXT';
    case 'current context':
      return 'the current context';
    default:
      return '';
  }
}

/** The docker endpoint of a context, from its meta.json in the docker CLI's store (as `docker context inspect`). */
function contextHost(configDir: string, choice: EngineChoice & { context: string }): Engine {
  const dir = contextId(choice.context);
  const meta = join(configDir, 'contexts', 'meta', dir, 'meta.json');
  if (!existsSync(meta))
    throw new InputError(
      `docker context "${choice.context}" (${said(choice)}) does not exist in ${join(configDir, 'contexts')} ` +
        '(docker context ls lists them)',
    );
  const host = (readJson(meta) as { Endpoints?: { docker?: { Host?: unknown } } } | null)?.Endpoints?.docker
    ?.Host;
  if (typeof host !== 'string' || host === '')
    throw new InputError(
      `${meta}: docker context "${choice.context}" has no docker endpoint (Endpoints.docker.Host)`,
    );
  const tls = join(configDir, 'contexts', 'tls', dir, 'docker');
  return { host, choice, configDir, ...(existsSync(tls) ? { tlsDir: tls } : {}) };
}

/** The engine as the docker CLI finds it (see chooseEngine), reading its config.json and context store. */
export function resolveEngine(flag?: string, env: NodeJS.ProcessEnv = process.env): Engine {
  const configDir = dockerConfigDir(env);
  const decided = (current?: string) => chooseEngine({ flag, env, currentContext: current });
  // config.json is read only when it can matter (no flag, no DOCKER_HOST, no DOCKER_CONTEXT).
  const needsConfig = flag === undefined && !env.DOCKER_HOST && !env.DOCKER_CONTEXT;
  const choice = decided(needsConfig ? currentContext(configDir) : undefined);
  if (choice.from === 'DOCKER_HOST') return { host: choice.host, choice, configDir };
  if (choice.from === 'default') return { host: DEFAULT_ENGINE, choice, configDir };
  return contextHost(configDir, choice);
}

/** The engine and how it was found, for the plan and messages: `unix:///x, docker context lab from DOCKER_CONTEXT`. */
export function describeEngine(e: Engine): string {
  const c = e.choice;
  switch (c.from) {
    case 'DOCKER_HOST':
      return `${e.host} from DOCKER_HOST`;
    case '--docker-context':
    case 'DOCKER_CONTEXT':
      return `${e.host}, docker context ${c.context} from ${c.from}`;
    case 'current context':
      return `${e.host}, docker context ${c.context}, the current one in ${join(e.configDir, 'config.json')}`;
    default:
      return c.skipped
        ? `${e.host}, the default socket: ${c.skipped.from === 'DOCKER_CONTEXT' ? 'DOCKER_CONTEXT' : 'the current docker context'} ${c.skipped.context} is swarmup's own, skipped`
        : `${e.host}, the default socket: no DOCKER_HOST, no docker context`;
  }
}

/** How to choose this engine again: what a refusal tells the user to give. */
export function howToChoose(host: string, context?: string): string {
  if (context) return `--docker-context ${context}`;
  return host === DEFAULT_ENGINE ? '--docker-context default' : `DOCKER_HOST=${host}`;
}

/** The context the engine came from, if any (recorded beside the endpoint). */
export function contextOf(e: Engine): string | undefined {
  return 'context' in e.choice ? e.choice.context : undefined;
}

/** dockerode's options for the engine (DOCKER_HOST: dockerode reads it, with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH). */
export function dockerodeOptions(e: Engine): Record<string, unknown> {
  if (e.choice.from === 'DOCKER_HOST') return {};
  // Every field dockerode would take from a DOCKER_HOST of the environment is set: the context's engine wins.
  const none = { host: undefined, port: undefined, protocol: undefined, username: undefined };
  const clear = { ...none, ca: undefined, cert: undefined, key: undefined, socketPath: undefined };
  if (e.host.startsWith('unix://')) return { ...clear, socketPath: e.host.slice('unix://'.length) };
  let url: URL;
  try {
    url = new URL(e.host);
  } catch {
    throw new InputError(`docker endpoint ${describeEngine(e)}: not a URL like tcp://host:2376`);
  }
  if (url.protocol === 'ssh:')
    return {
      ...clear,
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || '22',
      ...(url.username ? { username: url.username } : {}),
      sshOptions: { agent: process.env.SSH_AUTH_SOCK },
    };
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(
      `docker endpoint ${describeEngine(e)}: only unix://, tcp:// and ssh:// are supported`,
    );
  const tls = e.tlsDir
    ? Object.fromEntries(
        (['ca', 'cert', 'key'] as const)
          .filter((f) => existsSync(join(e.tlsDir!, `${f}.pem`)))
          .map((f) => [f, readFileSync(join(e.tlsDir!, `${f}.pem`))]),
      )
    : {};
  return {
    ...clear,
    ...tls,
    host: url.hostname,
    port: url.port || (e.tlsDir ? '2376' : '2375'),
    protocol: e.tlsDir || url.protocol === 'https:' ? 'https' : 'http',
  };
}
