import { errorMessage, InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { actionHost, describeAction, type Action, type Phase } from '../swarm/actions.ts';
import type { ClusterPlan } from './plan.ts';
import type { ClusterReading } from './read.ts';

/** What the steps of one `applyCluster` run share. */
export interface ApplyRun {
  ctx: PlaybookContext;
  reading: ClusterReading;
  /** The plan as given (the swarm part may be planned again once the facts it assumed are read). */
  plan: ClusterPlan;
  /** SSH targets of the machines that run, added to as machines are created, started and reached. */
  machines: Map<string, Machine>;
  /** Hosts whose machine or engine this run created, started or installed. */
  touched: Set<string>;
  /** A log line. */
  progress: (message: string) => void;
  /**
   * Run a phase's actions (in parallel or one at a time, as the phase says), each counted as changed and announced
   * as an action event as soon as it is done; a failed one is announced and thrown as a StepError.
   */
  runPhase: (phase: Phase, run: (a: Action) => Promise<void>) => Promise<void>;
}

export function startApplyRun(ctx: PlaybookContext, reading: ClusterReading, plan: ClusterPlan): ApplyRun {
  const emitAction = (a: Action, status: 'ok' | 'failed') =>
    ctx.reporter.emit({ event: 'action', status, ...a, description: describeAction(a) });
  const runPhase = (phase: Phase, run: (a: Action) => Promise<void>) =>
    ctx.tasks(
      phase.title,
      phase.actions.map((a) => ({
        title: describeAction(a),
        run: async () => {
          try {
            await run(a);
          } catch (err) {
            emitAction(a, 'failed');
            if (err instanceof StepError || err instanceof InputError) throw err;
            throw new StepError(actionHost(a, plan.swarm.entry), describeAction(a), errorMessage(err));
          }
          ctx.changed();
          emitAction(a, 'ok');
        },
      })),
      { concurrent: phase.mode === 'parallel' },
    );
  return {
    ctx,
    reading,
    plan,
    machines: new Map(reading.machines),
    touched: new Set<string>(),
    progress: (message: string) => ctx.reporter.emit({ event: 'log', message }),
    runPhase,
  };
}

/** SSH targets of the machines the cluster keeps that run now, in inventory order. */
export function keptHosts(run: ApplyRun): Machine[] {
  return run.reading.input.hosts.flatMap((h) => {
    const m = run.machines.get(h.name);
    return m ? [m] : [];
  });
}
