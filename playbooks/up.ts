import { applyCluster } from '../src/cluster/apply.ts';
import { readClusterId, recordCluster } from '../src/cluster/cluster-record.ts';
import { planEvent } from '../src/cluster/render-plan.ts';
import { countActions } from '../src/swarm/actions.ts';
import { planCluster, type ClusterFacts, type ClusterPlan } from '../src/cluster/plan.ts';
import { readCluster } from '../src/cluster/read.ts';
import { permissionSummary, refuseDenied } from '../src/providers/permission-report.ts';
import { definePlaybook, type PlaybookContext } from '../src/playbook/playbook.ts';
import { AdoptionRequired } from '../src/swarm/choose-swarm.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import { refuseLocked } from '../src/swarm/locked.ts';
import type { Verification } from '../src/swarm/verify.ts';
import type { Machine } from '../src/providers/provider.ts';

/**
 * `swarmup up` (and `scale`): facts -> one cluster plan -> apply it -> verify. The plan is the very object that
 * `swarmup plan` prints; a plan that cannot be applied safely (lost quorum) stops here with nothing changed.
 */
export default definePlaybook({
  name: 'up',
  description: 'provision the machines, bootstrap the swarm and verify it',
  async run(ctx): Promise<Verification | undefined> {
    const reading = await readCluster(ctx, { machinesOnly: ctx.options.until === 'provision' });
    // A locked manager (autolock, its engine restarted) can be neither planned around nor changed: say what to do.
    refuseLocked(reading.input.facts);
    const plan = await planOrAskToAdopt(ctx, reading.input);
    // Before the first change: a credential that may not make it is refused (exit 2) with nothing created.
    const permissions = await ctx.provider.checkPermissions?.();
    ctx.reporter.emit({ event: 'plan', ...planEvent(plan), ...(permissions ? { permissions } : {}) });
    for (const p of plan.problems) ctx.reporter.emit({ event: 'problem', ...p });
    if (plan.addrPool) ctx.log(plan.addrPool.description);
    for (const n of plan.notices) ctx.log(n);
    if (permissions) {
      if (!ctx.reporter.json) ctx.log(permissionSummary(permissions));
      refuseDenied(permissions, `${ctx.provider.name} permissions`);
    }
    if (countActions(plan.phases) === 0 && !plan.deferred) ctx.log('nothing to change');

    const applied = await applyCluster(ctx, reading, plan, ctx.options.until);
    if (!applied.complete) return undefined;

    const swarm = applied.plan.swarm;
    const verified = (host: string) => applied.hosts.some((h) => h.name === host);
    // A host left out of the run (not reached) is not verified: the cluster is not what was asked for.
    const leftOut = applied.plan.problems.filter((p) => !verified(p.host));
    const recorded = recordedOf(
      ctx,
      leftOut.map((p) => p.host),
    );
    // Freshly joined nodes take a moment to report Ready; a host left alone will never join, so no wait for it.
    const waitMs = applied.plan.problems.some((p) => verified(p.host)) ? 0 : 60_000;
    const verification = await checkSwarm(ctx.withHosts(applied.hosts), swarm, {
      waitMs,
      nodeIds: applied.nodeIds,
      leftOut: leftOut.map((p) => ({ name: p.host, nodeId: recorded[p.host] ?? '' })),
    });
    if (leftOut.length > 0) {
      verification.ok = false;
      verification.problems.push(...leftOut.map((p) => `${p.host}: ${p.message}`));
    }
    const entry = applied.hosts.find((h) => h.name === swarm.entry);
    // Both ask the entry manager, busy right after a bring-up: at once.
    const [, clusterId] = await Promise.all([
      verification.ok && entry ? caughtUp(ctx, entry, applied.nodeIds, verification) : undefined,
      swarm.clusterId ?? (entry ? readClusterId(ctx, entry) : undefined),
    ]);
    recordCluster(ctx, clusterId);
    ctx.state.write({
      name: ctx.cluster.name,
      provider: ctx.cluster.provider,
      nodeIds: {
        // A host left out keeps the node it was recorded with: it is still that node as far as anyone knows.
        ...recorded,
        ...Object.fromEntries(applied.hosts.map((h) => [h.name, applied.nodeIds.get(h.name) ?? ''])),
      },
      ...(ctx.provider.createsMachines ? {} : { hosts: ctx.cluster.hosts }),
      // Running again (up starts what was stopped): no longer shown as stopped.
      stoppedAt: undefined,
    });
    return verification;
  },
});

/** The recorded NodeIDs of these hosts (state). */
function recordedOf(ctx: PlaybookContext, hosts: string[]): Record<string, string> {
  const recorded = ctx.state.read()?.nodeIds ?? {};
  return Object.fromEntries(hosts.flatMap((h) => (recorded[h] ? [[h, recorded[h]]] : [])));
}

/**
 * A node that was stopped during a root CA rotation catches up by itself once it runs: waited for (bounded, 60 s),
 * and a node still lagging then is a problem of the verification, named.
 */
async function caughtUp(
  ctx: PlaybookContext,
  entry: Machine,
  nodeIds: Map<string, string>,
  verification: Verification,
): Promise<void> {
  const { waitCaCaughtUp } = await import('../src/swarm/ca-rotation.ts');
  const byId = new Map([...nodeIds].map(([host, id]) => [id, host]));
  const problems = await waitCaCaughtUp((await ctx.connection(entry)).docker, {
    timeoutMs: 60_000,
    nameOf: (id, hostname) => byId.get(id) ?? hostname,
    log: (m) => ctx.log(m),
  });
  if (problems.length === 0) return;
  verification.problems.push(...problems);
  verification.ok = false;
}

/**
 * The plan; where the hosts run a swarm swarmup did not make, a person at a terminal is asked whether to adopt it
 * (naming the swarm and its size); without a terminal, or with --json, only --adopt does (exit 2 otherwise).
 */
async function planOrAskToAdopt(ctx: PlaybookContext, input: ClusterFacts): Promise<ClusterPlan> {
  try {
    return planCluster(input);
  } catch (err) {
    if (!(err instanceof AdoptionRequired) || ctx.reporter.json || !process.stdin.isTTY) throw err;
    const { confirm } = await import('../src/playbook/confirm.ts');
    if (!(await confirm(err.question))) throw err;
    input.adopt = true; // also for a plan revised while applying
    return planCluster(input);
  }
}
