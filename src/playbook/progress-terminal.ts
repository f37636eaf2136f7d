import { redact } from '../redact.ts';
import { runTasks, type Reporter, type SwarmupEvent, type Task } from './events.ts';
import { finishedStep, liveLines, paint, traceLine, type StepState, type Style } from './progress-format.ts';

/** The one thing that writes to the terminal while steps run (steps may run at once: one live region for all). */
export interface Screen {
  write(text: string): void;
  readonly columns: number;
  readonly rows: number;
}

const stdoutScreen: Screen = {
  write: (t) => process.stdout.write(t),
  get columns() {
    return process.stdout.columns || 80;
  },
  get rows() {
    return process.stdout.rows || 24;
  },
};

/**
 * Live progress on a terminal, as kind prints it: a finished step is one line with its elapsed time; while steps
 * run, a region at the bottom shows each with its running tasks and spinners, redrawn ten times a second. Logs,
 * problems and failures are printed above the region and stay.
 */
export class TerminalReporter implements Reporter {
  readonly json = false;
  private readonly running: StepState[] = [];
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly failuresShown = new Set<string>();

  constructor(
    private readonly style: Style,
    private readonly screen: Screen = stdoutScreen,
    private readonly clock: () => number = Date.now,
  ) {}

  emit(e: SwarmupEvent): void {
    if (e.event === 'problem')
      this.print(`${paint(this.style, 'yellow', '!')} ${e.host}: ${e.message}`, true);
    if (e.event === 'log')
      this.print(paint(this.style, 'dim', `   ${e.host ? `${e.host}: ` : ''}${e.message}`));
  }

  info(message: string): void {
    this.print(message);
  }

  trace(host: string, line: string): void {
    this.print(paint(this.style, 'dim', `   ${traceLine(host, line)}`));
  }

  async tasks(title: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    const step: StepState = { title, startedAt: this.clock(), tasks: tasks.map((t) => ({ title: t.title })) };
    this.running.push(step);
    this.screen.write(this.erase() + this.draw());
    return runTasks(tasks, opts, {
      taskStarted: (i) => {
        step.tasks[i]!.startedAt = this.clock();
      },
      taskEnded: (i, err) => {
        step.tasks[i]!.endedAt = this.clock();
        if (err) step.tasks[i]!.error = (err as Error).message || String(err);
      },
      stepEnded: (failed) => {
        step.endedAt = this.clock();
        step.failed = failed;
        this.running.splice(this.running.indexOf(step), 1);
        // A failure that a nested step showed already is not repeated by the step around it.
        for (const t of step.tasks) {
          if (t.error === undefined) continue;
          const lines = t.error.split('\n');
          if (lines.every((l) => this.failuresShown.has(l))) delete t.error;
          for (const l of lines) this.failuresShown.add(l);
        }
        this.print(finishedStep(this.style, step).join('\n'));
      },
    });
  }

  /** Text above the live region: the region is erased, the text written, the region drawn again below it. */
  private print(text: string, toStderr = false): void {
    if (toStderr) {
      this.screen.write(this.erase());
      process.stderr.write(redact(text) + '\n');
      this.screen.write(this.draw());
    } else this.screen.write(this.erase() + redact(text) + '\n' + this.draw());
  }

  /**
   * Clear the lines drawn last, one by one going up (line erases: a clear-to-end-of-screen from the top row would
   * push the screen into tmux's scrollback).
   */
  private erase(): string {
    const up = '\x1b[1A\x1b[2K'.repeat(this.drawn) + (this.drawn > 0 ? '\r' : '');
    this.drawn = 0;
    return up;
  }

  private draw(): string {
    if (this.running.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return '';
    }
    const lines = liveLines(this.style, this.running, this.clock(), this.frame, this.screen);
    this.drawn = lines.length;
    this.timer ??= setInterval(() => {
      this.frame++;
      this.screen.write(this.erase() + this.draw());
    }, 100).unref();
    return lines.join('\n') + '\n';
  }
}
