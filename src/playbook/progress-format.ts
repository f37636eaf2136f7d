import { redact } from '../redact.ts';

/**
 * The lines of human progress output, as pure functions of what ran and when (no clock, no terminal): a step is
 * one line with its elapsed time (` ✓ create and start machines (2)  2.1s`), its running tasks are lines under it
 * while it runs, a failed task is ` ✗ host: step: cause`. Colour only when asked; every text is redacted.
 */

export interface Style {
  color: boolean;
}

/** Where a task is: not started (serial steps), running since `startedAt`, or done at `endedAt`. */
export interface TaskState {
  title: string;
  startedAt?: number;
  endedAt?: number;
  error?: string;
}

export interface StepState {
  title: string;
  startedAt: number;
  endedAt?: number;
  failed?: boolean;
  tasks: TaskState[];
}

const SGR = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;
const RESET: Record<keyof typeof SGR, number> = { green: 39, red: 39, yellow: 39, dim: 22, bold: 22 };

export function paint(style: Style, colour: keyof typeof SGR, text: string): string {
  return style.color ? `\x1b[${SGR[colour]}m${text}\x1b[${RESET[colour]}m` : text;
}

/** `2.1s`: tenths of a second, as kind prints them. */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A step's title with its task count when there is more than one: `join workers (4)`. */
export function stepTitle(step: Pick<StepState, 'title' | 'tasks'>): string {
  return redact(step.tasks.length > 1 ? `${step.title} (${step.tasks.length})` : step.title);
}

/** A failure's message as lines under its mark: the first names host, step and cause; the rest are its output. */
function failureLines(style: Style, indent: string, message: string): string[] {
  const [first = '', ...rest] = redact(message).split('\n');
  return [
    `${indent}${paint(style, 'red', '✗')} ${first}`,
    ...rest.filter((l) => l.trim() !== '').map((l) => `${indent}    ${l}`),
  ];
}

/** What stays on screen once a step is over: its line, then one line per failed task. */
export function finishedStep(style: Style, step: StepState): string[] {
  const ms = (step.endedAt ?? step.startedAt) - step.startedAt;
  const mark = step.failed ? paint(style, 'red', '✗') : paint(style, 'green', '✓');
  const lines = [` ${mark} ${stepTitle(step)}  ${paint(style, 'dim', seconds(ms))}`];
  for (const t of step.tasks) if (t.error !== undefined) lines.push(...failureLines(style, '   ', t.error));
  return lines;
}

/** Cut a line of plain text to the terminal's width (a wrapped line would break redrawing). */
export function fit(text: string, columns: number): string {
  const chars = [...text];
  return chars.length <= columns ? text : chars.slice(0, Math.max(1, columns - 1)).join('') + '…';
}

/**
 * The live part of the screen: every running step with its elapsed time, and under it its tasks (running ones
 * with a spinner and their own elapsed time, finished ones ticked). At most `rows` lines, each within `columns`.
 */
export function liveLines(
  style: Style,
  steps: readonly StepState[],
  now: number,
  frame: number,
  size: { columns: number; rows: number },
): string[] {
  const spin = paint(style, 'yellow', SPINNER[frame % SPINNER.length]!);
  const width = Math.max(20, size.columns - 1);
  const lines: string[] = [];
  for (const step of steps) {
    const time = seconds(now - step.startedAt);
    lines.push(` ${spin} ${fit(stepTitle(step), width - time.length - 5)}  ${paint(style, 'dim', time)}`);
    if (step.tasks.length < 2) continue;
    for (const t of step.tasks) {
      if (t.startedAt === undefined) continue;
      const done = t.endedAt !== undefined;
      const mark = !done
        ? spin
        : t.error !== undefined
          ? paint(style, 'red', '✗')
          : paint(style, 'green', '✓');
      const taskTime = seconds((t.endedAt ?? now) - t.startedAt);
      const title = fit(redact(t.title), width - taskTime.length - 7);
      lines.push(`   ${mark} ${title}  ${paint(style, 'dim', taskTime)}`);
    }
  }
  const room = Math.max(1, size.rows - 1);
  if (lines.length <= room) return lines;
  return [...lines.slice(0, room - 1), paint(style, 'dim', `   … ${lines.length - room + 1} more`)];
}

/** Plain output (no terminal, or CI): every line starts with the time since the command started. */
export function plainLine(elapsedMs: number, text: string): string {
  return `${seconds(elapsedMs).padStart(7)}  ${redact(text)}`;
}

/** The plain lines of one event of a step. */
export const plain = {
  stepStarted: (step: StepState) => `${stepTitle(step)} ...`,
  taskEnded: (task: TaskState) => {
    const ms = (task.endedAt ?? 0) - (task.startedAt ?? task.endedAt ?? 0);
    return task.error !== undefined
      ? failureLines({ color: false }, '  ', task.error).join('\n')
      : `  ✓ ${task.title}  ${seconds(ms)}`;
  },
  stepEnded: (step: StepState) => finishedStep({ color: false }, step)[0]!,
};

/** A `--verbose` line: the host and what was run there (a command: `$ ...`, an API call: `> GET /path`). */
export function traceLine(host: string, line: string): string {
  return redact(`${host} ${line}`);
}

/**
 * Whether to colour: only on a terminal, never with NO_COLOR set (https://no-color.org: present and not empty) or
 * `--no-color`, nor with TERM=dumb.
 */
export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

/** Whether to draw live progress: on a terminal, and not in CI (whose logs keep every redraw). */
export function liveWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return isTTY && !ci && env.TERM !== 'dumb';
}
