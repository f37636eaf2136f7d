import { randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { listNodes } from './engine.ts';
import { removeSmokeResources } from './smoke-cleanup.ts';
import { connectAcrossNodes, type SmokeConnect, type SmokeNode } from './smoke-connect.ts';
import { loadedImageId, loadImageStream } from './image-load.ts';
import { waitForTasks } from './smoke-engine.ts';
import { PERL_LAYER_COMMAND, serviceImage, smokeImage } from './smoke-image.ts';
import { OVERLAY_PORT, PROBE_SCRIPT } from './smoke-probe.ts';
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

/** One smoke test under way: its run id, the names and labels of what it makes, and what its connections need. */
interface SmokeRun extends SmokeConnect {
  runId: string;
  /** The service's and the overlay network's name. */
  name: string;
  labels: Record<string, string>;
}

/** What a smoke run found, collected while it runs (and while it cleans up). */
interface Collected {
  checks: SmokeCheck[];
  notRunning: Array<{ node: string; reason: string }>;
  leftBehind: string[];
}

/**
 * Prove the data plane (issue #10): a global service on a fresh overlay network, one task per node; each task
 * connects to every other task's overlay address (VXLAN and gossip between each pair), and the entry manager
 * connects to each node's host-mode published port over the underlay. Everything made is removed afterwards,
 * after a failure or Ctrl-C too. `ctx` holds every host of the cluster.
 */
export async function runSmoke(ctx: PlaybookContext, opts: SmokeOptions): Promise<SmokeResult> {
  const started = Date.now();
  const run = await startRun(ctx, opts, started + opts.deadlineMs);
  const manager = run.entry.docker;
  const addrOf = new Map((await listNodes(manager)).map((n) => [n.id, n.addr]));
  const swarm = (await manager.swarmInspect()) as { DataPathPort?: number };
  const cleanup = (withinMs: number) =>
    removeSmokeResources(
      ctx.cluster.name,
      manager,
      run.nodes.map((n) => ({ name: n.handle.name, docker: n.docker })),
      withinMs,
    );

  const before = await cleanup(30_000);
  if (before.removed.length > 0)
    ctx.log(`smoke: removed leftovers of an earlier run: ${before.removed.join(', ')}`);

  const found: Collected = { checks: [], notRunning: [], leftBehind: [] };
  try {
    await probeDataPlane(run, addrOf, found);
  } finally {
    const after = await cleanup(30_000);
    ctx.log(`smoke: removed ${after.removed.length > 0 ? after.removed.join(', ') : 'nothing'}`);
    found.leftBehind.push(...after.left);
  }
  return reportSmoke(run, found, { started, dataPathPort: swarm.DataPathPort || 4789 });
}

/** A new run's id, names and port; the nodes read, and the entry manager among them (none: a StepError). */
async function startRun(ctx: PlaybookContext, opts: SmokeOptions, deadline: number): Promise<SmokeRun> {
  const runId = randomBytes(3).toString('hex');
  const port = opts.port ?? 20_000 + randomInt(10_000);
  const facts = await readNodes(ctx);
  const nodes = ctx.hosts.map((h) => facts.get(h.name)!);
  const entry = nodes.find((n) => n.manager);
  if (!entry) throw new StepError(ctx.cluster.name, 'smoke', 'no manager answered');
  return {
    ctx,
    runId,
    name: `swarmup-smoke-${runId}`,
    labels: { 'swarmup.cluster': ctx.cluster.name, 'swarmup.smoke': runId },
    port,
    deadline,
    left: () => Math.max(1_000, deadline - Date.now()),
    nodes,
    entry,
  };
}

/** Every host's engine: its node ID, architecture and whether it is a manager (not a node of the swarm: fails). */
function readNodes(ctx: PlaybookContext): Promise<Map<string, SmokeNode>> {
  return ctx.step('smoke: read the nodes', 'all', async (h): Promise<SmokeNode> => {
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
}

/** The image, the service and its tasks, then the connections between them; what fails is collected in `found`. */
async function probeDataPlane(run: SmokeRun, addrOf: Map<string, string>, found: Collected): Promise<void> {
  const reference = await loadProbeImage(run);
  const networkId = await startService(run, reference);
  const tasks = await waitForTasks(
    run.entry.docker,
    run.name,
    networkId,
    run.nodes.map((n) => ({ name: n.handle.name, nodeId: n.nodeId })),
    run.deadline,
    found.notRunning,
  );
  run.ctx.log(`smoke: a task runs on ${tasks.size} of ${run.nodes.length} nodes`);
  await connectAcrossNodes(run, tasks, addrOf, found.checks);
}

/**
 * The image: the entry manager's perl and its libraries, loaded into every node's engine (a node of another
 * architecture fails). Returns the reference the service runs it by.
 */
async function loadProbeImage(run: SmokeRun): Promise<string> {
  const { ctx, entry } = run;
  const layer = Buffer.from(
    (await entry.handle.run(PERL_LAYER_COMMAND, { deadlineMs: run.left() })).stdout.trim(),
    'base64',
  );
  const image = smokeImage(layer, {
    arch: entry.arch,
    tag: `swarmup/smoke:${run.runId}`,
    labels: run.labels,
  });
  const loaded = await ctx.step(
    `smoke: load the probe image (${(image.archive.length / 1e6).toFixed(1)} MB)`,
    'all',
    async (h) => {
      const n = run.nodes.find((node) => node.handle.name === h.name)!;
      if (n.arch !== entry.arch)
        throw new Error(
          `architecture ${n.arch}, the probe image is ${entry.arch} (from ${entry.handle.name})`,
        );
      await loadImageStream(n.docker, Readable.from([image.archive]), { deadlineMs: run.left() });
      return loadedImageId(n.docker, image.tag);
    },
  );
  return serviceImage(image, [...loaded.values()]);
}

/**
 * The overlay network and the global service on it: the probe serving on every node, its port published in host
 * mode. Returns the network's ID.
 */
async function startService(run: SmokeRun, reference: string): Promise<string> {
  const { name, labels, port } = run;
  const manager = run.entry.docker;
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
  run.ctx.log(`smoke: service ${name} (global, overlay network, port ${port}/tcp published in host mode)`);
  return network.id;
}

/** The problems the findings show, the result, and the `smoke` JSON event. */
function reportSmoke(
  run: SmokeRun,
  found: Collected,
  at: { started: number; dataPathPort: number },
): SmokeResult {
  const { runId, port } = run;
  const checks = found.checks;
  const problems = smokeProblems({
    nodes: run.nodes.map((n) => n.handle.name),
    notRunning: found.notRunning,
    leftBehind: found.leftBehind,
    checks,
    publishedPort: port,
    entry: run.entry.handle.name,
    dataPathPort: at.dataPathPort,
  });
  const result = {
    ok: problems.length === 0,
    runId,
    problems,
    checks,
    publishedPort: port,
    durationMs: Date.now() - at.started,
  };
  run.ctx.reporter.emit({
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
