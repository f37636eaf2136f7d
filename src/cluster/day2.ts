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
  /** The cluster's machines as the provider reaches them. */
  hosts: Machine[];
  facts: HostFacts[];
  /** The leader's host (else a manager that lists the nodes); undefined when no manager answers. */
  entry?: string;
  applier: SwarmApplier;
  /** An applier whose node-list changes go through another manager (the entry's own engine is about to stop). */
  applierVia(entry: string): SwarmApplier;
}

export async function openSwarm(ctx: PlaybookContext): Promise<OpenSwarm> {
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
  const applierVia = (via: string) =>
    new SwarmApplier({
      entry: via,
      machine,
      docker: async (name) => (await ctx.connection(machine(name))).docker,
      nodeIds: new Map(facts.map((f) => [f.host, f.nodeId])),
      log: (message) => ctx.reporter.emit({ event: 'log', message }),
      unlockKeys: unlockKeysOf(ctx),
    });
  return { hosts, facts, ...(entry ? { entry } : {}), applier: applierVia(entry ?? ''), applierVia };
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
async function applyActions(
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
