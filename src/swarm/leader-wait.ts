import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { readHostFacts } from './engine.ts';
import { ledWithQuorum, waitingForLeader, type HostFacts } from './facts.ts';

/** How the managers stood when the wait ended. */
export interface LeaderWait {
  /** A manager listed the nodes with a leader among them. */
  leader?: string;
  /** No host is a manager of any swarm: nothing to wait for (a fresh cluster). */
  none: boolean;
  waitedMs: number;
}

/**
 * What one round of reads says: a manager with a leader; still waiting; or no manager at all. Pure. A leader counts
 * only in a node list where a majority of the managers is reachable: a leader whose other managers just stopped
 * still names itself Leader until it notices it lost quorum (captured: `engines-stopped`), and a swarm read then
 * has no leader a moment later.
 */
export function leaderState(facts: HostFacts[]): 'leader' | 'waiting' | 'none' {
  if (facts.some((f) => f.isManager && f.nodes && ledWithQuorum(f.nodes))) return 'leader';
  if (facts.some((f) => f.isManager || waitingForLeader(f) || f.state === 'pending')) return 'waiting';
  return 'none';
}

/**
 * After machines or engines were started, the managers need a few seconds to find each other and elect a leader
 * (about 12 s for 3 managers on a 2-core machine): the swarm is read and planned only then. Polls every host once
 * a second (each read with a short deadline: a manager without a leader may hold its answer), reported as one
 * step, bounded by `timeoutMs`; a swarm that gets no leader in that time is read as it is, and the plan says why.
 */
export async function waitForLeader(
  ctx: PlaybookContext,
  hosts: readonly Machine[],
  timeoutMs = 60_000,
): Promise<LeaderWait> {
  const started = Date.now();
  let outcome: LeaderWait = { none: false, waitedMs: 0 };
  await ctx.tasks(
    'wait for the managers to elect a leader',
    [
      {
        title: `${hosts.length} host${hosts.length === 1 ? '' : 's'}, ${Math.round(timeoutMs / 1000)} s at most`,
        run: async () => {
          for (;;) {
            const facts = (
              await Promise.all(
                hosts.map(async (h) => {
                  try {
                    const docker = (await ctx.connection(h)).docker;
                    return [await readHostFacts(docker, h.name, h.advertiseAddress, 3_000)];
                  } catch {
                    return []; // not answering yet: its engine is still starting
                  }
                }),
              )
            ).flat();
            // An engine that does not answer yet may be a manager still starting: "none" only once all answered.
            const read = leaderState(facts);
            const state = read === 'none' && facts.length < hosts.length ? 'waiting' : read;
            const waitedMs = Date.now() - started;
            if (state !== 'waiting' || waitedMs > timeoutMs) {
              const node = facts
                .find((f) => f.isManager && f.nodes && ledWithQuorum(f.nodes))
                ?.nodes?.find((n) => n.leader);
              // Named as the inventory names it (the host that reports its NodeID), else by its hostname.
              const leader = node && (facts.find((f) => f.nodeId === node.id)?.host ?? node.hostname);
              outcome = { ...(leader ? { leader } : {}), none: state === 'none', waitedMs };
              if (state === 'leader')
                ctx.log(`the managers have a leader (${leader}) after ${(waitedMs / 1000).toFixed(1)} s`);
              else if (state === 'waiting')
                ctx.log(`no leader after ${Math.round(waitedMs / 1000)} s: the swarm is read as it is`);
              return;
            }
            await sleep(1_000);
          }
        },
      },
    ],
    { concurrent: false },
  );
  return outcome;
}
