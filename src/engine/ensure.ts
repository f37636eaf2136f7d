import { errorMessage, StepError, StepErrors } from '../errors.ts';
import { waitForEngine } from '../transport/engine-ping.ts';
import type { HostHandle, PlaybookContext } from '../playbook/playbook.ts';
import { bootWait, bootWaitSeconds } from './boot-state.ts';
import { waitForBoot } from './boot-wait.ts';
import { engineFactsScript, parseEngineFacts, type EngineFacts } from './host-facts.ts';
import { asRoot, planEngine, type EngineHostPlan } from './install-plan.ts';
import { probeSwarmPorts } from './port-probe.ts';
import { preflightChecks, probePlan, type PreflightProblem } from './preflight.ts';

export interface EngineReading {
  facts: Map<string, EngineFacts>;
  /** Host clock minus local clock (s), from the middle of the round trip that read it. */
  offsets: Map<string, number>;
}

/**
 * OS, user, engine, clock, disk and addresses of the given hosts, in parallel, one command each. A host still
 * booting or installing (cloud-init running, a package manager at work) is waited for, then read again, so the
 * engine is never planned from a half-installed package; hosts that are settled are not delayed.
 */
export async function readEngineFacts(
  ctx: PlaybookContext,
  only?: string[],
  into?: EngineReading,
): Promise<EngineReading> {
  const reading = into ?? { facts: new Map<string, EngineFacts>(), offsets: new Map<string, number>() };
  const hosts = (only ?? ctx.hosts.map((h) => h.name)).filter((n) => !reading.facts.has(n));
  if (hosts.length === 0) return reading;
  const read = (h: HostHandle) => readHostFacts(h, reading);
  await ctx.step('read host facts', hosts, read);
  const busy = hosts.filter((n) => bootWait(reading.facts.get(n)!.boot));
  if (busy.length === 0) return reading;
  const deadline = Date.now() + bootWaitSeconds(process.env.SWARMUP_BOOT_WAIT_S) * 1000;
  await ctx.step('wait for cloud-init and package managers', busy, (h) =>
    waitForBoot(h, reading.facts.get(h.name)!, deadline, () => read(h)),
  );
  return reading;
}

/** One host's facts, recorded in `reading` (with its clock offset). */
async function readHostFacts(h: HostHandle, reading: EngineReading): Promise<EngineFacts> {
  const t0 = Date.now();
  const r = await h.exec(engineFactsScript, { deadlineMs: 60_000 });
  const t1 = Date.now();
  const f = parseEngineFacts(h.name, r.stdout);
  if (!Number.isFinite(f.uid)) {
    throw new Error(
      `could not read host facts: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  reading.facts.set(h.name, f);
  if (Number.isFinite(f.clock)) reading.offsets.set(h.name, f.clock - (t0 + t1) / 2000);
  return f;
}

/** Plan every host's engine; any host that cannot proceed stops the run here, before any change. */
export function planEngines(ctx: PlaybookContext, reading: EngineReading): EngineHostPlan[] {
  const plans = ctx.hosts
    .filter((h) => reading.facts.has(h.name))
    .map((h) => planEngine(reading.facts.get(h.name)!, ctx.cluster.engine));
  const problems = plans.filter((p) => p.problem);
  if (problems.length > 0)
    throw new StepErrors(problems.map((p) => new StepError(p.host, 'engine', p.problem!)));
  return plans;
}

/** Install and start engines where needed, all hosts in parallel. */
export async function applyEngines(
  ctx: PlaybookContext,
  plans: EngineHostPlan[],
  reading: EngineReading,
): Promise<void> {
  const todo = plans.filter((p) => p.steps.length > 0);
  if (todo.length === 0) return;
  await ctx.step(
    'install and start engines',
    todo.map((p) => p.host),
    async (h) => {
      await installEngine(
        ctx,
        h,
        todo.find((p) => p.host === h.name)!,
        reading.facts.get(h.name)!,
      );
      ctx.changed();
    },
  );
}

/** Run one host's engine plan, step by step; a failing step names the host, the step and its output. */
export async function installEngine(
  ctx: PlaybookContext,
  h: HostHandle,
  plan: EngineHostPlan,
  f: EngineFacts,
): Promise<void> {
  for (const step of plan.steps) {
    const r = await h.exec(step.root ? asRoot(f, step.script) : step.script);
    if (r.code !== 0) {
      const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-8).join('\n');
      throw new StepError(h.name, step.title, `exited ${r.code}${out ? `:\n${out}` : ''}`);
    }
  }
  // A new group reaches only new logins: open the connection again so the Docker API works for this user.
  if (plan.reconnect) await ctx.pool.reconnect(h.host);
  // The engine just started answers on its socket a moment later: asked through the API, over the connection.
  const started = plan.steps.find((s) => s.title.startsWith('start the engine'));
  if (started) {
    try {
      await waitForEngine(await h.docker(), 60_000);
    } catch (err) {
      throw new StepError(h.name, started.title, `${errorMessage(err)} within 60 s of its start`);
    }
  }
}

/** What the pre-flight needs to know of the plan. */
export interface PreflightOptions {
  reference: string;
  joining: Set<string>;
  roles: Record<string, 'manager' | 'worker'>;
  /** The swarm's data path (VXLAN) UDP port, when not 4789. */
  dataPathPort?: number;
}

type Probed = Awaited<ReturnType<typeof probeSwarmPorts>>;

/**
 * The port probe between the hosts about to join and the others (one listener command per target, one probe
 * command per source). Started on its own so it can overlap other waiting (new machines' engines starting).
 */
export async function probePorts(ctx: PlaybookContext, opts: PreflightOptions): Promise<Probed> {
  const probes = probePlan(
    ctx.hosts.map((h) => ({ name: h.name, role: opts.roles[h.name] ?? 'worker' })),
    opts.joining,
    opts.reference,
    opts.dataPathPort,
  );
  const host = (n: string) => ctx.hosts.find((h) => h.name === n)!;
  let probed: Probed = { problems: [], reports: new Map() };
  if (probes.length === 0) return probed;
  await ctx.tasks(
    'pre-flight: addresses, disk, swarm ports',
    [
      {
        title: `${probes.length} probe${probes.length === 1 ? '' : 's'}: 2377/tcp to managers, 7946/tcp+udp, ${opts.dataPathPort ?? 4789}/udp`,
        run: async () => {
          probed = await probeSwarmPorts({
            probes,
            connection: (n) => ctx.connection(host(n)),
            address: (n) => host(n).advertiseAddress,
          });
        },
      },
    ],
    { concurrent: false },
  );
  return probed;
}

/**
 * Pre-flight, before any swarm change: clock skew against the first manager (from the engines' own clocks, read
 * with the swarm facts), and on the hosts about to join: the advertise address is theirs, free disk, and Swarm's
 * ports reachable between them. Throws naming every host and cause. `probed`: a probe already under way.
 */
export async function preflight(
  ctx: PlaybookContext,
  opts: PreflightOptions & { clockOffsets: Map<string, number>; probed?: Promise<Probed> },
): Promise<void> {
  const probed = await (opts.probed ?? probePorts(ctx, opts));
  const problems: PreflightProblem[] = [
    ...preflightChecks({
      hosts: ctx.hosts,
      facts: probed.reports,
      clockOffsets: opts.clockOffsets,
      reference: opts.reference,
    }),
    ...probed.problems,
  ];
  if (problems.length > 0) {
    throw new StepErrors(problems.map((p) => new StepError(p.host, `pre-flight (${p.check})`, p.message)));
  }
}
