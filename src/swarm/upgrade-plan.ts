/**
 * `swarmup upgrade`: the order in which engines are upgraded, and the guards that refuse an upgrade (or one
 * manager's step) that would cost the swarm its quorum. Pure: node lists in, plans and verdicts out.
 */
import { quorum } from '../config/policy.ts';
import type { ClusterNode } from './facts.ts';

/** A member of the swarm as the upgrade sees it: the host it is, and its entry in the leader's node list. */
export interface UpgradeMember {
  host: string;
  node: ClusterNode;
  /**
   * The availability an earlier `swarmup upgrade` drained this node from and could not give back (it failed after
   * the drain): the node is given it back now, rather than taken for one an operator drained.
   */
  drainedFrom?: 'active' | 'pause';
}

export interface UpgradeRequest {
  /** The wanted engine version, as engine.version takes it: a prefix ("26.1", "28.5.2"). */
  target: string;
  /** Workers upgraded at the same time. */
  batch: number;
  /** Go ahead across a major downgrade, and with fewer than 3 managers. */
  force: boolean;
}

/** One node's upgrade: drained first unless it was drained already, and given back its availability after. */
export interface NodeUpgrade {
  host: string;
  nodeId: string;
  role: 'manager' | 'worker';
  leader: boolean;
  from: string;
  /** The availability it is given back after (undefined: it was drained before, and stays drained). */
  restore?: 'active' | 'pause';
}

/** Nodes upgraded together: a batch of workers, or one manager. */
export interface UpgradeBatch {
  role: 'manager' | 'worker';
  nodes: NodeUpgrade[];
}

export type UpgradePlan =
  | {
      ok: true;
      batches: UpgradeBatch[];
      /** Nodes already at the version (an interrupted upgrade's done part). */
      skipped: Array<{ host: string; version: string }>;
      /** Nodes at the version that an earlier upgrade left drained: given back their availability first. */
      giveBack: Array<{ host: string; nodeId: string; availability: 'active' | 'pause' }>;
      /** What --force let through, said before anything changes. */
      warnings: string[];
    }
  | { ok: false; why: string; todo: string };

export type UpgradeVerdict = { ok: true } | { ok: false; why: string; todo: string };

/**
 * Whether an engine version is the wanted one: the same, or the wanted one followed by more of the version at a
 * boundary ("26.1" is 26.1.5+dfsg1, not 26.10.0). Debian's "+dfsg1" and docker-ce's "5:" epoch are allowed.
 */
export function atVersion(installed: string, wanted: string): boolean {
  const v = installed.replace(/^\d+:/, '');
  if (!v.startsWith(wanted)) return false;
  const next = v.charAt(wanted.length);
  return next === '' || /[.+~-]/.test(next) || /[.+~-]$/.test(wanted);
}

/** The major version ("26" of "26.1.5+dfsg1"); undefined when the version does not start with a number. */
export function majorOf(version: string): number | undefined {
  const m = /^(?:\d+:)?(\d+)/.exec(version);
  return m ? Number(m[1]) : undefined;
}

const FEW_MANAGERS = (n: number) =>
  `the swarm has ${n} manager${n === 1 ? '' : 's'}: while ${n === 1 ? 'it is' : 'one of them is'} stopped for ` +
  `its upgrade the raft has no quorum, so the control plane (node list, service changes, rescheduling) stops ` +
  `for the time of the install (tasks keep running)`;

const DOWNGRADE = (host: string, from: string, to: string) =>
  `${host} runs engine ${from}, and ${to} is an older major version: the raft log and the store an engine ` +
  `writes are not guaranteed readable by an older one, so a downgraded manager may not start or may lose the ` +
  `swarm's state`;

/**
 * The upgrade's order: workers in batches of `batch`, then managers one at a time, the leader last; a node at the
 * version already is skipped. Refused (before anything changes) when a node to upgrade is down, a manager is not
 * reachable, the swarm has fewer than 3 managers, or the version is an older major than a node runs (the last two
 * unless forced).
 */
