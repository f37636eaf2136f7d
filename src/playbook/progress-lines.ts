import { redact } from '../redact.ts';
import { runTasks, type Reporter, type SwarmupEvent, type Task } from './events.ts';
import { plain, plainLine, traceLine, type StepState } from './progress-format.ts';

/**
 * Progress without a terminal (a pipe, a log file, CI): one plain line per event, each starting with the time
 * since the command started; nothing is redrawn and there is no escape code.
 */
export class PlainReporter implements Reporter {
  readonly json = false;
  private readonly started: number;

  constructor(
    private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
    private readonly err: (line: string) => void = (l) => process.stderr.write(l + '\n'),
    private readonly clock: () => number = Date.now,
  ) {
    this.started = clock();
  }

  private line(text: string, to = this.out): void {
    const at = this.clock() - this.started;
    for (const l of text.split('\n')) to(plainLine(at, l));
  }

  emit(e: SwarmupEvent): void {
    if (e.event === 'problem') this.line(`! ${e.host}: ${e.message}`, this.err);
    if (e.event === 'log') this.line(`${e.host ? `${e.host}: ` : ''}${e.message}`);
  }

  info(message: string): void {
    this.line(message);
  }

  trace(host: string, line: string): void {
    this.line(traceLine(host, line));
  }

  tasks(title: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    const step: StepState = { title, startedAt: this.clock(), tasks: tasks.map((t) => ({ title: t.title })) };
    this.line(plain.stepStarted(step));
    return runTasks(tasks, opts, {
      taskStarted: (i) => {
        step.tasks[i]!.startedAt = this.clock();
      },
      taskEnded: (i, err) => {
        const task = step.tasks[i]!;
        task.endedAt = this.clock();
        if (err) task.error = (err as Error).message || String(err);
        // A task of a one-task step is the step itself: its line is the step's, unless it failed.
        if (tasks.length > 1 || err) this.line(plain.taskEnded(task));
      },
      stepEnded: (failed) => {
        step.endedAt = this.clock();
        step.failed = failed;
        this.line(plain.stepEnded(step));
      },
    });
  }
}

/** `--quiet`: steps run without a word; only problems (stderr) are shown. The result is printed by the command. */
export class QuietReporter implements Reporter {
  readonly json = false;
  emit(e: SwarmupEvent): void {
    if (e.event === 'problem') process.stderr.write(redact(`! ${e.host}: ${e.message}\n`));
  }
  info(_message: string): void {}
  trace(_host: string, _line: string): void {}
  tasks(_title: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    return runTasks(tasks, opts, { taskEnded: () => undefined, stepEnded: () => undefined });
  }
}
