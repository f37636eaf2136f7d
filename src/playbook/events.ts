import type { ListrTask } from 'listr2';
import { combineErrors } from '../errors.ts';
import { checkInterrupted } from './interrupt.ts';
import { redact } from '../redact.ts';
import type { NodeRow } from '../swarm/verify.ts';

/** What `--json` prints, one object per line; the human renderer shows the same facts. */
export type SwarmupEvent =
  | {
      event: 'step';
      step: string;
      status: 'start' | 'ok' | 'failed';
      hosts?: string[];
      durationMs?: number;
      error?: string;
    }
  | { event: 'task'; step: string; task: string; status: 'ok' | 'failed'; error?: string }
  | { event: 'log'; host?: string; message: string }
  | { event: 'problem'; host: string; message: string }
  | { event: 'plan'; phases: unknown[]; problems: unknown[]; revised?: boolean; permissions?: unknown[] }
  | { event: 'action'; status: 'ok' | 'failed'; kind: string; description: string; [field: string]: unknown }
  | { event: 'error'; message: string; exitCode: number }
  | SmokeEvent
  | {
      event: 'summary';
      changes: number;
      durationMs: number;
      nodes: NodeRow[];
      ok: boolean;
      problems?: string[];
    };

/** The outcome of a smoke test (src/swarm/smoke.ts): counts, each failed connection, problems with likely ports. */
export interface SmokeEvent {
  event: 'smoke';
  ok: boolean;
  runId: string;
  durationMs: number;
  publishedPort: number;
  overlay: { checked: number; failed: number };
  published: { checked: number; failed: number };
  failures: Array<{ from: string; to: string; via: 'overlay' | 'published'; error: string }>;
  problems: string[];
}

export interface Task {
  title: string;
  run: () => Promise<void>;
}

/**
 * Progress output. Human: listr2 tasks (spinners on a TTY, plain lines otherwise). JSON: one event per line on
 * stdout. Every string passes through `redact` on its way out.
 */
export interface Reporter {
  readonly json: boolean;
  emit(e: SwarmupEvent): void;
  info(message: string): void;
  /** Run tasks under a titled step, concurrently or one by one; every failure is collected, then thrown. */
  tasks(step: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void>;
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

  async tasks(step: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    const started = Date.now();
    this.emit({ event: 'step', step, status: 'start', hosts: tasks.map((t) => t.title) });
    const errors: unknown[] = [];
    const runOne = async (t: Task) => {
      try {
        checkInterrupted(); // after Ctrl-C nothing new starts
        await t.run();
        this.emit({ event: 'task', step, task: t.title, status: 'ok' });
      } catch (err) {
        errors.push(err);
        this.emit({ event: 'task', step, task: t.title, status: 'failed', error: (err as Error).message });
        if (!opts.concurrent) throw err;
      }
    };
    try {
      if (opts.concurrent) await Promise.all(tasks.map(runOne));
      else for (const t of tasks) await runOne(t);
    } catch {
      // collected below
    }
    const failed = errors.length > 0;
    this.emit({ event: 'step', step, status: failed ? 'failed' : 'ok', durationMs: Date.now() - started });
    if (failed) throw combineErrors(errors);
  }
}

export class HumanReporter implements Reporter {
  readonly json = false;
  emit(e: SwarmupEvent): void {
    if (e.event === 'problem') process.stderr.write(redact(`! ${e.host}: ${e.message}\n`));
    if (e.event === 'log') process.stdout.write(redact(`${e.host ? `${e.host}: ` : ''}${e.message}\n`));
  }

  info(message: string): void {
    process.stdout.write(redact(message) + '\n');
  }

  async tasks(step: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    const errors: unknown[] = [];
    const sub: ListrTask[] = tasks.map((t) => ({
      title: t.title,
      task: async () => {
        try {
          checkInterrupted(); // after Ctrl-C nothing new starts
          await t.run();
        } catch (err) {
          errors.push(err);
          throw new Error(redact((err as Error).message));
        }
      },
    }));
    const { Listr } = await import('listr2'); // only for human output: JSON runs never load it
    const list = new Listr(
      [
        {
          title: step,
          task: (_ctx, task) =>
            task.newListr(sub, { concurrent: opts.concurrent, exitOnError: !opts.concurrent }),
        },
      ],
      {
        exitOnError: false,
        // Signals are swarmup's to handle (stop between steps), not the renderer's.
        registerSignalListeners: false,
        rendererOptions: { collapseErrors: false },
        fallbackRendererOptions: {},
      },
    );
    await list.run().catch(() => undefined);
    if (errors.length > 0) throw combineErrors(errors);
  }
}
