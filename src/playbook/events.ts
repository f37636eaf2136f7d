import { combineErrors } from '../errors.ts';
import { checkInterrupted } from './interrupt.ts';
import { redact } from '../redact.ts';
import type { SwarmupEvent } from './event-schema.ts';

/** What `--json` prints, one object per line, inferred from its schema; the human renderer shows the same facts. */
export type { SmokeEvent, SwarmupEvent } from './event-schema.ts';

export interface Task {
  title: string;
  run: () => Promise<void>;
}

/**
 * Progress output: JSON events (one per line), or for people the lines of src/playbook/progress-*.ts. Every string
 * passes through `redact` on its way out.
 */
export interface Reporter {
  readonly json: boolean;
  emit(e: SwarmupEvent): void;
  info(message: string): void;
  /** `--verbose`: a remote command or Docker API call made on `host` (only called when asked for). */
  trace(host: string, line: string): void;
  /** Run tasks under a titled step, concurrently or one by one; every failure is collected, then thrown. */
  tasks(step: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void>;
}

/** What a renderer is told while a step runs: each task starts and ends; the step ends. */
export interface StepHooks {
  taskStarted?(index: number): void;
  taskEnded(index: number, error?: unknown): void;
  stepEnded(failed: boolean): void;
}

/**
 * Run a step's tasks (concurrently, or one by one stopping at the first failure), telling `hooks` as they go.
 * After Ctrl-C nothing new starts. Every failure is collected, then thrown as one.
 */
export async function runTasks(
  tasks: Task[],
  opts: { concurrent: boolean },
  hooks: StepHooks,
): Promise<void> {
  const errors: unknown[] = [];
  const runOne = async (t: Task, i: number) => {
    try {
      checkInterrupted();
      hooks.taskStarted?.(i);
      await t.run();
      hooks.taskEnded(i);
    } catch (err) {
      errors.push(err);
      hooks.taskEnded(i, err);
      if (!opts.concurrent) throw err;
    }
  };
  try {
    if (opts.concurrent) await Promise.all(tasks.map(runOne));
    else for (const [i, t] of tasks.entries()) await runOne(t, i);
  } catch {
    // collected below
  }
  hooks.stepEnded(errors.length > 0);
  if (errors.length > 0) throw combineErrors(errors);
}

export class JsonReporter implements Reporter {
  readonly json = true;
  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}

  emit(e: SwarmupEvent): void {
    this.out(redact(JSON.stringify(e)));
  }

  info(message: string): void {
    this.emit({ event: 'log', message });
  }

  trace(host: string, line: string): void {
    this.emit({ event: 'log', host, message: line });
  }

  tasks(step: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    const started = Date.now();
    this.emit({ event: 'step', step, status: 'start', hosts: tasks.map((t) => t.title) });
    return runTasks(tasks, opts, {
      taskEnded: (i, err) =>
        this.emit({
          event: 'task',
          step,
          task: tasks[i]!.title,
          status: err ? 'failed' : 'ok',
          ...(err ? { error: (err as Error).message } : {}),
        }),
      stepEnded: (failed) =>
        this.emit({
          event: 'step',
          step,
          status: failed ? 'failed' : 'ok',
          durationMs: Date.now() - started,
        }),
    });
  }
}
