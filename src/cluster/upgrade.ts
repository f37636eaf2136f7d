import type Docker from 'dockerode';
import { errorMessage, InputError, StepError, StepErrors } from '../errors.ts';
import { installEngine, readEngineFacts } from '../engine/ensure.ts';
import type { EngineFacts } from '../engine/host-facts.ts';
import { asRoot, planEngine, type EngineHostPlan } from '../engine/install-plan.ts';
import { startScript, stopScript } from '../engine/service.ts';
import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { describeAction, type Action, type Phase } from '../swarm/actions.ts';
import { retryLeaderless } from '../swarm/leaderless.ts';
import { listNodes, setAvailability } from '../swarm/engine.ts';
import type { ClusterNode } from '../swarm/facts.ts';
import { DrainNotDone } from '../swarm/drain-wait.ts';
import {
  guardManagerUpgrade,
  planUpgrade,
  renderUpgradePlan,
  type NodeUpgrade,
  type UpgradeBatch,
  type UpgradePlan,
} from '../swarm/upgrade-plan.ts';
import { needEntry, openSwarm, type OpenSwarm } from './day2.ts';
import { DrainRecord, nodeUpdatedAt, waitBack } from './upgrade-steps.ts';

/** How long each node's drain waits for its replicated tasks to run elsewhere (then it fails, or --force goes on). */
const UPGRADE_DRAIN_MS = 60_000;

/** A drained node's replicated tasks are waited for this long until they run on other nodes. */

export interface UpgradeOptions {
  /** --engine-version, else the config's engine.version. */
  target: string;
  batch: number;
  force: boolean;
}

export interface UpgradeOutcome {
  /** The order, as printed before anything changes. */
  lines: string[];
  /** Nodes upgraded by this run. */
  upgraded: string[];
  skipped: string[];
}

type ReadyPlan = Extract<UpgradePlan, { ok: true }>;

/** What every node's upgrade works with. */
interface Run {
  ctx: PlaybookContext;
  swarm: OpenSwarm;
  opts: UpgradeOptions;
  machine: (host: string) => Machine;
  facts: Map<string, EngineFacts>;
  engines: Map<string, EngineHostPlan>;
  /** Host of each node ID (the swarm's members this run can reach). */
  hostOf: Map<string, string>;
  record: DrainRecord;
}

/**
 * `swarmup upgrade`: every engine to the version, without losing quorum or a service's capacity beyond one node's
 * (a batch's) tasks. The plan is read from the leader's node list and shown first; nothing changes on --dry-run,
 * or without consent. Each batch is one step: after Ctrl-C, nothing new starts, and a run again skips the nodes
 * done (they are at the version).
 */
export async function upgrade(
  ctx: PlaybookContext,
  opts: UpgradeOptions,
  confirm: (q: string) => Promise<boolean>,
): Promise<UpgradeOutcome | undefined> {
  if (!ctx.state.exists())
    throw new InputError(`no cluster "${ctx.cluster.name}" recorded (swarmup ls lists them)`);
  const swarm = await openSwarm(ctx, { drainTimeoutMs: UPGRADE_DRAIN_MS });
  const entry = needEntry(ctx, swarm);
  const nodes = swarm.facts.find((f) => f.host === entry)?.nodes ?? [];
  const hostOf = new Map(swarm.facts.filter((f) => f.nodeId).map((f) => [f.nodeId, f.host]));
  const record = new DrainRecord(ctx.state);
  const drained = record.read();
  const plan = planUpgrade(
    nodes.map((n) => ({
      host: hostOf.get(n.id) ?? n.hostname,
      node: n,
      ...(drained[n.id] ? { drainedFrom: drained[n.id] } : {}),
    })),
    opts,
  );
  if (!plan.ok) throw new StepError(ctx.cluster.name, 'plan the upgrade', `${plan.why}; ${plan.todo}`);
  const lines = renderUpgradePlan(plan, opts.target);
  const outcome: UpgradeOutcome = { lines, upgraded: [], skipped: plan.skipped.map((s) => s.host) };
  ctx.reporter.emit({
    event: 'plan',
    phases: planPhases(plan, opts.target).map((p) => ({
      ...p,
      actions: p.actions.map((a) => ({ ...a, description: describeAction(a) })),
    })),
    problems: [],
  });
  if (plan.batches.length === 0 && plan.giveBack.length === 0) return outcome;
  // Before any question or change: every host to upgrade can be (its OS, its source, root).
  const run = await prepare(ctx, swarm, opts, plan, hostOf, record);
  if (ctx.options.dryRun) return outcome;
  if (!ctx.options.yes) {
    const q = `upgrade ${countNodes(plan)} engine(s) to ${opts.target}, in this order:\n${lines.join('\n')}\n`;
    if (!process.stdin.isTTY) throw new InputError(`${q}pass --yes to go ahead (stdin is not a terminal)`);
    if (!(await confirm(`${q}Go ahead?`))) return undefined;
  } else ctx.log(`upgrade to ${opts.target}, in this order:\n${lines.join('\n')}`);
  if (plan.giveBack.length > 0)
    await ctx.withHosts(swarm.hosts).step(
      'give back what an earlier upgrade drained',
      plan.giveBack.map((g) => g.host),
      async (h) => {
        const g = plan.giveBack.find((x) => x.host === h.name)!;
        await retryLeaderless(async () =>
          setAvailability((await ctx.connection(run.machine(entry))).docker, g.nodeId, g.availability),
        );
        record.set(g.nodeId, undefined);
        ctx.changed();
      },
    );
  for (const batch of plan.batches) {
    await runBatch(run, batch);
    outcome.upgraded.push(...batch.nodes.map((n) => n.host));
  }
  return outcome;
}