export function planUpgrade(members: UpgradeMember[], req: UpgradeRequest): UpgradePlan {
  if (!Number.isInteger(req.batch) || req.batch < 1) throw new RangeError(`not a batch size: ${req.batch}`);
  const byHost = [...members].sort((a, b) => a.host.localeCompare(b.host));
  const todo = byHost.filter((m) => !atVersion(m.node.engineVersion, req.target));
  const skipped = byHost
    .filter((m) => atVersion(m.node.engineVersion, req.target))
    .map((m) => ({ host: m.host, version: m.node.engineVersion }));
  const warnings: string[] = [];

  const down = todo.find((m) => m.node.state !== 'ready');
  if (down)
    return {
      ok: false,
      why: `${down.host} is ${down.node.state}: its engine cannot be upgraded and waited for`,
      todo: 'start it (or remove it from the cluster) first, then run the upgrade again',
    };
  const managers = byHost.filter((m) => m.node.role === 'manager' && m.node.reachability !== null);
  const unreachable = managers.find((m) => m.node.reachability !== 'reachable');
  if (unreachable && todo.some((m) => m.node.role === 'manager'))
    return {
      ok: false,
      why: `manager ${unreachable.host} is ${unreachable.node.reachability}: every other manager must be reachable before a manager's engine is stopped, or the swarm may lose quorum`,
      todo: `bring ${unreachable.host} back (or remove it) first, then run the upgrade again`,
    };
  if (managers.length < 3 && todo.some((m) => m.node.role === 'manager')) {
    if (!req.force)
      return {
        ok: false,
        why: FEW_MANAGERS(managers.length),
        todo: 'add managers (3 keep quorum through an upgrade), or pass --force to accept the pause',
      };
    warnings.push(FEW_MANAGERS(managers.length));
  }
  const wanted = majorOf(req.target);
  const older = todo.find((m) => {
    const major = majorOf(m.node.engineVersion);
    return wanted !== undefined && major !== undefined && wanted < major;
  });
  if (older) {
    const why = DOWNGRADE(older.host, older.node.engineVersion, req.target);
    if (!req.force) return { ok: false, why, todo: 'pass --force to downgrade all the same' };
    warnings.push(why);
  }

  const upgrade = (m: UpgradeMember): NodeUpgrade => {
    const was = m.node.availability === 'drain' ? m.drainedFrom : m.node.availability;
    return {
      host: m.host,
      nodeId: m.node.id,
      role: m.node.role,
      leader: m.node.leader,
      from: m.node.engineVersion,
      ...(was === 'active' || was === 'pause' ? { restore: was } : {}),
    };
  };
  const giveBack = byHost
    .filter(
      (m) => atVersion(m.node.engineVersion, req.target) && m.node.availability === 'drain' && m.drainedFrom,
    )
    .map((m) => ({ host: m.host, nodeId: m.node.id, availability: m.drainedFrom! }));
  const workers = todo.filter((m) => m.node.role === 'worker').map(upgrade);
  const batches: UpgradeBatch[] = [];
  for (let i = 0; i < workers.length; i += req.batch)
    batches.push({ role: 'worker', nodes: workers.slice(i, i + req.batch) });
  const ms = todo.filter((m) => m.node.role === 'manager').map(upgrade);
  for (const m of [...ms.filter((x) => !x.leader), ...ms.filter((x) => x.leader)])
    batches.push({ role: 'manager', nodes: [m] });
  return { ok: true, batches, skipped, giveBack, warnings };
}

/**
 * The quorum guard before one manager's engine is stopped, asked with the node list as it is then: every OTHER
 * manager must be Reachable, and the rest must hold quorum without this one. With fewer than 3 managers that
 * cannot hold; `force` (the plan said so) lets it through.
 */
export function guardManagerUpgrade(nodes: ClusterNode[], nodeId: string, force = false): UpgradeVerdict {
  const managers = nodes.filter((n) => n.role === 'manager' && n.reachability !== null);
  const self = managers.find((n) => n.id === nodeId);
  if (!self)
    return {
      ok: false,
      why: `node ${nodeId.slice(0, 12)} is not a manager in the node list`,
      todo: 'run the upgrade again (it reads the swarm anew)',
    };
  const others = managers.filter((n) => n.id !== nodeId);
  const away = others.filter((n) => n.reachability !== 'reachable' || n.state !== 'ready');
  if (away.length > 0)
    return {
      ok: false,
      why:
        `manager${away.length === 1 ? '' : 's'} ${away.map((n) => `${n.hostname} (${n.reachability}, ${n.state})`).join(', ')} ` +
        `${away.length === 1 ? 'is' : 'are'} not reachable: stopping ${self.hostname}'s engine now could cost the swarm its quorum`,
      todo: 'wait until every manager is reachable (swarmup status), then run the upgrade again: nodes done are skipped',
    };
  if (others.length < quorum(managers.length) && !force)
    return {
      ok: false,
      why: FEW_MANAGERS(managers.length),
      todo: 'add managers (3 keep quorum through an upgrade), or pass --force to accept the pause',
    };
  return { ok: true };
}

/** Whether the raft has a leader again, and the node is back: ready, at the version, and (a manager) reachable. */
export function nodeBack(nodes: ClusterNode[], nodeId: string, target: string): boolean {
  const n = nodes.find((x) => x.id === nodeId);
  if (!n || n.state !== 'ready' || !atVersion(n.engineVersion, target)) return false;
  if (n.role === 'worker') return true;
  return n.reachability === 'reachable' && nodes.some((x) => x.leader);
}

/** The plan as lines, in order: what `--dry-run` prints and the question before the upgrade shows. */
export function renderUpgradePlan(plan: Extract<UpgradePlan, { ok: true }>, target: string): string[] {
  const lines: string[] = [];
  let i = 0;
  for (const b of plan.batches) {
    i++;
    const what = b.nodes.map((n) => `${n.host} (${n.from}${n.leader ? ', leader' : ''})`).join(', ');
    const role = b.role === 'worker' && b.nodes.length > 1 ? 'workers' : b.role;
    lines.push(`${i}. ${role} ${what} -> ${target}`);
  }
  for (const s of plan.skipped) lines.push(`   skip ${s.host}: at ${s.version} already`);
  for (const g of plan.giveBack)
    lines.push(`   ${g.host}: set ${g.availability} again (an earlier upgrade drained it and failed after)`);
  for (const w of plan.warnings) lines.push(`   warning (--force): ${w}`);
  return lines;
}
