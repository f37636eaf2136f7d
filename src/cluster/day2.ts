import type Docker from 'dockerode';
import { unlockKeysOf } from './cluster-record.ts';
import { actionHost, describeAction, type Action } from '../swarm/actions.ts';
import { errorMessage, InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { SwarmApplier } from '../swarm/apply-action.ts';
import type { HostFacts } from '../swarm/facts.ts';
import { lockedHosts, lockedMessage } from '../swarm/locked.ts';
import { readSwarmFacts } from '../swarm/read-facts.ts';

/**
 * Day-2 swarm changes that go through one manager: rotating join tokens, rotating the unlock key, unlocking
 * managers. Each is a cluster action (src/swarm/actions.ts), applied by the same applier as `up`'s and recorded
 * as an `action` event. Tokens and keys stay in request bodies and the state folder's 0600 key file.
 */

export interface OpenSwarm {
  facts: HostFacts[];
  /** The leader's host (else a manager that lists the nodes); undefined when no manager answers. */
  entry?: string;
  applier: SwarmApplier;
  /** A host's Docker Engine API (over its SSH connection). */
  docker: (name: string) => Promise<Docker>;
  /** The machines reached (SSH targets by host name). */
  hosts: Machine[];
  /** An applier whose node-list changes go through another manager (the entry's own engine is about to stop). */
  applierVia(entry: string): SwarmApplier;
}

export async function openSwarm(
  ctx: PlaybookContext,
  options: { drainTimeoutMs?: number } = {},
): Promise<OpenSwarm> {
  const hosts = await ctx.provider.reach();
  if (hosts.length === 0) throw new StepError(ctx.cluster.name, 'read the swarm', 'no machines found');
  const facts = await readSwarmFacts(ctx.withHosts(hosts), {
    engineWaitMs: 2_000,
    settleMs: 0,
    deadlineMs: 10_000,
    // A manager that lists no nodes is not waited for when it is locked (it never will before unlock).
    electionWaitMs: 5_000,
  });
  // Not chooseSwarm: with a majority of managers locked the swarm has no quorum, and unlocking must still work.
  const managers = facts.filter((f) => f.isManager && f.nodes);
  const leaderId = managers.flatMap((f) => f.nodes ?? []).find((n) => n.leader)?.id;
  const entry = (managers.find((f) => f.nodeId === leaderId) ?? managers[0])?.host;
  const byName = new Map<string, Machine>(hosts.map((h) => [h.name, h]));
  const machine = (name: string): Machine => {
    const m = byName.get(name);
    if (!m) throw new StepError(name, 'swarm', 'no SSH target for this host');
    return m;
  };
  const docker = async (name: string) => (await ctx.connection(machine(name))).docker;
  const applierVia = (via: string) =>
    new SwarmApplier({
      entry: via,
      machine,
      docker,
      nodeIds: new Map(facts.map((f) => [f.host, f.nodeId])),
      log: (message) => ctx.reporter.emit({ event: 'log', message }),
      unlockKeys: unlockKeysOf(ctx),
      ...options,
    });
  return { facts, hosts, ...(entry ? { entry } : {}), applier: applierVia(entry ?? ''), applierVia, docker };
}

export function needEntry(ctx: PlaybookContext, s: OpenSwarm): string {
  if (s.entry) return s.entry;
  throw new StepError(
    ctx.cluster.name,
    'find a manager',
    lockedMessage(s.facts) ?? 'no manager answered with the node list (swarmup status tells more)',
  );
}

/** Apply actions as `up` does: each one counted and recorded as an action event; a failure names host and step. */
export async function applyActions(
  ctx: PlaybookContext,
  s: OpenSwarm,
  title: string,
  actions: Action[],
  concurrent: boolean,
): Promise<void> {
  const emit = (a: Action, status: 'ok' | 'failed') =>
    ctx.reporter.emit({ event: 'action', status, ...a, description: describeAction(a) });
  await ctx.tasks(
    title,
    actions.map((a) => ({
      title: describeAction(a),
      run: async () => {
        try {
          await s.applier.apply(a);
        } catch (err) {
          emit(a, 'failed');
          throw new StepError(
            actionHost(a, s.entry ?? ctx.cluster.name),
            describeAction(a),
            errorMessage(err),
          );
        }
        ctx.changed();
        emit(a, 'ok');
      },
    })),
    { concurrent },
  );
}

/** `swarmup rotate-tokens`: new join tokens (both, or the one named), through the leader. */
export async function rotateTokens(
  ctx: PlaybookContext,
  which: 'both' | 'worker' | 'manager',
): Promise<void> {
  const s = await openSwarm(ctx);
  needEntry(ctx, s);
  const action: Action = { kind: 'rotate-tokens', ...(which === 'both' ? {} : { tokens: which }) };
  await applyActions(ctx, s, 'rotate join tokens', [action], false);
}

/** `swarmup unlock`: every locked manager, in parallel, with the recorded key; the hosts unlocked. */
export async function unlockManagers(ctx: PlaybookContext): Promise<string[]> {
  const s = await openSwarm(ctx);
  const locked = lockedHosts(s.facts);
  if (locked.length === 0) return [];
  if (!ctx.state.readUnlockKey())
    throw new StepError(
      ctx.cluster.name,
      'unlock',
      `no unlock key is recorded in ${ctx.state.dir}: run "docker swarm unlock" on ${locked.join(', ')} with the key you kept`,
    );
  await applyActions(
    ctx,
    s,
    'unlock managers',
    locked.map((host): Action => ({ kind: 'unlock', host })),
    true,
  );
  return locked;
}

/** `swarmup unlock-key --rotate`: a new unlock key, kept in the state folder; the old one stops unlocking. */
export async function rotateUnlockKey(ctx: PlaybookContext): Promise<string> {
  const s = await openSwarm(ctx);
  const entry = needEntry(ctx, s);
  if (s.facts.find((f) => f.host === entry)?.autolock === false)
    throw new InputError(`cluster ${ctx.cluster.name}: autolock is off, there is no unlock key to rotate`);
  await applyActions(ctx, s, 'rotate the unlock key', [{ kind: 'rotate-unlock-key' }], false);
  const key = ctx.state.readUnlockKey();
  if (!key) throw new StepError(entry, 'rotate the unlock key', 'no key was kept');
  return key;
}

export interface CaRotation {
  /** Every node has a certificate of the new CA and trusts it; the rotation is over. */
  converged: boolean;
  /** The new root's fingerprint (once it is the swarm's trust root). */
  fingerprint?: string;
  /** Nodes that did not get there by the deadline: name, node state, what lags. */
  lagging: Array<{ name: string; state: string; lags: string }>;
  /** A rotation was already under way: it was waited for, not started again. */
  resumed: boolean;
}

/**
 * `swarmup rotate-ca`: a new root CA through the leader (docker swarm ca --rotate), then a bounded wait until every
 * node has a certificate of it and trusts it (what the docker CLI waits for). A rotation already under way is
 * waited for, not started again. A node that is down cannot catch up until it runs again: it is named.
 */
export async function rotateCA(
  ctx: PlaybookContext,
  opts: { timeoutMs: number; confirm: (question: string) => Promise<boolean> },
): Promise<CaRotation | undefined> {
  const { caFingerprint, describeProgress } = await import('../swarm/ca.ts');
  const { readCaState, waitCaConverged } = await import('../swarm/ca-rotation.ts');
  const s = await openSwarm(ctx);
  const entry = needEntry(ctx, s);
  const docker = await s.docker(entry);
  const before = await readCaState(docker);
  const nameOf = (id: string, hostname: string) => s.facts.find((f) => f.nodeId === id)?.host ?? hostname;
  if (!before.rotating) {
    const down = before.nodes.filter((n) => n.state !== 'ready').map((n) => nameOf(n.id, n.hostname));
    const q =
      `rotate the root CA of ${ctx.cluster.name}: every node (${before.nodes.length}) gets a certificate of a new CA` +
      (down.length > 0
        ? `; ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} not ready and will lag until back`
        : '');
    if (!ctx.options.yes) {
      if (!process.stdin.isTTY)
        throw new InputError(`${q}: pass --yes to go ahead (stdin is not a terminal)`);
      if (!(await opts.confirm(`${q}. Go ahead?`))) return undefined;
    }
    await applyActions(ctx, s, 'rotate the root CA', [{ kind: 'rotate-ca' }], false);
  } else ctx.log('a root CA rotation is already under way: waiting for it (not starting another)');
  const done = await waitCaConverged(docker, {
    timeoutMs: opts.timeoutMs,
    oldRoot: before.rotating ? undefined : before.swarm.trustRoot,
    progress: (p) => ctx.log(describeProgress(p, nameOf)),
  });
  return {
    converged: done.converged,
    ...(done.converged ? { fingerprint: caFingerprint(done.state.swarm.trustRoot) } : {}),
    lagging: done.progress.lagging.map((l) => ({
      name: nameOf(l.id, l.hostname),
      state: l.state,
      lags: l.lags,
    })),
    resumed: before.rotating,
  };
}
