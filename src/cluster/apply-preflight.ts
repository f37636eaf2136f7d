import { preflight, probePorts } from '../engine/ensure.ts';
import type { Machine } from '../providers/provider.ts';
import type { HostFacts } from '../swarm/facts.ts';
import type { ApplyRun } from './apply-run.ts';
import type { ClusterPlan } from './plan.ts';

type PortProbe = ReturnType<typeof probePorts>;

/**
 * The port probe between the hosts the plan joins, started before the swarm part is re-read (new machines' engines
 * are still starting); only when the plan waits for no host. Awaited by the pre-flight, which reports its failure.
 */
export function probeEarly(run: ApplyRun, hosts: Machine[]): PortProbe | undefined {
  const { plan } = run;
  const early = plan.later.length === 0 ? preflightOf(plan, run.reading.input.facts) : undefined;
  const probing = early && early.joining.size > 0 ? probePorts(run.ctx.withHosts(hosts), early) : undefined;
  probing?.catch(() => undefined); // awaited by preflightSwarm; a failure is reported there
  return probing;
}

/**
 * Pre-flight before any swarm change: clocks, addresses, disk, and the ports between the hosts that join. The early
 * probe is used when the swarm part was not planned again.
 */
export async function preflightSwarm(
  run: ApplyRun,
  hosts: Machine[],
  swarmPlan: ClusterPlan,
  facts: HostFacts[],
  probing: PortProbe | undefined,
): Promise<void> {
  const checks = preflightOf(swarmPlan, facts);
  if (checks.joining.size > 0) {
    const sameProbe = swarmPlan === run.plan && probing;
    await preflight(run.ctx.withHosts(hosts), {
      ...checks,
      clockOffsets: clockOffsets(facts),
      ...(sameProbe ? { probed: probing } : {}),
    });
  }
}

/** What the pre-flight checks for a plan: the hosts its swarm phases init or join, their roles, the data path port. */
function preflightOf(p: ClusterPlan, facts: HostFacts[]) {
  return {
    reference: p.swarm.entry,
    joining: new Set(
      p.phases
        .filter((ph) => ph.stage === 'swarm')
        .flatMap((ph) => ph.actions)
        .flatMap((a) => (a.kind === 'init' || a.kind === 'join' ? [a.host] : [])),
    ),
    roles: p.swarm.roles,
    ...dataPathPortOf(p, facts),
  };
}

/** The data path port the swarm is (or is about to be) made with, when not Docker's default. */
function dataPathPortOf(plan: ClusterPlan, facts: HostFacts[]): { dataPathPort?: number } {
  const init = plan.phases.flatMap((p) => p.actions).find((a) => a.kind === 'init');
  const port =
    init?.kind === 'init'
      ? init.dataPathPort
      : facts.find((f) => f.clusterId && f.clusterId === plan.swarm.clusterId && f.initSettings)?.initSettings
          ?.dataPathPort;
  return port !== undefined && port !== 4789 ? { dataPathPort: port } : {};
}

function clockOffsets(facts: HostFacts[]): Map<string, number> {
  return new Map(
    facts.flatMap((f) => (f.clockOffset !== undefined ? [[f.host, f.clockOffset] as const] : [])),
  );
}
