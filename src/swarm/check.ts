import { errorMessage, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { sleep } from '../transport/ssh-connection.ts';
import { listNodes, readHostFacts } from './engine.ts';
import type { ClusterNode, HostFacts } from './facts.ts';
import type { SwarmPlan } from './plan.ts';
import { verifySwarm, type Verification } from './verify.ts';

/**
 * Read the cluster back and check it as `docker node ls` reads. Nodes that joined a moment ago may still be
 * "unknown"; the check is repeated until it passes or `waitMs` runs out, and the last reading is returned.
 */
export async function checkSwarm(
  ctx: PlaybookContext,
  plan: Pick<SwarmPlan, 'roles'>,
  opts: { waitMs: number; facts?: HostFacts[] },
): Promise<{ verification: Verification; clusterId?: string }> {
  const facts =
    opts.facts ??
    (await Promise.all(
      ctx.hosts.map(async (h) => {
        try {
          return await readHostFacts((await ctx.connection(h)).docker, h.name, h.advertiseAddress);
        } catch (err) {
          throw new StepError(h.name, 'read facts for verification', errorMessage(err));
        }
      }),
    ));
  const managers = facts.filter((f) => f.isManager);
  const deadline = Date.now() + opts.waitMs;
  let verification: Verification;
  for (;;) {
    let nodes: ClusterNode[] = [];
    for (const m of managers) {
      try {
        nodes = await listNodes((await ctx.connection(ctx.hosts.find((h) => h.name === m.host)!)).docker);
        break;
      } catch {
        // try the next manager
      }
    }
    verification = verifySwarm({
      hosts: ctx.hosts.map((h) => ({
        name: h.name,
        role: plan.roles[h.name] ?? 'worker',
        nodeId: facts.find((f) => f.host === h.name)?.nodeId ?? '',
      })),
      managers: ctx.cluster.managers,
      nodes,
    });
    if (verification.ok || Date.now() > deadline) break;
    await sleep(200);
  }
  const clusterId = managers.find((m) => m.clusterId)?.clusterId;
  return { verification, ...(clusterId ? { clusterId } : {}) };
}