function countNodes(plan: ReadyPlan): number {
  return plan.batches.reduce((n, b) => n + b.nodes.length, 0);
}

const upgradeAction = (n: NodeUpgrade, to: string): Action => ({
  kind: 'upgrade-engine',
  host: n.host,
  role: n.role,
  from: n.from,
  to,
});

/** The plan as `plan` events carry one: each batch a phase of the engine stage (workers of a batch in parallel). */
function planPhases(plan: ReadyPlan, to: string): Phase[] {
  return plan.batches.map((b, i) => ({
    stage: 'engine',
    title: `upgrade ${i + 1} of ${plan.batches.length}: ${b.role === 'worker' ? 'workers' : 'manager'}`,
    mode: b.nodes.length > 1 ? 'parallel' : 'serial',
    actions: b.nodes.map((n) => upgradeAction(n, to)),
  }));
}

/** Engine facts and install plans of the hosts to upgrade: a host that cannot be upgraded stops the run here. */
async function prepare(
  ctx: PlaybookContext,
  swarm: OpenSwarm,
  opts: UpgradeOptions,
  plan: ReadyPlan,
  hostOf: Map<string, string>,
  record: DrainRecord,
): Promise<Run> {
  const byName = new Map(swarm.hosts.map((h) => [h.name, h]));
  const machine = (host: string): Machine => {
    const m = byName.get(host);
    if (!m) throw new StepError(host, 'upgrade', 'no SSH target for this node (not in the inventory?)');
    return m;
  };
  const todo = plan.batches.flatMap((b) => b.nodes.map((n) => machine(n.host)));
  const reading = await readEngineFacts(ctx.withHosts(todo));
  const engines = new Map<string, EngineHostPlan>();
  const problems: StepError[] = [];
  for (const m of todo) {
    const p = planEngine(reading.facts.get(m.name)!, { ...ctx.cluster.engine, version: opts.target });
    if (p.problem || p.steps.length === 0)
      problems.push(new StepError(m.name, 'plan the upgrade', p.problem ?? `the engine is ${p.summary}`));
    engines.set(m.name, p);
  }
  if (problems.length > 0) throw new StepErrors(problems);
  return { ctx, swarm, opts, machine, facts: reading.facts, engines, hostOf, record };
}

/** One batch as one step: its nodes at the same time (workers), each node's failure named with its step. */
async function runBatch(run: Run, batch: UpgradeBatch): Promise<void> {
  const { ctx } = run;
  const title =
    batch.role === 'worker'
      ? `upgrade worker${batch.nodes.length === 1 ? '' : 's'} ${batch.nodes.map((n) => n.host).join(', ')}`
      : `upgrade manager ${batch.nodes[0]!.host}${batch.nodes[0]!.leader ? ' (the leader, last)' : ''}`;
  await ctx.tasks(
    title,
    batch.nodes.map((n) => {
      const a = upgradeAction(n, run.opts.target);
      return {
        title: describeAction(a),
        run: async () => {
          try {
            await upgradeNode(run, n);
          } catch (err) {
            ctx.reporter.emit({ event: 'action', status: 'failed', ...a, description: describeAction(a) });
            throw err;
          }
          ctx.reporter.emit({ event: 'action', status: 'ok', ...a, description: describeAction(a) });
        },
      };
    }),
    { concurrent: batch.role === 'worker' },
  );
}

/** Run one named step of a node's upgrade; its failure names the host, the step and the cause. */
async function step<T>(host: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError) throw err;
    throw new StepError(host, what, errorMessage(err));
  }
}

/**
 * One node: (a manager: the quorum guard, over the node list now) drain, stop the engine, install the version,
 * start it, wait until the swarm lists it back at the version (a manager: reachable, the raft with a leader), give
 * it back its availability. Node-list calls go through a manager other than this one.
 */
