import { StepError } from '../src/errors.ts';
import { definePlaybook, type PlaybookContext } from '../src/playbook/playbook.ts';
import { healthWarnings, linkScript, parseLink } from '../src/swarm/health.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import { chooseSwarm } from '../src/swarm/choose-swarm.ts';
import { refuseLocked } from '../src/swarm/locked.ts';
import { readSwarmFacts } from '../src/swarm/read-facts.ts';
import type { Verification } from '../src/swarm/verify.ts';

/** `swarmup status`: the `docker node ls` view of the cluster, checked against what was asked for. */
export default definePlaybook({
  name: 'status',
  description: 'read the cluster and check it as docker node ls reads',
  async run(ctx): Promise<Verification> {
    const hosts = await ctx.provider.reach();
    if (hosts.length === 0)
      throw new StepError(ctx.cluster.name, 'status', 'no machines found for this cluster');
    const here = ctx.withHosts(hosts);
    // status reads and reports: a host whose engine does not answer within 10 s is named, not waited for.
    // The MTU of each host's advertise link is read beside the facts, on the same connections, at the same time.
    const [facts, links] = await Promise.all([
      readSwarmFacts(here, { engineWaitMs: 2_000, settleMs: 0, electionWaitMs: 0, deadlineMs: 10_000 }),
      readLinks(here),
    ]);
    refuseLocked(facts);
    const swarm = chooseSwarm(facts, ctx.state.read()?.clusterId);
    const leaderId = swarm.nodes.find((n) => n.leader)?.id;
    const managers = facts.filter((f) => f.isManager && f.nodes);
    const entry = (facts.find((f) => f.nodeId === leaderId) ?? managers[0] ?? facts[0])!.host;
    const roles = Object.fromEntries(
      hosts.map((h) => [
        h.name,
        swarm.nodes.find((n) => n.id === facts.find((f) => f.host === h.name)?.nodeId)?.role ??
          (h.role === 'manager' ? 'manager' : 'worker'),
      ]),
    ) as Record<string, 'manager' | 'worker'>;
    const v = await checkSwarm(
      here,
      { entry, roles },
      {
        waitMs: 0,
        nodeIds: new Map(facts.map((f) => [f.host, f.nodeId])),
      },
    );
    // Machines the cluster should have and does not: gone, or stopped.
    if (ctx.provider.createsMachines) {
      for (const n of ctx.provider.wanted()) {
        if (!hosts.some((h) => h.name === n.name)) {
          v.problems.push(`${n.name}: machine is missing or not running`);
          v.ok = false;
        }
      }
    }
    v.warnings = healthWarnings({
      hosts: facts.map((f) => ({
        name: f.host,
        ...(f.clockOffset !== undefined ? { clockOffset: f.clockOffset } : {}),
        ...(links.get(f.host) ? { link: links.get(f.host)! } : {}),
      })),
      nodes: swarm.nodes,
      nameOf: new Map(facts.filter((f) => f.nodeId).map((f) => [f.nodeId, f.host])),
      reference: entry,
      ...(await nodeCertExpiry(here, entry)),
      now: Date.now(),
    });
    return v;
  },
});

/** Each host's advertise link and its MTU; a host that does not say is left out (no warning either way). */
async function readLinks(ctx: PlaybookContext): Promise<Map<string, { iface: string; mtu: number }>> {
  const found = await Promise.all(
    ctx.hosts.map(async (h) => {
      try {
        const r = await ctx.handle(h).exec(linkScript(h.advertiseAddress), { deadlineMs: 10_000 });
        const link = parseLink(r.stdout);
        return link ? [[h.name, link] as const] : [];
      } catch {
        return [];
      }
    }),
  );
  return new Map(found.flat());
}

/** The swarm's node certificate lifetime, from the manager status reads from (the default when it cannot say). */
async function nodeCertExpiry(ctx: PlaybookContext, entry: string): Promise<{ nodeCertExpiryMs?: number }> {
  const host = ctx.hosts.find((h) => h.name === entry);
  if (!host) return {};
  try {
    const swarm = (await (await ctx.connection(host)).docker.swarmInspect()) as {
      Spec?: { CAConfig?: { NodeCertExpiry?: number } };
    };
    const ns = swarm.Spec?.CAConfig?.NodeCertExpiry;
    return ns ? { nodeCertExpiryMs: ns / 1e6 } : {};
  } catch {
    return {};
  }
}
