import { errorMessage } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { listNodes } from './engine.ts';
import type { ClusterNode } from './facts.ts';
import type { SwarmPlan } from './plan.ts';
import { verifySwarm, type Verification, type VerifyInput } from './verify.ts';

/**
 * Read the cluster back and check it as `docker node ls` reads. Nodes that joined a moment ago may still be
 * "unknown"; the check is repeated until it passes or `waitMs` runs out, and the last reading is returned.
 * `nodeIds` is what each host reports as its NodeID now; the node list is read from the first manager that answers,
 * the entry host first.
 */
export async function checkSwarm(
  ctx: PlaybookContext,
  plan: Pick<SwarmPlan, 'roles' | 'entry'>,
  opts: { waitMs: number; nodeIds: Map<string, string>; leftOut?: VerifyInput['leftOut'] },
): Promise<Verification> {
  const managers = [
    plan.entry,
    ...ctx.hosts.map((h) => h.name).filter((n) => n !== plan.entry && plan.roles[n] === 'manager'),
  ];
  const deadline = Date.now() + opts.waitMs;
  let verification: Verification;
  for (;;) {
    let nodes: ClusterNode[] = [];
    let lastError = 'no manager answered';
    for (const m of managers) {
      try {
        nodes = await listNodes((await ctx.connection(ctx.hosts.find((h) => h.name === m)!)).docker);
        break;
      } catch (err) {
        lastError = `${m}: ${errorMessage(err)}`;
      }
    }
    verification = verifySwarm({
      hosts: ctx.hosts.map((h) => ({
        name: h.name,
        role: plan.roles[h.name] ?? 'worker',
        nodeId: opts.nodeIds.get(h.name) ?? '',
      })),
      managers: ctx.cluster.managers,
      nodes,
      ...(opts.leftOut ? { leftOut: opts.leftOut } : {}),
    });
    if (nodes.length === 0) verification.problems.unshift(`cannot list the nodes: ${lastError}`);
    if (verification.ok || Date.now() > deadline) break;
    await sleep(200);
  }
  return verification;
}