async function upgradeNode(run: Run, n: NodeUpgrade): Promise<void> {
  const { ctx } = run;
  const via = await step(n.host, 'find a manager', () => otherManager(run, n));
  const docker = async () => (await ctx.connection(run.machine(via))).docker;
  if (n.role === 'manager') {
    const nodes = await step(n.host, 'quorum guard', async () =>
      retryLeaderless(async () => listNodes(await docker())),
    );
    const verdict = guardManagerUpgrade(nodes, n.nodeId, run.opts.force);
    if (!verdict.ok) throw new StepError(n.host, 'quorum guard', `${verdict.why}; ${verdict.todo}`);
  }
  try {
    await drainAndUpgrade(run, n, docker, via);
  } catch (err) {
    // Drained by this run and not given back: the message says how to (B's `swarmup activate` at merge).
    if (!(err instanceof StepError) || !n.restore) throw err;
    throw new StepError(
      err.host,
      err.step,
      `${err.causeMessage}; ${n.host} is left drained (running the upgrade again gives it back ${n.restore})`,
    );
  }
}

async function drainAndUpgrade(
  run: Run,
  n: NodeUpgrade,
  docker: () => Promise<Docker>,
  via: string,
): Promise<void> {
  const { ctx } = run;
  if (n.restore) {
    ctx.changed();
    run.record.set(n.nodeId, n.restore);
    await step(n.host, 'drain', async () => {
      try {
        // The one drain wait (drain-wait.ts): until no replicated task runs on it and their replicas run elsewhere.
        await run.swarm.applierVia(via).apply({ kind: 'drain', host: n.host, nodeId: n.nodeId });
      } catch (err) {
        if (!(err instanceof DrainNotDone)) throw err;
        if (!run.opts.force) throw new Error(`${err.message}; --force goes on with fewer tasks`);
        ctx.reporter.emit({ event: 'log', host: n.host, message: `${err.message}; going on (--force)` });
      }
    });
  }
  const f = run.facts.get(n.host)!;
  const h = ctx.handle(run.machine(n.host));
  await step(n.host, 'stop the engine', async () => {
    const r = await h.exec(asRoot(f, stopScript(f.systemd)), { deadlineMs: 90_000 });
    if (r.code !== 0) throw new Error(`exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  });
  ctx.changed();
  await installOrRestart(run, n, h, f, docker);
  await step(n.host, `wait until it is back at ${run.opts.target}`, () =>
    waitBack(docker, n, run.opts.target),
  );
  if (n.restore) {
    const availability = n.restore;
    await step(n.host, `set it ${availability} again`, async () =>
      retryLeaderless(async () => setAvailability(await docker(), n.nodeId, availability)),
    );
    run.record.set(n.nodeId, undefined);
  }
}

/**
 * Install the version and start the engine. When the install fails (no such version, a mirror down), the engine
 * is started again as it was, and its node waited for until the managers list it back (as the upgrade waits for an
 * upgraded one): the node is not left without an engine, a run that follows at once does not find it Down, and the
 * failure says what became of it.
 */
async function installOrRestart(
  run: Run,
  n: NodeUpgrade,
  h: HostHandle,
  f: EngineFacts,
  docker: () => Promise<Docker>,
): Promise<void> {
  try {
    await installEngine(run.ctx, h, run.engines.get(n.host)!, f);
  } catch (err) {
    const since = await nodeUpdatedAt(docker, n.nodeId);
    const again = await h.exec(asRoot(f, startScript(f.systemd)), { deadlineMs: 90_000 }).then(
      (r) =>
        r.code === 0
          ? waitBack(docker, n, n.from, since).then(
              () => `its engine was started again (${n.from})`,
              (e: unknown) => `its engine was started again (${n.from}), but its node is ${errorMessage(e)}`,
            )
          : `its engine could not be started again: ${(r.stderr || r.stdout).trim()}`,
      (e: unknown) => `its engine could not be started again: ${errorMessage(e)}`,
    );
    if (err instanceof StepError) throw new StepError(err.host, err.step, `${err.causeMessage}; ${again}`);
    throw new StepError(n.host, 'install the engine', `${errorMessage(err)}; ${again}`);
  }
}

/** The manager node-list calls go through while `n` is upgraded: the leader unless it is `n`, else a reachable one. */
async function otherManager(run: Run, n: NodeUpgrade): Promise<string> {
  const entry = run.swarm.entry!;
  const ask = async (host: string): Promise<ClusterNode[]> =>
    retryLeaderless(async () => listNodes((await run.ctx.connection(run.machine(host))).docker));
  let nodes: ClusterNode[] | undefined;
  const managers = run.swarm.facts.filter((f) => f.isManager).map((f) => f.host);
  const candidates = [entry, ...managers.filter((h) => h !== entry)];
  for (const host of candidates) {
    if (host === n.host) continue;
    try {
      nodes = await ask(host);
      break;
    } catch {
      // not a manager, or not answering: the next one
    }
  }
  if (!nodes) throw new Error('no other manager answers with the node list');
  const usable = nodes.filter(
    (x) =>
      x.role === 'manager' && x.reachability === 'reachable' && x.id !== n.nodeId && run.hostOf.has(x.id),
  );
  const pick = usable.find((x) => x.leader) ?? usable[0];
  if (!pick) throw new Error('no other manager is reachable');
  return run.hostOf.get(pick.id)!;
}
