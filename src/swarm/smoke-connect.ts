import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { checkInterrupted, Interrupted } from '../playbook/interrupt.ts';
import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import { execIn, probeUntilSettled, type RunningTask } from './smoke-engine.ts';
import { OVERLAY_PORT, parseProbeOutput, probeArgs, PROBE_SCRIPT } from './smoke-probe.ts';
import { smokeCounts, type SmokeCheck } from './smoke-report.ts';

/**
 * The smoke test's connections (src/swarm/smoke.ts runs them once its service's tasks run): every task to every
 * other task over the overlay, the entry manager to every node's host-mode published port over the underlay.
 */

/** A node of the swarm as the smoke test reads it. */
export interface SmokeNode {
  handle: HostHandle;
  docker: Docker;
  nodeId: string;
  arch: string;
  manager: boolean;
}

/** What the connections need of a smoke run. */
export interface SmokeConnect {
  ctx: PlaybookContext;
  /** Every node, in host order. */
  nodes: SmokeNode[];
  /** The manager the published ports are knocked on from (and the service is made through). */
  entry: SmokeNode;
  /** The host-mode published port. */
  port: number;
  deadline: number;
  /** Time left until the deadline (at least 1 s). */
  left: () => number;
}

/** One side's connections: who connects, how, to which targets (address → host name), and how a probe runs. */
interface Probe {
  from: string;
  via: SmokeCheck['via'];
  to: Map<string, string>;
  run: (pending: string[]) => Promise<string>;
}

const PROBE_SECONDS = 3;

/**
 * Every task to every other task over the overlay; the entry manager to every published port. A task fails (and
 * shows so in the progress) when a connection of its own failed; the failures are collected as `checks`.
 */
export async function connectAcrossNodes(
  run: SmokeConnect,
  tasks: Map<string, RunningTask>,
  addrOf: Map<string, string>,
  checks: SmokeCheck[],
): Promise<void> {
  const { ctx, nodes, entry, port } = run;
  const nameOf = new Map(nodes.map((n) => [n.nodeId, n.handle.name]));
  const task = (p: Probe) => () => probeTask(run, nameOf, checks, p);
  const overlay = nodes.flatMap((n) => {
    const mine = tasks.get(n.nodeId);
    return mine
      ? [
          {
            title: `${n.handle.name}: to every other task over the overlay`,
            run: task(overlayProbe(run, tasks, n, mine)),
          },
        ]
      : [];
  });
  const published = {
    title: `${entry.handle.name}: to each node's published port ${port}/tcp`,
    run: task(publishedProbe(run, tasks, addrOf)),
  };
  await ctx
    .tasks('smoke: connect across nodes', [...overlay, published], { concurrent: true })
    .catch(() => checkInterrupted()); // a failed connection is in `checks`; Ctrl-C goes on to the cleanup
  const o = smokeCounts(checks, 'overlay');
  const p = smokeCounts(checks, 'published');
  ctx.log(
    `smoke: overlay ${o.checked - o.failed}/${o.checked} connections answered; ` +
      `published port ${port}/tcp answered on ${p.checked - p.failed}/${p.checked} nodes`,
  );
}

/** From a node's own task to every other node's task, on the overlay address, by exec in the task's container. */
function overlayProbe(
  run: SmokeConnect,
  tasks: Map<string, RunningTask>,
  n: SmokeNode,
  mine: RunningTask,
): Probe {
  const targets = new Map<string, string>();
  for (const other of run.nodes) {
    const t = tasks.get(other.nodeId);
    if (other !== n && t) targets.set(`${t.ip}:${OVERLAY_PORT}`, other.handle.name);
  }
  const cmd = (pending: string[]) => [
    '/usr/bin/perl',
    '-e',
    PROBE_SCRIPT,
    ...probeArgs(PROBE_SECONDS, pending),
  ];
  return {
    from: n.handle.name,
    via: 'overlay',
    to: targets,
    run: (pending) => execIn(n.docker, mine.containerId, cmd(pending), run.left()),
  };
}

/** From the entry manager (over its transport) to the published port of every node that runs a task. */
function publishedProbe(
  run: SmokeConnect,
  tasks: Map<string, RunningTask>,
  addrOf: Map<string, string>,
): Probe {
  const { entry, port } = run;
  const published = new Map<string, string>();
  for (const n of run.nodes)
    if (tasks.has(n.nodeId)) published.set(`${addrOf.get(n.nodeId)}:${port}`, n.handle.name);
  return {
    from: entry.handle.name,
    via: 'published',
    to: published,
    run: async (pending) => {
      const args = ['perl', '-', ...probeArgs(PROBE_SECONDS, pending)];
      return (await entry.handle.exec(args, { stdin: PROBE_SCRIPT, deadlineMs: run.left() })).stdout;
    },
  };
}

/**
 * Probe one side's targets until they settle, add a check per target to `checks`, and fail (naming them) when any
 * did not answer or another node answered.
 */
async function probeTask(
  run: SmokeConnect,
  nameOf: Map<string, string>,
  checks: SmokeCheck[],
  p: Probe,
): Promise<void> {
  if (p.to.size === 0) return;
  const out = await probeOutput(run, p);
  const mine: SmokeCheck[] = [];
  for (const [target, o] of parseProbeOutput(out, [...p.to.keys()])) {
    const answered = nameOf.get(o.detail);
    const ok = o.ok && answered === p.to.get(target);
    const detail = ok ? answered! : o.ok ? `answered by ${answered ?? o.detail}` : o.detail;
    mine.push({ from: p.from, to: p.to.get(target)!, via: p.via, ok, detail });
  }
  checks.push(...mine);
  const bad = mine.filter((c) => !c.ok);
  if (bad.length > 0)
    throw new Error(
      `${bad.length} of ${mine.length} did not answer: ${bad.map((c) => `${c.to} (${c.detail})`).join(', ')}`,
    );
}

/** The probe's output lines; a probe that could not run at all fails every target (Ctrl-C goes on as it is). */
async function probeOutput(run: SmokeConnect, p: Probe): Promise<string> {
  try {
    return await probeUntilSettled([...p.to.keys()], run.deadline, PROBE_SECONDS, p.run);
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    return [...p.to.keys()].map((t) => `fail ${t} could not run the probe: ${errorMessage(err)}`).join('\n');
  }
}
