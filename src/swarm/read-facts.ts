import type { PlaybookContext } from '../playbook/playbook.ts';
import { sleep } from '../transport/ssh-connection.ts';
import { parseRoutes, type SeenNetwork } from './addr-pool.ts';
import { readHostFacts, waitForEngine } from './engine.ts';
import type { HostFacts } from './facts.ts';

export interface ReadFactsOptions {
  /** How long to wait for an engine that does not answer yet (a machine still booting). */
  engineWaitMs: number;
  /** How long a host may stay "pending" (a join going on in the background) before it is planned as broken. */
  settleMs?: number;
  /** Only these hosts (others were read already). */
  only?: string[];
  /** A host whose engine does not answer is left out of the result instead of failing the step. */
  tolerateNoEngine?: boolean;
  /** How long a manager may fail to list the nodes (a leader election) before it is read as such. */
  electionWaitMs?: number;
  /** Also read each host's IPv4 routes (`ip -4 route`), at the same time as its engine. */
  routes?: boolean;
  /** Deadline of each read (a frozen engine); 30 s by default: a manager that lost its majority takes 20 s. */
  deadlineMs?: number;
}

/**
 * Swarm facts from every host in parallel, one round trip each. If any host cannot be reached (or, unless
 * tolerated, its engine read), this throws naming every such host and the cause, before anything was changed.
 */
export async function readSwarmFacts(ctx: PlaybookContext, opts: ReadFactsOptions): Promise<HostFacts[]> {
  const settleMs = opts.settleMs ?? 30_000;
  const results = await ctx.step('read swarm facts', opts.only ?? 'all', async (h) => {
    const docker = await h.docker();
    // Routes travel beside the engine's answer on the same connection: no extra round trip.
    const routes = opts.routes
      ? h
          .exec('ip -4 route show 2>/dev/null', { deadlineMs: opts.deadlineMs ?? 30_000 })
          .then((r) => parseRoutes(h.name, r.stdout))
          .catch(() => [] as SeenNetwork[])
      : undefined;
    let facts: HostFacts;
    try {
      facts = await readHostFacts(docker, h.name, h.host.advertiseAddress, opts.deadlineMs);
    } catch (err) {
      try {
        await waitForEngine(docker, opts.engineWaitMs);
      } catch {
        if (opts.tolerateNoEngine) return undefined;
        throw err;
      }
      facts = await readHostFacts(docker, h.name, h.host.advertiseAddress, opts.deadlineMs);
    }
    const deadline = Date.now() + settleMs;
    while (facts.state === 'pending' && Date.now() < deadline) {
      await sleep(250);
      facts = await readHostFacts(docker, h.name, h.host.advertiseAddress, opts.deadlineMs);
    }
    // A manager whose node list fails may be in the middle of a leader election (seconds); give it that long
    // before it is taken for a swarm that lost quorum.
    const electionDeadline = Date.now() + (opts.electionWaitMs ?? 10_000);
    while (facts.isManager && !facts.nodes && Date.now() < electionDeadline) {
      await sleep(500);
      facts = await readHostFacts(docker, h.name, h.host.advertiseAddress, opts.deadlineMs);
    }
    return routes ? { ...facts, routes: await routes } : facts;
  });
  return ctx.hosts.flatMap((h) => {
    const f = results.get(h.name);
    return f ? [f] : [];
  });
}
