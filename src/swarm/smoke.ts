import { randomBytes, randomInt } from 'node:crypto';
import type Docker from 'dockerode';
import { errorMessage, StepError } from '../errors.ts';
import { checkInterrupted, Interrupted } from '../playbook/interrupt.ts';
import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import { listNodes } from './engine.ts';
import { removeSmokeResources } from './smoke-cleanup.ts';
import {
  execIn,
  loadedImageId,
  loadImage,
  probeUntilSettled,
  waitForTasks,
  type RunningTask,
} from './smoke-engine.ts';
import { PERL_LAYER_COMMAND, serviceImage, smokeImage } from './smoke-image.ts';
import { OVERLAY_PORT, parseProbeOutput, probeArgs, PROBE_SCRIPT } from './smoke-probe.ts';
import { smokeCounts, smokeProblems, type SmokeCheck } from './smoke-report.ts';

export interface SmokeOptions {
  /** Deadline of the whole test (cleanup has its own 30 s after it). */
  deadlineMs: number;
  /** The host-mode published port (default: a random one in 20000-29999). */
  port?: number;
}

export interface SmokeResult {
  ok: boolean;
  runId: string;
  problems: string[];
  checks: SmokeCheck[];
  publishedPort: number;
  durationMs: number;
}

interface Node {
  handle: HostHandle;
  docker: Docker;
  nodeId: string;
  arch: string;
  manager: boolean;
}

const PROBE_SECONDS = 3;

/**
 * Prove the data plane (issue #10): a global service on a fresh overlay network, one task per node; each task
 * connects to every other task's overlay address (VXLAN and gossip between each pair), and the entry manager
 * connects to each node's host-mode published port over the underlay. Everything made is removed afterwards,
 * after a failure or Ctrl-C too. `ctx` holds every host of the cluster.
 */
