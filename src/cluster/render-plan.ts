import type { SwarmupEvent } from '../playbook/event-schema.ts';
import { describeAction, type Action, type Phase, type Stage } from '../swarm/actions.ts';
import { phasesUntil, type ClusterPlan } from './plan.ts';

/** Where the machines come from, for the plan's first part: the provider and where it looks (an engine, a region). */
export interface PlanWhere {
  provider: string;
  location?: string;
}

const stageTitle: Record<Stage, string> = {
  provision: 'machines',
  engine: 'engines',
  swarm: 'swarm',
};

/** At most four names, then how many more. */
function names(hosts: string[]): string {
  return hosts.length <= 4
    ? hosts.join(', ')
    : `${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more`;
}

const unique = (xs: string[]) => [...new Set(xs)];
/** Swarm calls made on the host's own engine; the others go through the entry manager's. */
const onOwnEngine = new Set<Action['kind']>(['init', 'join', 'leave']);

/** What a stage goes through: the provider, SSH, the Docker Engine API. Pure. */
export function stageTouches(stage: Stage, where?: PlanWhere): string {
  if (stage === 'provision')
    return `through the ${where ? `${where.provider} ` : ''}provider${where?.location ? ` (${where.location})` : ''}`;
  if (stage === 'engine') return 'by commands over SSH';
  return 'through the Docker Engine API over SSH';
}

/** Which hosts a phase touches: the engines its swarm calls go to (own, or the entry manager's). Pure. */
export function phaseTouches(phase: Phase, entry: string): string {
  const hosts = unique(phase.actions.flatMap((a) => ('host' in a ? [a.host] : [])));
  if (phase.stage === 'provision') return '';
  if (phase.stage === 'engine') return `on ${names(hosts)}`;
  const own = unique(phase.actions.flatMap((a) => (onOwnEngine.has(a.kind) && 'host' in a ? [a.host] : [])));
  const viaEntry = phase.actions.some((a) => !onOwnEngine.has(a.kind)) && !own.includes(entry);
  const joins = phase.actions.some((a) => a.kind === 'join') && !own.includes(entry);
  return [
    own.length === 1 && `on the engine of ${own[0]}`,
    own.length > 1 && `on the engines of ${names(own)}`,
    viaEntry && `through manager ${entry}`,
    joins && `(join tokens from manager ${entry})`,
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * The plan as `swarmup plan` prints it: grouped by stage and phase, each stage saying what it goes through (the
 * provider, SSH, the Docker Engine API) and each phase how its actions run and which hosts' engines it touches.
 */
export function renderPlan(plan: ClusterPlan, until?: Stage, where?: PlanWhere): string {
  const lines: string[] = [];
  for (const p of plan.problems) lines.push(`leave alone ${p.host}: ${p.message}`);
  let stage: Stage | undefined;
  for (const phase of phasesUntil(plan.phases, until)) {
    if (phase.stage !== stage) {
      stage = phase.stage;
      lines.push(`${stageTitle[stage]}, ${stageTouches(stage, where)}:`);
    }
    const mode = phase.mode === 'serial' ? 'one at a time' : 'in parallel';
    const touches = phaseTouches(phase, plan.swarm.entry);
    lines.push(
      `  ${[phase.title, !phase.title.includes(mode) && mode, touches].filter(Boolean).join(', ')}:`,
    );
    for (const a of phase.actions) lines.push(`    ${describeAction(a)}`);
  }
  if (plan.phases.length === 0) lines.push('nothing to change');
  if (plan.addrPool && (!until || until === 'swarm')) lines.push(plan.addrPool.description);
  for (const n of plan.notices) lines.push(`note: ${n}`);
  if (!until || until === 'swarm')
    lines.push('then verify: every node Ready and Active, one Leader, every other manager Reachable');
  return lines.join('\n');
}

/** The `plan` event: every phase with its actions, as `plan --json` prints it and `up --json` announces it. */
export function planEvent(
  plan: ClusterPlan,
): Omit<Extract<SwarmupEvent, { event: 'plan' }>, 'event' | 'revised' | 'permissions'> {
  return {
    phases: plan.phases.map((p) => ({
      stage: p.stage,
      title: p.title,
      mode: p.mode,
      actions: p.actions.map((a) => ({ ...a, description: describeAction(a) })),
    })),
    problems: plan.problems,
    ...(plan.addrPool ? { addrPool: plan.addrPool } : {}),
    ...(plan.notices.length > 0 ? { notices: plan.notices } : {}),
    ...(plan.deferred ? { deferred: plan.later } : {}),
  };
}
