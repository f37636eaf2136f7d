import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { checkInterrupted } from '../playbook/interrupt.ts';
import { withDeadline } from '../transport/deadline.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseProbeOutput } from './smoke-probe.ts';
import { readAll } from './image-load.ts';

/** The smoke test's calls: run the probe in a task, probe in rounds (its image loads through image-load.ts). */

/**
 * Failed connections are tried again for this long: a new task's address (and the VXLAN forwarding entry between
 * two nodes) reaches the other nodes by gossip, which on a loaded machine took more than 15 s for one pair of
 * nodes of a healthy cluster (seen once in four CI runs), then more than 30 s for one pair on Docker 28.5 (once in
 * five clean runs, both directions, each node of the pair reaching every other). A port really blocked is reported
 * that much later; a false alarm on a healthy cluster costs the user more.
 */
const SETTLE_MS = 60_000;

/**
 * Retries stop this long before the smoke test's deadline: a round begun later gets less than its own 3 s, and its
 * exec's deadline then reads as failures of pairs that answered (seen: 3 healthy sides reported as failed).
 */
const RESERVE_MS = 15_000;

/**
 * Probe the targets in rounds until all answer, SETTLE_MS passes or the deadline comes (a first refusal is not yet
 * a failure). Returns the probe's output lines: the ok ones of every round and the last round's failures.
 */
export async function probeUntilSettled(
  targets: string[],
  deadline: number,
  probeSeconds: number,
  run: (pending: string[]) => Promise<string>,
): Promise<string> {
  const until = Math.min(deadline - RESERVE_MS, Date.now() + SETTLE_MS);
  const lines: string[] = [];
  let pending = targets;
  for (;;) {
    checkInterrupted();
    const out = await run(pending);
    const r = parseProbeOutput(out, pending);
    lines.push(...out.split('\n').filter((l) => l.startsWith('ok ')));
    pending = pending.filter((t) => !r.get(t)!.ok);
    if (pending.length === 0 || Date.now() + probeSeconds * 1000 > until) {
      lines.push(...pending.map((t) => `fail ${t} ${r.get(t)!.detail}`));
      return lines.join('\n');
    }
    await sleep(1_000);
  }
}

/** Run a command in a container (Engine API exec) and return its output; a deadline bounds the whole run. */
export async function execIn(
  docker: Docker,
  containerId: string,
  cmd: string[],
  ms: number,
): Promise<string> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: false, stdin: false })) as NodeJS.ReadableStream;
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(stream, out, err);
  const text = readAll(out);
  const errText = readAll(err);
  stream.on('end', () => {
    out.end();
    err.end();
  });
  const stdout = await withDeadline(text, ms, 'the Docker engine: exec in the smoke task');
  const stderr = await errText;
  if (!stdout.trim() && stderr.trim())
    throw new Error(`probe: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  return stdout;
}

/** A task running on a node: its container there and its address on the smoke network. */
export interface RunningTask {
  containerId: string;
  ip: string;
}

/** Until every node runs its task (or its task ended): the running ones, by node ID. */
export async function waitForTasks(
  manager: Docker,
  service: string,
  networkId: string,
  nodes: Array<{ name: string; nodeId: string }>,
  deadline: number,
  notRunning: Array<{ node: string; reason: string }>,
): Promise<Map<string, RunningTask>> {
  interface TaskJson {
    NodeID?: string;
    CreatedAt?: string;
    Status?: { State?: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string } };
    NetworksAttachments?: Array<{ Network?: { ID?: string }; Addresses?: string[] }>;
  }
  const running = new Map<string, RunningTask>();
  const ended = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);
  let last = new Map<string, TaskJson>();
  while (Date.now() < deadline) {
    checkInterrupted();
    const list = (await manager.listTasks({ filters: { service: [service] } })) as TaskJson[];
    last = new Map();
    for (const t of list.sort((a, b) => (a.CreatedAt ?? '').localeCompare(b.CreatedAt ?? '')))
      if (t.NodeID) last.set(t.NodeID, t);
    const settled = nodes.every((n) => {
      const s = last.get(n.nodeId)?.Status?.State ?? '';
      return s === 'running' || ended.has(s);
    });
    if (settled) break;
    await sleep(300);
  }
  for (const n of nodes) {
    const t = last.get(n.nodeId);
    const state = t?.Status?.State;
    const ip = t?.NetworksAttachments?.find((a) => a.Network?.ID === networkId)?.Addresses?.[0]?.split(
      '/',
    )[0];
    const containerId = t?.Status?.ContainerStatus?.ContainerID;
    if (state === 'running' && ip && containerId) running.set(n.nodeId, { containerId, ip });
    else
      notRunning.push({
        node: n.name,
        reason: !t
          ? 'no task was scheduled on it'
          : `task ${state ?? 'unknown'}${t.Status?.Err ? `: ${t.Status.Err}` : t.Status?.Message ? ` (${t.Status.Message})` : ''}`,
      });
  }
  return running;
}