export async function runSmoke(ctx: PlaybookContext, opts: SmokeOptions): Promise<SmokeResult> {
  const started = Date.now();
  const deadline = started + opts.deadlineMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  const runId = randomBytes(3).toString('hex');
  const name = `swarmup-smoke-${runId}`;
  const labels = { 'swarmup.cluster': ctx.cluster.name, 'swarmup.smoke': runId };
  const port = opts.port ?? 20_000 + randomInt(10_000);

  const facts = await ctx.step('smoke: read the nodes', 'all', async (h): Promise<Node> => {
    const docker = await h.docker();
    const info = (await docker.info()) as {
      Architecture?: string;
      Swarm?: { NodeID?: string; ControlAvailable?: boolean };
    };
    if (!info.Swarm?.NodeID) throw new Error('not a node of the swarm');
    return {
      handle: h,
      docker,
      nodeId: info.Swarm.NodeID,
      arch: info.Architecture ?? '',
      manager: info.Swarm.ControlAvailable === true,
    };
  });
  const nodes = ctx.hosts.map((h) => facts.get(h.name)!);
  const entry = nodes.find((n) => n.manager);
  if (!entry) throw new StepError(ctx.cluster.name, 'smoke', 'no manager answered');
  const manager = entry.docker;
  const addrOf = new Map((await listNodes(manager)).map((n) => [n.id, n.addr]));
  const swarm = (await manager.swarmInspect()) as { DataPathPort?: number };
  const nameOf = new Map(nodes.map((n) => [n.nodeId, n.handle.name]));
  const cleanup = (withinMs: number) =>
    removeSmokeResources(
      ctx.cluster.name,
      manager,
      nodes.map((n) => ({ name: n.handle.name, docker: n.docker })),
      withinMs,
    );

  const before = await cleanup(30_000);
  if (before.removed.length > 0)
    ctx.log(`smoke: removed leftovers of an earlier run: ${before.removed.join(', ')}`);

  const checks: SmokeCheck[] = [];
  const notRunning: Array<{ node: string; reason: string }> = [];
  const leftBehind: string[] = [];
  try {
    // The image: the entry manager's perl and its libraries, loaded into every node's engine.
    const layer = Buffer.from(
      (await entry.handle.run(PERL_LAYER_COMMAND, { deadlineMs: left() })).stdout.trim(),
      'base64',
    );
    const image = smokeImage(layer, { arch: entry.arch, tag: `swarmup/smoke:${runId}`, labels });
    const loaded = await ctx.step(
      `smoke: load the probe image (${(image.archive.length / 1e6).toFixed(1)} MB)`,
      'all',
      async (h) => {
        const n = facts.get(h.name)!;
        if (n.arch !== entry.arch)
          throw new Error(
            `architecture ${n.arch}, the probe image is ${entry.arch} (from ${entry.handle.name})`,
          );
        await loadImage(n.docker, image.archive, left());
        return loadedImageId(n.docker, image.tag);
      },
    );
    const reference = serviceImage(image, [...loaded.values()]);

    const network = (await manager.createNetwork({
      Name: name,
      Driver: 'overlay',
      Attachable: true,
      CheckDuplicate: true,
      Labels: labels,
    })) as { id: string };
    await manager.createService({
      Name: name,
      Labels: labels,
      Mode: { Global: {} },
      TaskTemplate: {
        ContainerSpec: {
          Image: reference,
          Command: ['/usr/bin/perl', '-e', PROBE_SCRIPT, 'serve', String(OVERLAY_PORT)],
          Env: ['SMOKE_NODE={{.Node.ID}}'],
          Labels: labels,
        },
        RestartPolicy: { Condition: 'none' },
        Networks: [{ Target: network.id }],
      },
      EndpointSpec: {
        Mode: 'dnsrr',
        Ports: [{ Protocol: 'tcp', TargetPort: OVERLAY_PORT, PublishedPort: port, PublishMode: 'host' }],
      },
    });
    ctx.log(`smoke: service ${name} (global, overlay network, port ${port}/tcp published in host mode)`);

    const tasks = await waitForTasks(
      manager,
      name,
      network.id,
      nodes.map((n) => ({ name: n.handle.name, nodeId: n.nodeId })),
      deadline,
      notRunning,
    );
    ctx.log(`smoke: a task runs on ${tasks.size} of ${nodes.length} nodes`);

    // Every task to every other task over the overlay; the entry manager to every published port. A task fails
    // (and shows so in the progress) when a connection of its own failed; the failures are collected as checks.
    const probeTask =
      (
        from: string,
        via: SmokeCheck['via'],
        to: Map<string, string>,
        run: (t: string[]) => Promise<string>,
      ) =>
      async () => {
        if (to.size === 0) return;
        let out: string;
        try {
          out = await probeUntilSettled([...to.keys()], deadline, PROBE_SECONDS, run);
        } catch (err) {
          if (err instanceof Interrupted) throw err;
          out = [...to.keys()]
            .map((t) => `fail ${t} could not run the probe: ${errorMessage(err)}`)
            .join('\n');
        }
        const mine: SmokeCheck[] = [];
        for (const [target, o] of parseProbeOutput(out, [...to.keys()])) {
          const answered = nameOf.get(o.detail);
          const ok = o.ok && answered === to.get(target);
          const detail = ok ? answered! : o.ok ? `answered by ${answered ?? o.detail}` : o.detail;
          mine.push({ from, to: to.get(target)!, via, ok, detail });
        }
        checks.push(...mine);
        const bad = mine.filter((c) => !c.ok);
        if (bad.length > 0)
          throw new Error(
            `${bad.length} of ${mine.length} did not answer: ${bad.map((c) => `${c.to} (${c.detail})`).join(', ')}`,
          );
      };
    const overlayTask = (n: Node, mine: RunningTask) => {
      const targets = new Map<string, string>();
      for (const other of nodes) {
        const t = tasks.get(other.nodeId);
        if (other !== n && t) targets.set(`${t.ip}:${OVERLAY_PORT}`, other.handle.name);
      }
      const cmd = (pending: string[]) => [
        '/usr/bin/perl',
        '-e',
        PROBE_SCRIPT,
        ...probeArgs(PROBE_SECONDS, pending),
      ];
      return probeTask(n.handle.name, 'overlay', targets, (pending) =>
        execIn(n.docker, mine.containerId, cmd(pending), left()),
      );
    };
    const published = new Map<string, string>();
    for (const n of nodes)
      if (tasks.has(n.nodeId)) published.set(`${addrOf.get(n.nodeId)}:${port}`, n.handle.name);
    const publishedTask = probeTask(entry.handle.name, 'published', published, async (pending) => {
      const args = ['perl', '-', ...probeArgs(PROBE_SECONDS, pending)];
      return (await entry.handle.exec(args, { stdin: PROBE_SCRIPT, deadlineMs: left() })).stdout;
    });
    await ctx
      .tasks(
        'smoke: connect across nodes',
        [
          ...nodes.flatMap((n) => {
            const mine = tasks.get(n.nodeId);
            return mine
              ? [
                  {
                    title: `${n.handle.name}: to every other task over the overlay`,
                    run: overlayTask(n, mine),
                  },
                ]
              : [];
          }),
          { title: `${entry.handle.name}: to each node's published port ${port}/tcp`, run: publishedTask },
        ],
        { concurrent: true },
      )
      .catch(() => checkInterrupted()); // a failed connection is in `checks`; Ctrl-C goes on to the cleanup
    const o = smokeCounts(checks, 'overlay');
    const p = smokeCounts(checks, 'published');
    ctx.log(
      `smoke: overlay ${o.checked - o.failed}/${o.checked} connections answered; ` +
        `published port ${port}/tcp answered on ${p.checked - p.failed}/${p.checked} nodes`,
    );
  } finally {
    const after = await cleanup(30_000);
    ctx.log(`smoke: removed ${after.removed.length > 0 ? after.removed.join(', ') : 'nothing'}`);
    leftBehind.push(...after.left);
  }

  const problems = smokeProblems({
    nodes: nodes.map((n) => n.handle.name),
    notRunning,
    leftBehind,
    checks,
    publishedPort: port,
    entry: entry.handle.name,
    dataPathPort: swarm.DataPathPort || 4789,
  });
  const result = {
    ok: problems.length === 0,
    runId,
    problems,
    checks,
    publishedPort: port,
    durationMs: Date.now() - started,
  };
  ctx.reporter.emit({
    event: 'smoke',
    ok: result.ok,
    runId,
    durationMs: result.durationMs,
    publishedPort: port,
    overlay: smokeCounts(checks, 'overlay'),
    published: smokeCounts(checks, 'published'),
    failures: checks
      .filter((c) => !c.ok)
      .map(({ from, to, via, detail }) => ({ from, to, via, error: detail })),
    problems,
  });
  return result;
}
