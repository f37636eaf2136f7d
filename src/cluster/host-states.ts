import { columns } from '../table.ts';
import type { MachineListing } from '../providers/provider.ts';
import { movedAddress, waitingForLeader, type HostFacts } from '../swarm/facts.ts';
import type { HostStateRow } from '../swarm/verify.ts';
import type { UnreadSwarm } from './unread.ts';

export type { HostStateRow } from '../swarm/verify.ts';

export interface HostStateInput {
  /** The cluster's hosts in inventory order. */
  hosts: ReadonlyArray<{ name: string }>;
  /** The provider's machines (for ssh: none, the hosts are taken as running). */
  listing?: MachineListing[];
  facts: HostFacts[];
  unread: UnreadSwarm[];
  knownClusterId?: string;
}

/** Each host's machine, engine and swarm state, as read. Pure. */
export function hostStates(input: HostStateInput): HostStateRow[] {
  const listed = new Map((input.listing ?? []).map((m) => [m.name, m]));
  const facts = new Map(input.facts.map((f) => [f.host, f]));
  const unread = new Map(input.unread.map((u) => [u.host, u]));
  return input.hosts.map((h) => {
    const m = listed.get(h.name);
    const machine = input.listing ? (m?.state ?? 'missing') : '-';
    const f = facts.get(h.name);
    const u = unread.get(h.name);
    const engine = f
      ? f.engineVersion || 'answering'
      : u
        ? u.engine === 'silent'
          ? 'answering'
          : 'not answering'
        : '-';
    const swarm = f
      ? swarmState(f, input.knownClusterId)
      : u?.engine === 'silent'
        ? 'no answer (a manager without a leader?)'
        : '-';
    return { name: h.name, machine, engine, swarm };
  });
}

function swarmState(f: HostFacts, knownClusterId?: string): string {
  const moved = movedAddress(f);
  if (moved) return `address moved (${moved.from} -> ${moved.to})`;
  if (f.state === 'locked') return 'locked';
  if (waitingForLeader(f)) return 'waiting for a leader';
  if (f.state === 'pending') return 'joining';
  if (f.state === 'inactive') return 'not a member';
  if (f.state === 'error') return `error: ${f.swarmError ?? 'unknown'}`;
  if (knownClusterId && f.clusterId && f.clusterId !== knownClusterId) return 'member of another swarm';
  if (f.nodes?.some((n) => n.leader && n.id === f.nodeId)) return 'leader';
  return 'member';
}

/**
 * The one command that repairs what the rows show, the gentlest first: machines or engines stopped are started
 * (`start` when nothing runs, else `up`, which starts them); a locked manager is unlocked; managers whose
 * addresses moved, or a lost majority with no stopped machine to bring back, need `recover`. Pure.
 */
export function repairCommand(rows: HostStateRow[], quorumLost: boolean): string {
  const stopped = rows.filter((r) => r.machine === 'stopped' || r.machine === 'starting');
  const running = rows.filter((r) => r.machine === 'running' || r.machine === '-');
  const engineDown = rows.filter((r) => r.engine === 'not answering');
  if (stopped.length > 0 && running.length === 0) return 'swarmup start';
  // An inventory's hosts whose engines all stopped (swarmup stop does that): start them, managers first.
  if (rows.length > 0 && rows.every((r) => r.machine === '-' && r.engine === 'not answering'))
    return 'swarmup start';
  if (stopped.length > 0 || engineDown.length > 0) return 'swarmup up';
  if (rows.some((r) => r.swarm === 'locked')) return 'swarmup unlock';
  if (rows.some((r) => r.swarm.startsWith('address moved')) && quorumLost) return 'swarmup recover --yes';
  if (quorumLost) return 'swarmup recover --yes';
  return 'swarmup up';
}

/** The rows as a table, laid out like `docker node ls`. Pure. */
export function renderHostStates(rows: HostStateRow[]): string {
  const header = ['NAME', 'MACHINE', 'ENGINE', 'SWARM'];
  const body = rows.map((r) => [r.name, r.machine, r.engine, r.swarm]);
  return columns(header, body).join('\n');
}
