import { writeFileSync, renameSync } from 'node:fs';
import type { HostSpec } from '../config/cluster.ts';
import { errorMessage } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Verification } from '../swarm/verify.ts';
import {
  contextName,
  dockerCliPresent,
  ensureContext,
  refuseForeign,
  removeContext,
  type ContextSeen,
} from './docker-context.ts';
import { forwardPaths, forwarderAnswers, startForwarder, stopForwarder } from './forwarder.ts';
import { sshConfigText } from './ssh-config.ts';

/**
 * Using a cluster from one's own shell: swarmup's ssh_config of the cluster, the forwarded Docker socket and the
 * docker context `swarmup-<name>` that points at it. Made after `up`, `scale` and `recover`, removed by `down`.
 */

/** `<state>/ssh_config` for these machines, written whole (0600). Returns its path. */
export function writeSshConfig(ctx: PlaybookContext, hosts: HostSpec[]): string {
  ctx.state.ensure();
  const { config } = forwardPaths(ctx.state.dir);
  const tmp = `${config}.${process.pid}.tmp`;
  writeFileSync(tmp, sshConfigText(hosts, { knownHosts: ctx.state.knownHosts().path }), { mode: 0o600 });
  renameSync(tmp, config);
  return config;
}

/**
 * The order to try managers in: the leader first (the verification names it), then the other managers, then
 * hosts whose role the inventory leaves open. Pure.
 */
export function managerCandidates(hosts: HostSpec[], verification?: Verification): string[] {
  const rows = verification?.nodes ?? [];
  const leader = rows.filter((n) => n.leader).map((n) => n.name);
  const managers = rows.filter((n) => n.role === 'manager' && !n.leader).map((n) => n.name);
  const byRole = hosts.filter((h) => h.role === 'manager').map((h) => h.name);
  const open = hosts.filter((h) => h.role === 'auto').map((h) => h.name);
  const known = new Set(hosts.map((h) => h.name));
  return [...new Set([...leader, ...managers, ...byRole, ...open])].filter((n) => known.has(n));
}

/**
 * Forward the Docker socket to the first manager that answers through it and point the context at it. Returns
 * the manager used. Throws when none answers.
 */
export async function connect(ctx: PlaybookContext, verification?: Verification): Promise<string> {
  const hosts = await ctx.provider.reach();
  writeSshConfig(ctx, hosts);
  const errors: string[] = [];
  for (const node of managerCandidates(hosts, verification)) {
    try {
      await startForwarder(ctx.state.dir, node);
      return node;
    } catch (err) {
      errors.push(errorMessage(err));
    }
  }
  throw new Error(`no manager answered through ssh: ${errors.join('; ') || 'no manager found'}`);
}

/**
 * Before `up` changes anything: a docker context of the cluster's name that swarmup did not make is exit 2. What
 * was seen is handed to `publishAccess`.
 */
export async function refuseForeignContext(ctx: PlaybookContext): Promise<ContextSeen> {
  return refuseForeign(ctx.cluster.name, ctx.state.dir);
}

/**
 * After a verified `up` / `scale` / `recover`: socket and context, then how to use and remove them. A forwarder
 * that runs and reaches a manager is kept, and a context that is ours and points at its socket is left as it is:
 * each would cost, on a machine busy with a swarm that just formed, an SSH handshake and a manager's answer, or a
 * docker CLI start. `seen`: the context as `refuseForeignContext` saw it before the run. A failure here is reported,
 * never turned into a failed `up` (the cluster is up; `swarmup env` tries again).
 */
export async function publishAccess(
  ctx: PlaybookContext,
  verification: Verification,
  seen?: ContextSeen,
): Promise<void> {
  const say = (m: string) => ctx.reporter.info(m);
  const name = contextName(ctx.cluster.name);
  const { socket, config } = forwardPaths(ctx.state.dir);
  try {
    const [cli, kept] = await Promise.all([
      seen ? seen.cli : dockerCliPresent(),
      forwarderAnswers(ctx.state.dir),
    ]);
    if (kept && ctx.changes > 0) writeSshConfig(ctx, await ctx.provider.reach());
    const node = kept ? undefined : await connect(ctx, verification);
    const through = node ? `forwarded by ssh to ${node}` : 'forwarded by ssh';
    if (!cli) {
      say(`Docker API ${through} to unix://${socket} (no docker CLI found: no context made)`);
      return;
    }
    const done = await ensureContext(ctx.cluster.name, ctx.state.dir, `unix://${socket}`, seen);
    if (kept && done === 'unchanged') {
      say(`docker context ${name}: unchanged (unix://${socket})`);
      return;
    }
    say(
      `docker context ${name} ${done}: unix://${socket}, ${through} (${config}).\n` +
        `  use: docker --context ${name} node ls | docker context use ${name} | eval "$(swarmup env --name ${ctx.cluster.name})"\n` +
        `  shell on a node: swarmup ssh --name ${ctx.cluster.name} NODE; remove: swarmup down, or docker context rm ${name}`,
    );
  } catch (err) {
    say(`warning: no docker context for ${ctx.cluster.name}: ${errorMessage(err)}`);
  }
}

/** `down`: stop the forwarder first (its pid is in the state folder); the context goes once the cluster has gone. */
export async function stopAccess(ctx: PlaybookContext): Promise<void> {
  await stopForwarder(ctx.state.dir);
}

export async function removeAccess(ctx: PlaybookContext): Promise<void> {
  const name = contextName(ctx.cluster.name);
  const r = await removeContext(ctx.cluster.name, ctx.state.dir);
  if (r === 'removed') ctx.reporter.info(`docker context ${name} removed`);
  if (r === 'foreign') ctx.reporter.info(`docker context ${name} was not made by swarmup: left as it is`);
}
