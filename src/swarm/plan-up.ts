import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { describeAction } from './apply.ts';
import { freshFacts, type HostFacts } from './facts.ts';
import { planClusterSwarm } from './plan-cluster.ts';
import { readSwarmFacts } from './read-facts.ts';
import { readEngineFacts } from '../engine/ensure.ts';
import { planEngine } from '../engine/install-plan.ts';

/** What `up` would do, as lines of text; reads facts where machines exist and changes nothing. */
export async function planUp(ctx: PlaybookContext): Promise<string[]> {
  const lines: string[] = [];
  const { existing, missing } = await ctx.provider.plannedMachines();
  for (const m of missing) lines.push(`create ${m.role} machine ${m.name} (${ctx.provider.name})`);
  ctx.setHosts(existing);
  let facts: HostFacts[] = [];
  if (existing.length > 0) {
    const reading = await readEngineFacts(ctx);
    for (const h of existing) {
      const p = planEngine(reading.facts.get(h.name)!, ctx.cluster.engine);
      lines.push(`${p.host}: engine ${p.problem ? `cannot proceed: ${p.problem}` : p.summary}`);
    }
    // Swarm facts where an engine answers; a host without one is planned as a fresh host.
    const answered = await readSwarmFacts(ctx, { engineWaitMs: 0, settleMs: 0, tolerateNoEngine: true });
    facts = existing.map(
      (h) => answered.find((f) => f.host === h.name) ?? freshFacts(h.name, h.advertiseAddress),
    );
  }
  const newHosts: Machine[] = missing.map((m) => ({
    name: m.name,
    address: '(new)',
    port: 22,
    user: 'root',
    advertiseAddress: '(assigned at creation)',
    role: m.role,
  }));
  const fresh = newHosts.map((h) => freshFacts(h.name, h.advertiseAddress));
  const plan = planClusterSwarm(ctx, [...facts, ...fresh], [...existing, ...newHosts]);
  for (const p of plan.problems) lines.push(`leave alone ${p.host}: ${p.message}`);
  for (const phase of plan.phases) {
    lines.push(`${phase.title} (${phase.mode === 'serial' ? 'one at a time' : 'in parallel'}):`);
    for (const a of phase.actions) lines.push(`  ${describeAction(a)}`);
  }
  lines.push('verify: every node Ready and Active, one Leader, every other manager Reachable');
  if (plan.phases.length === 0 && missing.length === 0) lines.push('swarm: nothing to change');
  return lines;
}
