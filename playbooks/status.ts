import { StepError } from '../src/errors.ts';
import { definePlaybook, type PlaybookContext } from '../src/playbook/playbook.ts';
import { healthWarnings, linkScript, parseLink, type HealthWarning } from '../src/swarm/health.ts';
import { readCaState, readNodeCertificates } from '../src/swarm/ca-rotation.ts';
import { caLagWarnings } from '../src/swarm/ca.ts';
import { checkSwarm } from '../src/swarm/check.ts';
import { chooseSwarm, PlanError, QuorumLostError } from '../src/swarm/choose-swarm.ts';
import { refuseLocked } from '../src/swarm/locked.ts';
import { readSwarm, type SwarmReading } from '../src/swarm/read-facts.ts';
import { hostStates, repairCommand } from '../src/cluster/host-states.ts';
import type { MachineListing, NodeWanted } from '../src/providers/provider.ts';
import { swarmView } from '../src/swarm/view.ts';
import { withDeadline } from '../src/transport/deadline.ts';
import type { Verification } from '../src/swarm/verify.ts';

/** `swarmup status`: the `docker node ls` view of the cluster, checked against what was asked for. */
export default definePlaybook({
  name: 'status',
  description: 'read the cluster and check it as docker node ls reads',
  async run(ctx): Promise<Verification> {
    const listing = ctx.provider.createsMachines ? await ctx.provider.list() : undefined;
    if (listing && listing.length === 0)
      throw new StepError(
        ctx.cluster.name,
        'status',
        `no machines found for this cluster${ctx.state.exists() ? ` at ${await ctx.provider.location()}` : ''}`,
      );
    const running = listing?.filter((m) => m.state === 'running').map((m) => m.name);
    const hosts = running && running.length === 0 ? [] : await ctx.provider.reach(running);
    const here = ctx.withHosts(hosts);
    // status reads and reports: a host whose engine does not answer within 10 s is named, not waited for.
    // The MTU of each host's advertise link is read beside the facts, on the same connections, at the same time.
    const [reading, links] = await Promise.all([
      hosts.length > 0
        ? readSwarm(here, {
            engineWaitMs: 2_000,
            settleMs: 0,
            electionWaitMs: 0,
            deadlineMs: 10_000,
            tolerateNoEngine: true,
          })
        : { facts: [], unread: [], unreachable: [] },
      readLinks(here),
    ]);
    const { facts, unread } = reading;
    refuseLocked(facts);
    const wanted = ctx.provider.createsMachines
      ? ctx.provider.wanted()
      : ctx.cluster.hosts.map((h) => ({ name: h.name, role: h.role }));
    const knownClusterId = ctx.state.read()?.clusterId;
    let swarm;
    try {
      swarm = chooseSwarm(facts, knownClusterId);
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      // No node list to show: every recorded node with what its machine, engine and swarm say, and the repair.
      return brokenStatus(wanted, listing, reading, knownClusterId, err);
    }
    const { entry, roles, nodeIds } = swarmView(hosts, facts, swarm);
    // A host whose engine does not answer is shown as the node it last joined as.
    const recorded = ctx.state.read()?.nodeIds ?? {};
    for (const u of unread) if (recorded[u.host]) nodeIds.set(u.host, recorded[u.host]!);
    const v = await checkSwarm(here, { entry, roles }, { waitMs: 0, nodeIds });
    // Machines the cluster should have and does not: gone, or stopped; engines that do not answer.
    if (ctx.provider.createsMachines) {
      for (const n of ctx.provider.wanted()) {
        if (!hosts.some((h) => h.name === n.name)) {
          const state = listing?.find((m) => m.name === n.name)?.state;
          v.problems.push(
            `${n.name}: machine is ${state === 'stopped' ? 'stopped' : state === 'starting' ? 'starting' : 'missing or not running'}`,
          );
          v.ok = false;
        }
      }
    }
    for (const u of unread) {
      v.problems.push(`${u.host}: engine not answering (${u.reason})`);
      v.ok = false;
    }
    if (!v.ok) {
      v.hosts = hostStates({
        hosts: wanted,
        ...(listing ? { listing } : {}),
        facts,
        unread,
        ...(knownClusterId ? { knownClusterId } : {}),
      });
      v.repair = repairCommand(v.hosts, false);
    }
    const swarmCa = await swarmCertificates(here, entry);
    v.warnings = healthWarnings({
      hosts: facts.map((f) => ({
        name: f.host,
        ...(f.clockOffset !== undefined ? { clockOffset: f.clockOffset } : {}),
        ...(links.get(f.host) ? { link: links.get(f.host)! } : {}),
      })),
      nodes: swarm.nodes,
      nameOf: new Map(facts.filter((f) => f.nodeId).map((f) => [f.nodeId, f.host])),
      reference: entry,
      ...(swarmCa.nodeCertExpiryMs ? { nodeCertExpiryMs: swarmCa.nodeCertExpiryMs } : {}),
      certificates: {
        nodes: await readNodeCertificates(
          here,
          facts.filter((f) => f.state === 'active').map((f) => f.host),
        ),
        ...(swarmCa.ca ? { ca: swarmCa.ca } : {}),
      },
      now: Date.now(),
    });
    v.warnings.push(...(await caLag(here, entry, nodeIds)));
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

/** The nodes that lag the swarm's current CA (a rotation under way), as warnings; none when it cannot say. */
async function caLag(
  ctx: PlaybookContext,
  entry: string,
  nodeIds: Map<string, string>,
): Promise<HealthWarning[]> {
  const host = ctx.hosts.find((h) => h.name === entry);
  if (!host) return [];
  try {
    const state = await readCaState((await ctx.connection(host)).docker);
    const byId = new Map([...nodeIds].map(([name, id]) => [id, name]));
    return caLagWarnings(state, (id, hostname) => byId.get(id) ?? hostname);
  } catch {
    return [];
  }
}

/**
 * The swarm's node certificate lifetime and root CA certificate, from the manager status reads from (the default
 * lifetime and no CA warning when it cannot say).
 */
async function swarmCertificates(
  ctx: PlaybookContext,
  entry: string,
): Promise<{ nodeCertExpiryMs?: number; ca?: string }> {
  const host = ctx.hosts.find((h) => h.name === entry);
  if (!host) return {};
  try {
    const swarm = (await withDeadline(
      (await ctx.connection(host)).docker.swarmInspect(),
      10_000,
      'the Docker engine: swarm inspect',
    )) as { Spec?: { CAConfig?: { NodeCertExpiry?: number } }; TLSInfo?: { TrustRoot?: string } };
    const ns = swarm.Spec?.CAConfig?.NodeCertExpiry;
    const ca = swarm.TLSInfo?.TrustRoot;
    return { ...(ns ? { nodeCertExpiryMs: ns / 1e6 } : {}), ...(ca ? { ca } : {}) };
  } catch {
    return {};
  }
}

/**
 * A cluster whose swarm cannot be listed (stopped, engines down, no leader): each recorded node with its machine,
 * engine and swarm state, why, and the one command that repairs it. Not verified (exit 1).
 */
function brokenStatus(
  wanted: NodeWanted[] | Array<{ name: string }>,
  listing: MachineListing[] | undefined,
  reading: SwarmReading,
  knownClusterId: string | undefined,
  err: PlanError,
): Verification {
  const rows = hostStates({
    hosts: wanted,
    ...(listing ? { listing } : {}),
    facts: reading.facts,
    unread: reading.unread,
    ...(knownClusterId ? { knownClusterId } : {}),
  });
  // Every machine stopped, or (an inventory's hosts) every engine: what swarmup stop leaves.
  const stopped = rows.every(
    (r) => r.machine === 'stopped' || (r.machine === '-' && r.engine === 'not answering'),
  );
  const down = rows.filter((r) => r.machine === 'stopped' || r.engine === 'not answering').map((r) => r.name);
  const repair = repairCommand(rows, err instanceof QuorumLostError);
  return {
    ok: false,
    problems: [
      stopped
        ? `the cluster is stopped: every ${listing ? 'machine' : 'engine'} of it is stopped`
        : down.length > 0
          ? `the swarm cannot be read while ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} stopped: ` +
            `${repair} starts ${down.length === 1 ? 'it' : 'them'} and waits for the managers to elect a leader`
          : err.message,
    ],
    nodes: [],
    hosts: rows,
    state: stopped ? 'stopped' : 'broken',
    repair,
  };
}
