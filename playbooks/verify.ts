import { definePlaybook, type Playbook, type PlaybookContext } from '../src/playbook/playbook.ts';
import { runSmoke, type SmokeOptions } from '../src/swarm/smoke.ts';
import type { Verification } from '../src/swarm/verify.ts';
import status from './status.ts';

/**
 * `swarmup verify`: the check `up` ends with (every node Ready and Active, one leader, managers reachable), and with
 * `--smoke` the data-plane test: containers on different nodes talk over an overlay network, published ports answer.
 */
export function verifyPlaybook(smoke?: SmokeOptions): Playbook<Verification> {
  return definePlaybook({
    name: 'verify',
    description: 'check the cluster as docker node ls reads, and (--smoke) its data plane',
    async run(ctx): Promise<Verification> {
      const v = await status.run(ctx);
      return smoke ? addSmoke(ctx, v, smoke) : v;
    },
  });
}

/** Run the smoke test on a verified cluster and add its problems to the verification (not run on a failed one). */
export async function addSmoke(
  ctx: PlaybookContext,
  v: Verification,
  smoke: SmokeOptions,
): Promise<Verification> {
  if (!v.ok) {
    v.problems.push('smoke: not run, the swarm itself is not verified');
    return v;
  }
  const r = await runSmoke(ctx.withHosts(await ctx.provider.reach()), smoke);
  for (const p of r.problems) v.problems.push(`smoke: ${p}`);
  v.ok = v.ok && r.ok;
  return v;
}
