import { runTool } from './run-tool.ts';
import { InputError, StepError } from '../errors.ts';

/**
 * The docker CLI context of a cluster: `swarmup-<cluster>`, so it never takes a name the user may already use for
 * a context of their own (`lab`, or docker's own `default`) and says where it comes from in `docker context ls`.
 * Ours carry the description `swarmup cluster <name> (<state folder>)`; a context of that name with any other
 * description is not ours: it is never changed or removed.
 */
export function contextName(cluster: string): string {
  return `swarmup-${cluster}`;
}

export function contextDescription(cluster: string, stateDir: string): string {
  return `swarmup cluster ${cluster} (${stateDir})`;
}

export type Ownership = 'absent' | 'ours' | 'foreign';

/** Whether an existing context (its description, or undefined when there is none) is this cluster's own. */
export function ownership(description: string | undefined, cluster: string, stateDir: string): Ownership {
  if (description === undefined) return 'absent';
  return description === contextDescription(cluster, stateDir) ? 'ours' : 'foreign';
}

const DEADLINE_MS = 15_000;

async function docker(args: string[]) {
  return runTool('docker', args, DEADLINE_MS);
}

/** The docker CLI is installed (a context can be made). */
export async function dockerCliPresent(): Promise<boolean> {
  const r = await docker(['--version']).catch(() => undefined);
  return !!r && r.exitCode === 0;
}

/** A context's description and the Docker host it points at, or undefined when there is no such context. */
export async function contextOf(name: string): Promise<{ description: string; host?: string } | undefined> {
  const r = await docker(['context', 'inspect', name, '--format', '{{json .}}']);
  if (r.exitCode !== 0) {
    if (/not found|does not exist/i.test(String(r.stderr))) return undefined;
    throw new StepError(
      'docker CLI',
      `inspect context ${name}`,
      String(r.stderr).trim() || `exit ${r.exitCode}`,
    );
  }
  const ctx = JSON.parse(String(r.stdout)) as {
    Metadata?: { Description?: string } | null;
    Endpoints?: { docker?: { Host?: string } };
  };
  const host = ctx.Endpoints?.docker?.Host;
  return { description: ctx.Metadata?.Description ?? '', ...(host ? { host } : {}) };
}

/** The description of the context `name`, or undefined when there is no such context. */
export async function contextDescriptionOf(name: string): Promise<string | undefined> {
  return (await contextOf(name))?.description;
}

/** What the docker CLI showed of the cluster's context: whether there is a CLI, and the context if there is one. */
export interface ContextSeen {
  cli: boolean;
  context?: { description: string; host?: string };
}

function foreign(name: string): InputError {
  return new InputError(
    `docker context "${name}" exists and was not made by swarmup for this cluster (its description differs); ` +
      `swarmup leaves it as it is: remove or rename it yourself (docker context rm ${name}) and run again`,
  );
}

/**
 * Refuse (exit 2) when a context of the cluster's name exists that swarmup did not make for it. Returns what it saw,
 * so that the context is not looked at again after the run (the docker CLI starts slowly on a machine busy with a
 * swarm that just formed).
 */
export async function refuseForeign(cluster: string, stateDir: string): Promise<ContextSeen> {
  if (!(await dockerCliPresent())) return { cli: false };
  const name = contextName(cluster);
  const context = await contextOf(name);
  if (ownership(context?.description, cluster, stateDir) === 'foreign') throw foreign(name);
  return { cli: true, ...(context ? { context } : {}) };
}

/**
 * Create the cluster's context, or point ours at `host` again; nothing when ours already points there. `seen`: the
 * context as read before (else it is read now). Returns what was done.
 */
export async function ensureContext(
  cluster: string,
  stateDir: string,
  host: string,
  seen?: ContextSeen,
): Promise<'created' | 'updated' | 'unchanged'> {
  const name = contextName(cluster);
  const description = contextDescription(cluster, stateDir);
  const context = seen ? seen.context : await contextOf(name);
  const own = ownership(context?.description, cluster, stateDir);
  if (own === 'foreign') throw foreign(name);
  if (own === 'ours' && context?.host === host) return 'unchanged';
  const verb = own === 'absent' ? 'create' : 'update';
  const r = await docker(['context', verb, name, '--description', description, '--docker', `host=${host}`]);
  if (r.exitCode !== 0)
    throw new StepError(
      'docker CLI',
      `${verb} context ${name}`,
      String(r.stderr).trim() || `exit ${r.exitCode}`,
    );
  return own === 'absent' ? 'created' : 'updated';
}

/** Remove the cluster's context if it is ours; a foreign one is left. */
export async function removeContext(
  cluster: string,
  stateDir: string,
): Promise<'removed' | 'absent' | 'foreign' | 'no docker CLI'> {
  if (!(await dockerCliPresent())) return 'no docker CLI';
  const name = contextName(cluster);
  const own = ownership(await contextDescriptionOf(name), cluster, stateDir);
  if (own !== 'ours') return own;
  // --force: also when it is the current context (the CLI then falls back to the default one).
  const r = await docker(['context', 'rm', '--force', name]);
  if (r.exitCode !== 0)
    throw new StepError(
      'docker CLI',
      `remove context ${name}`,
      String(r.stderr).trim() || `exit ${r.exitCode}`,
    );
  return 'removed';
}
