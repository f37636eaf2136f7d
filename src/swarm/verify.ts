import { columns } from '../table.ts';
import type { Role } from '../config/cluster.ts';
import type { ClusterNode } from './facts.ts';
import type { HealthWarning } from './health.ts';

/** A node as `status --json` and the summary event show it (design.md). */
export interface NodeRow {
  name: string;
  role: Role;
  state: string;
  availability: string;
  leader: boolean;
  reachability: string | null;
  engineVersion: string;
  /** The node's labels (`status --labels` shows them as a column). */
  labels: Record<string, string>;
}

/** One recorded node as `status` shows it when the swarm cannot be verified (src/cluster/host-states.ts). */
export interface HostStateRow {
  name: string;
  /** running | stopped | starting | missing | failed (a machine swarmup made); `-` for a host of an inventory. */
  machine: string;
  /** The engine's version when it answers; `not answering`; `-` when the machine does not run. */
  engine: string;
  /** member | leader | waiting for a leader | not a member | locked | joining | address moved (A -> B) | `-`. */
  swarm: string;
}

export interface Verification {
  ok: boolean;
  problems: string[];
  nodes: NodeRow[];
  /** Health warnings (status only): they never make a verification fail. */
  warnings?: HealthWarning[];
  /** status of a cluster not verified: each recorded node's machine, engine and swarm state. */
  hosts?: HostStateRow[];
  /** status: `stopped` when every machine is stopped; `broken` when the swarm cannot be listed. */
  state?: 'stopped' | 'broken';
  /** status of a cluster not verified: the one command that repairs it. */
  repair?: string;
}

export interface VerifyInput {
  /** Wanted role per inventory host, and the NodeID each host reports now. */
  hosts: Array<{ name: string; role: Role; nodeId: string }>;
  managers: number;
  nodes: ClusterNode[];
  /**
   * Hosts left out of the run (not reached), with the NodeID recorded for them ('' when none): their node is named
   * for them and is not a stale entry; why they were left out is the run's problem, not the verification's.
   */
  leftOut?: Array<{ name: string; nodeId: string }>;
}

/**
 * Check the cluster the way `docker node ls` reads: every wanted node Ready and Active with its role, the wanted
 * number of managers, exactly one Leader, every other manager Reachable.
 */
export function verifySwarm(input: VerifyInput): Verification {
  const problems: string[] = [];
  const byId = new Map(input.nodes.map((n) => [n.id, n]));
  const leftOut = (input.leftOut ?? []).filter((h) => h.nodeId);
  const nameOf = new Map([...input.hosts, ...leftOut].map((h) => [h.nodeId, h.name]));

  for (const h of input.hosts) {
    const n = h.nodeId ? byId.get(h.nodeId) : undefined;
    if (!n) {
      problems.push(`${h.name}: not a node of the swarm`);
      continue;
    }
    if (n.state !== 'ready') problems.push(`${h.name}: status is ${n.state}, not ready`);
    if (n.availability !== 'active')
      problems.push(`${h.name}: availability is ${n.availability}, not active`);
    if (n.role !== h.role) problems.push(`${h.name}: is a ${n.role}, wanted ${h.role}`);
  }
  // A node no host of the cluster is, and which is down: a stale entry (a machine gone, or one that left).
  const hostIds = new Set([...input.hosts, ...leftOut].map((h) => h.nodeId).filter(Boolean));
  for (const n of input.nodes) {
    if (!hostIds.has(n.id) && n.state !== 'ready')
      problems.push(
        `${n.hostname} (node ${n.id.slice(0, 12)}): is ${n.state} and no host of the cluster is it`,
      );
  }
  const managers = input.nodes.filter((n) => n.role === 'manager');
  if (managers.length !== input.managers) {
    problems.push(`the swarm has ${managers.length} managers, wanted ${input.managers}`);
  }
  const leaders = managers.filter((n) => n.leader);
  if (leaders.length !== 1) problems.push(`the swarm has ${leaders.length} leaders, wanted exactly 1`);
  for (const m of managers) {
    if (!m.leader && m.reachability !== 'reachable') {
      problems.push(
        `${nameOf.get(m.id) ?? m.hostname}: manager is ${m.reachability ?? 'unknown'}, not reachable`,
      );
    }
  }

  const rows: NodeRow[] = input.nodes.map((n) => ({
    name: nameOf.get(n.id) ?? n.hostname,
    role: n.role,
    state: n.state,
    availability: n.availability,
    leader: n.leader,
    reachability: n.role === 'manager' ? n.reachability : null,
    engineVersion: n.engineVersion,
    labels: { ...n.labels },
  }));
  const order = new Map(input.hosts.map((h, i) => [h.name, i]));
  rows.sort(
    (a, b) => (order.get(a.name) ?? 1e9) - (order.get(b.name) ?? 1e9) || a.name.localeCompare(b.name),
  );
  return { ok: problems.length === 0, problems, nodes: rows };
}

/** The node table, laid out like `docker node ls`; with `labels`, a LABELS column (`k=v,k=v`, sorted). */
export function renderNodeTable(rows: NodeRow[], opts: { labels?: boolean } = {}): string {
  const header = [
    'NAME',
    'ROLE',
    'STATUS',
    'AVAILABILITY',
    'MANAGER STATUS',
    'ENGINE VERSION',
    ...(opts.labels ? ['LABELS'] : []),
  ];
  const cap = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
  const body = rows.map((r) => [
    r.name,
    r.role,
    cap(r.state),
    cap(r.availability),
    r.role === 'manager' ? (r.leader ? 'Leader' : cap(r.reachability ?? '')) : '',
    r.engineVersion,
    ...(opts.labels ? [labelColumn(r.labels)] : []),
  ]);
  return columns(header, body).join('\n');
}

function labelColumn(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length > 0 ? pairs.map(([k, v]) => `${k}=${v}`).join(',') : '-';
}

/** Warnings as status prints them under the table. */
export function renderWarnings(warnings: HealthWarning[]): string {
  return warnings.map((w) => `warning: ${w.node ? `${w.node}: ` : ''}${w.message}`).join('\n');
}
