import type Docker from 'dockerode';
import { InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Action } from '../swarm/actions.ts';
import { DRAIN_TIMEOUT_MS, waitDrained } from '../swarm/drain-wait.ts';
import { retryLeaderless } from '../swarm/leaderless.ts';
import { drainPlacementCheck, type SwarmNodeJson, type SwarmServiceJson } from '../swarm/placement.ts';
import { withDeadline } from '../transport/deadline.ts';
import { quote } from '../transport/quote.ts';
import { applyActions, needEntry, openSwarm, type OpenSwarm } from './day2.ts';

/**
 * `swarmup drain NODE [--for -- CMD]` and `swarmup activate NODE`: one node's maintenance, through the leader. A
 * drain is refused (nothing changed) when it would leave a service no node its constraints allow; it returns once
 * the node runs no task of a replicated service and their replicas run elsewhere (src/swarm/drain-wait.ts).
 */

export interface DrainOptions {
  /** Run on the node over its SSH connection once drained; the node is activated after it succeeds. */
  command?: string[];
  commandTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** Asked before a change unless --yes (false: nothing is done; the caller refuses when there is no terminal). */
  confirm(question: string): Promise<boolean>;
  /** The command's output as it comes. */
  output(chunk: string): void;
}

interface Target {
  s: OpenSwarm;
  docker: Docker;
  nodeId: string;
  node: SwarmNodeJson;
  nodes: SwarmNodeJson[];
}

/** The swarm, through the leader, and the node named: unknown names are bad input, naming the known ones. */
async function openTarget(ctx: PlaybookContext, host: string, drainTimeoutMs?: number): Promise<Target> {
  const s = await openSwarm(ctx, drainTimeoutMs ? { drainTimeoutMs } : {});
  const known = s.facts.map((f) => f.host);
  const fact = s.facts.find((f) => f.host === host);
  if (!fact)
    throw new InputError(
      `unknown node "${host}"; nodes of ${ctx.cluster.name}: ${known.join(', ') || '(none running)'}`,
    );
  const entry = needEntry(ctx, s);
  const docker = (await ctx.connection(s.hosts.find((h) => h.name === entry)!)).docker;
  const nodes = await retryLeaderless(() =>
    withDeadline(docker.listNodes() as Promise<SwarmNodeJson[]>, 30_000, 'the Docker engine: node list'),
  );
  const node = nodes.find((n) => n.ID === fact.nodeId);
  if (!fact.nodeId || !node)
    throw new InputError(
      `${host} is not a node of the swarm of ${ctx.cluster.name} (swarmup status tells more)`,
    );
  return { s, docker, nodeId: node.ID, node, nodes };
}

/** Drain a node (or wait for one drained before), run the maintenance command and activate it again. */
export async function drainNode(ctx: PlaybookContext, host: string, o: DrainOptions): Promise<string> {
  const t = await openTarget(ctx, host, o.drainTimeoutMs);
  const drained = t.node.Spec?.Availability === 'drain';
  if (!drained) await checkPlacement(ctx, t, host);
  if (t.node.Spec?.Role === 'manager') {
    const managers = t.nodes.filter((n) => n.Spec?.Role === 'manager').length;
    ctx.log(
      `${host} is a manager: drained, it stays a raft voter (${managers} manager${managers === 1 ? '' : 's'}, ` +
        'quorum unchanged); it only stops running tasks',
    );
  }
  const question = `drain ${host}: its tasks move to other nodes${o.command ? `, then run "${o.command.join(' ')}" there and activate it` : ''}`;
  if (!ctx.options.yes && !(drained && !o.command) && !(await o.confirm(question))) return 'nothing done';
  const action: Action = { kind: 'drain', host, nodeId: t.nodeId };
  if (drained) {
    ctx.log(`${host} is drained already: waiting until its tasks run elsewhere`);
    await waitDrained(t.docker, t.nodeId, {
      timeoutMs: o.drainTimeoutMs ?? DRAIN_TIMEOUT_MS,
      node: host,
      log: (m) => ctx.log(`${host}: ${m}`),
    }).catch((err: Error) => {
      throw new StepError(host, 'wait until its tasks run elsewhere', err.message);
    });
  } else
    await applyActions(ctx, t.s, `drain ${host}`, [action], false).catch(async (err: unknown) => {
      // Drained, but its tasks did not all run elsewhere in time: the node is changed (exit 3, not 1).
      if ((await availabilityOf(t).catch(() => '')) === 'drain') ctx.changed();
      throw err;
    });
  if (!o.command) return `${host} drained`;
  await runOnNode(ctx, t.s, host, o);
  await applyActions(ctx, t.s, `activate ${host}`, [{ kind: 'activate', host, nodeId: t.nodeId }], false);
  return `${host}: "${o.command.join(' ')}" done, node active again`;
}

async function availabilityOf(t: Target): Promise<string> {
  const node = (await t.docker.getNode(t.nodeId).inspect()) as SwarmNodeJson;
  return node.Spec?.Availability ?? '';
}

/** Refuse (bad input, nothing changed) a drain that leaves a replicated service no node its constraints allow. */
async function checkPlacement(ctx: PlaybookContext, t: Target, host: string): Promise<void> {
  const services = await retryLeaderless(() =>
    withDeadline(
      t.docker.listServices() as Promise<SwarmServiceJson[]>,
      30_000,
      'the Docker engine: services',
    ),
  );
  const check = drainPlacementCheck(t.nodeId, t.nodes, services);
  for (const note of check.notes) ctx.log(note);
  if (check.refusals.length > 0)
    throw new InputError(
      `not drained: ${host} is the last active node that ${check.refusals
        .map((r) => `service ${r.service} (${r.constraints.join(', ') || 'no constraints'})`)
        .join(' and ')} may run on; ` +
        'activate another node that satisfies the constraints first, or change the service',
    );
}

/** The maintenance command on the node, over its SSH connection, its output streamed; a failure leaves it drained. */
async function runOnNode(ctx: PlaybookContext, s: OpenSwarm, host: string, o: DrainOptions): Promise<void> {
  const command = o.command!;
  const shown = command.join(' ');
  const step = `run "${shown}" (the node stays drained; swarmup activate ${host} brings it back)`;
  const machine = s.hosts.find((h) => h.name === host);
  if (!machine) throw new StepError(host, step, 'no SSH target for this host');
  ctx.log(`${host}: running ${shown}`);
  // stderr joins stdout so both are streamed, in order.
  const line = command.length === 1 ? command[0]! : command.map(quote).join(' ');
  const r = await (
    await ctx.connection(machine)
  )
    .execStreaming(`{ ${line}\n} 2>&1`, o.output, o.commandTimeoutMs ?? 3_600_000)
    .catch((err: Error) => {
      throw new StepError(host, step, err instanceof StepError ? err.causeMessage : err.message);
    });
  if (r.code !== 0) throw new StepError(host, step, `exited ${r.code}`);
}

/** Bring a node back: active (new tasks may land on it); one already active is left alone. */
export async function activateNode(ctx: PlaybookContext, host: string): Promise<string> {
  const t = await openTarget(ctx, host);
  if (t.node.Spec?.Availability === 'active') return `${host} is active already`;
  await applyActions(ctx, t.s, `activate ${host}`, [{ kind: 'activate', host, nodeId: t.nodeId }], false);
  return `${host} active`;
}
