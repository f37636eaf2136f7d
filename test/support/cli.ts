import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  cleanupEventSchema,
  eventSchema,
  lsKeptSchema,
  lsRowSchema,
  statusSchema,
} from '../../src/playbook/event-schema.ts';
import { execa } from 'execa';

const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (only lines that parse). */
  events: Array<Record<string, unknown>>;
}

let dockerConfig: string | undefined;

/** A fresh SWARMUP_HOME for one test file. */
export function tempHome(prefix = 'swarmup-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The environment of a swarmup child: this process's, without any AWS_* variable of the caller (a real account's
 * credentials, an endpoint override), with the instance metadata service off (the SDK would try its address), a
 * DOCKER_CONFIG of the test run's own (for the docker contexts `up` makes), and what the test gives.
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  dockerConfig ??= mkdtempSync(join(tmpdir(), 'swarmup-dockercfg-'));
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('AWS_'),
    ),
  );
  return { ...base, AWS_EC2_METADATA_DISABLED: 'true', DOCKER_CONFIG: dockerConfig, ...env };
}

/** Run the swarmup binary exactly as a user would, with no terminal on stdin. */
/**
 * Every `--json` output any test produces is checked line by line against the published schemas
 * (src/playbook/event-schema.ts): a line that is not JSON, or not of its command's shape, fails the test that ran it.
 */
export function checkJsonOutput(args: string[], stdout: string): void {
  const command = args.find((a) => !a.startsWith('-')) ?? '';
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const schemas: Record<string, z.ZodType> = {
    status: statusOrError,
    cleanup: cleanupEventSchema,
    ls: z.union([lsRowSchema, lsKeptSchema, eventSchema]),
  };
  const schema = schemas[command] ?? eventSchema;
  for (const [i, line] of lines.entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`swarmup ${command} --json: line ${i + 1} is not JSON: ${line}`);
    }
    const r = schema.safeParse(value);
    if (!r.success)
      throw new Error(
        `swarmup ${command} --json: line ${i + 1} does not match the schema: ${r.error.message}\n${line}`,
      );
  }
  if (command === 'status' && lines.length > 1)
    throw new Error(`swarmup status --json printed ${lines.length} lines, not one object`);
}

const statusOrError = z.union([statusSchema, eventSchema]);

export async function swarmup(
  args: string[],
  env: Record<string, string>,
  /** The working folder (where ./swarmup.yaml is looked for); by default this process's. */
  cwd?: string,
): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], {
    ...(cwd ? { cwd } : {}),
    env: childEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 600_000,
  });
  const events = String(r.stdout)
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  if (args.includes('--json')) checkJsonOutput(args, String(r.stdout));
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), events };
}

export function summaryOf(r: CliResult): {
  changes: number;
  ok: boolean;
  nodes: Array<Record<string, unknown>>;
  problems?: string[];
} {
  const s = r.events.filter((e) => e.event === 'summary').at(-1);
  if (!s) throw new Error(`no summary event (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return s as never;
}

/**
 * What a `--json` run said went wrong, for an assertion's message: its error, problem, failed task and action
 * events and its log lines, one per line (the text of `--json` output carries no secret: tests check that).
 */
export function failureEvents(r: CliResult): string {
  const lines = r.events.filter(
    (e) =>
      e.event === 'error' ||
      e.event === 'problem' ||
      e.event === 'log' ||
      e.status === 'failed' ||
      (e.event === 'action' && e.status === 'ok'),
  );
  return lines.length > 0 ? `\n${lines.map((e) => JSON.stringify(e)).join('\n')}` : '';
}

/** Run a command inside a node container (the test's own view of a node, not swarmup's). */
export async function inNode(container: string, command: string[]): Promise<string> {
  const r = await execa('docker', ['exec', container, ...command], { reject: false });
  if (r.exitCode !== 0) throw new Error(`docker exec ${container} ${command.join(' ')}: ${r.stderr}`);
  return String(r.stdout).trim();
}

export async function swarmState(
  container: string,
): Promise<{ state: string; nodeId: string; clusterId: string }> {
  const out = await inNode(container, ['docker', 'info', '--format', '{{json .Swarm}}']);
  const s = JSON.parse(out) as { LocalNodeState: string; NodeID: string; Cluster?: { ID?: string } };
  return { state: s.LocalNodeState, nodeId: s.NodeID, clusterId: s.Cluster?.ID ?? '' };
}

export async function labelled(
  kind: 'ps -a' | 'volume ls' | 'network ls',
  cluster: string,
): Promise<string[]> {
  const r = await execa('docker', [...kind.split(' '), '-q', '--filter', `label=swarmup.cluster=${cluster}`]);
  return String(r.stdout).split('\n').filter(Boolean);
}

/** Every file under a folder, as text, to check that no secret was written. */
export async function allText(dir: string): Promise<string> {
  const r = await execa('sh', ['-c', `find "$1" -type f -exec cat {} +`, 'sh', dir], { reject: false });
  return String(r.stdout);
}
