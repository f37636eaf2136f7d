import { StepError, StepErrors } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { engineFactsScript, parseEngineFacts, type EngineFacts } from './host-facts.ts';
import { asRoot, planEngine, type EngineHostPlan } from './install-plan.ts';
import { probePorts } from './port-probe.ts';
import { preflightChecks, probePlan, type PreflightProblem } from './preflight.ts';

export interface EngineReading {
  facts: Map<string, EngineFacts>;
  /** Host clock minus local clock (s), from the middle of the round trip that read it. */
  offsets: Map<string, number>;
}

/** OS, user, engine, clock, disk and addresses of the given hosts, in parallel, one command each. */
export async function readEngineFacts(
  ctx: PlaybookContext,
  only?: string[],
  into?: EngineReading,
): Promise<EngineReading> {
  const reading = into ?? { facts: new Map<string, EngineFacts>(), offsets: new Map<string, number>() };
  const hosts = (only ?? ctx.hosts.map((h) => h.name)).filter((n) => !reading.facts.has(n));
  if (hosts.length === 0) return reading;
  await ctx.step('read host facts', hosts, async (h) => {
    const t0 = Date.now();
    const r = await h.exec(engineFactsScript);
    const t1 = Date.now();
    const f = parseEngineFacts(h.name, r.stdout);
    if (!Number.isFinite(f.uid)) {
      throw new Error(
        `could not read host facts: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      );
    }
    reading.facts.set(h.name, f);
    if (Number.isFinite(f.clock)) reading.offsets.set(h.name, f.clock - (t0 + t1) / 2000);
  });
  return reading;
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
      const plan = todo.find((p) => p.host === h.name)!;
      const f = reading.facts.get(h.name)!;
      for (const step of plan.steps) {
        const r = await h.exec(step.root ? asRoot(f, step.script) : step.script);
        if (r.code !== 0) {
          const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-8).join('\n');
          throw new StepError(h.name, step.title, `exited ${r.code}${out ? `:\n${out}` : ''}`);
        }
        ctx.changes++;
      }
      // A new group reaches only new logins: open the connection again so the Docker API works for this user.
      if (plan.reconnect) await ctx.pool.reconnect(h.host);
    },
  );
}

/**
 * Pre-flight, before any swarm change: clock skew against the first manager, the advertise address belongs to the
 * host, free disk, and Swarm's ports reachable between the hosts about to join. Throws naming every host and cause.
 */
export async function preflight(
  ctx: PlaybookContext,
  reading: EngineReading,
  opts: { reference: string; joining: Set<string>; roles: Record<string, 'manager' | 'worker'> },
): Promise<void> {
  const problems: PreflightProblem[] = preflightChecks({
    hosts: ctx.hosts,
    facts: reading.facts,
    clockOffsets: reading.offsets,
    reference: opts.reference,
  });
  const probes = probePlan(
    ctx.hosts.map((h) => ({ name: h.name, role: opts.roles[h.name] ?? 'worker' })),
    opts.joining,
    opts.reference,
  );
  // Hosts whose address is wrong cannot listen on it: their address problem is the cause to report.
  const runnable = probes.filter((p) => !problems.some((x) => x.host === p.to && x.check === 'address'));
  if (runnable.length > 0) {
    await ctx.tasks(
      'pre-flight: probe swarm ports',
      runnable.map((p) => ({
        title: `${p.from} -> ${p.to}: ${p.ports.map((s) => s.split(':').reverse().join('/')).join(' ')}`,
        run: async () => {
          const host = (n: string) => ctx.hosts.find((h) => h.name === n)!;
          const from = {
            host: p.from,
            conn: await ctx.connection(host(p.from)),
            addr: host(p.from).advertiseAddress,
          };
          const to = {
            host: p.to,
            conn: await ctx.connection(host(p.to)),
            addr: host(p.to).advertiseAddress,
          };
          problems.push(...(await probePorts(from, to, p.ports)));
        },
      })),
      // Probes to different targets run at once; each target listens on its own ports.
      { concurrent: true },
    );
  }
  if (problems.length > 0) {
    throw new StepErrors(problems.map((p) => new StepError(p.host, `pre-flight (${p.check})`, p.message)));
  }
}
