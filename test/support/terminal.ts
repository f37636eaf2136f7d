import { resolve } from 'node:path';
import { execa } from 'execa';
import { quote } from '../../src/transport/quote.ts';
import { childEnv } from './cli.ts';
import { waitUntil } from './wait.ts';

const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * swarmup in a real terminal (a detached tmux session): started with its own working folder and environment
 * (env -i: nothing of the caller's leaks in), keys typed, the screen read. close() ends the session.
 */
export class Terminal {
  private readonly session = `swarmup-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(
    readonly cwd: string,
    readonly env: Record<string, string>,
  ) {}

  async start(args: string): Promise<void> {
    const vars = Object.entries(childEnv(this.env))
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `${k}='${v.replace(/'/g, "'\\''")}'`)
      .join(' ');
    // The whole environment is given (env -i): no AWS_* variable of the caller reaches the wizard.
    const shell = `env -i ${vars} ${process.execPath} ${BIN} ${args}; echo "EXIT=$?"; sleep 300`;
    await execa('tmux', [
      'new-session',
      '-d',
      '-s',
      this.session,
      '-x',
      '250',
      '-y',
      '60',
      '-c',
      this.cwd,
      shell,
    ]);
  }

  /** The screen and its scrollback, wrapped lines joined; with `escapes`, colours and attributes as escapes. */
  async screen(opts: { escapes?: boolean } = {}): Promise<string> {
    const args = [
      'capture-pane',
      '-p',
      '-J',
      ...(opts.escapes ? ['-e'] : []),
      '-t',
      this.session,
      '-S',
      '-500',
    ];
    return String((await execa('tmux', args)).stdout);
  }

  /** Wait until the screen shows `pattern` (a question is shown as "? <question>", answered ones as "✔"). */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const text = await this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`the terminal never showed ${pattern}; it shows:\n${text}`);
      await sleep(100);
    }
  }

  /** Wait for the question, then answer it: `text` typed over the default (blank: Enter takes the default). */
  async answer(question: string, text = ''): Promise<void> {
    await this.waitFor(new RegExp(`^\\? ${question}`, 'm'));
    const before = (await this.screen()).split('\n').filter((l) => l.startsWith('✔')).length;
    if (text) {
      await this.keys('C-u');
      await this.type(text);
    }
    await this.keys('Enter');
    // Answered when one more line is ticked, or a refusal ("> ...") is shown.
    const until = Date.now() + 30_000;
    for (;;) {
      const s = await this.screen();
      if (s.split('\n').filter((l) => l.startsWith('✔')).length > before || /^> /m.test(s)) return;
      if (Date.now() > until) throw new Error(`no answer was taken for "${question}"; the screen:\n${s}`);
      await sleep(100);
    }
  }

  /** Move down a select list `n` times and take that choice. */
  async choose(question: string, down: number): Promise<void> {
    await this.waitFor(new RegExp(`^\\? ${question}`, 'm'));
    for (let i = 0; i < down; i++) await this.keys('Down');
    await this.keys('Enter');
    await this.waitFor(new RegExp(`^✔ ${question}`, 'm'));
  }

  /** Keys by tmux name (Enter, Down, C-c). */
  async keys(...keys: string[]): Promise<void> {
    await execa('tmux', ['send-keys', '-t', this.session, ...keys]);
  }

  /** Text typed as is. */
  async type(text: string): Promise<void> {
    await execa('tmux', ['send-keys', '-t', this.session, '-l', text]);
  }

  async exit(): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/EXIT=\d+/, 60_000);
    return { code: Number(/EXIT=(\d+)/.exec(screen)![1]), screen };
  }

  async close(): Promise<void> {
    await execa('tmux', ['kill-session', '-t', this.session], { reject: false });
  }
}

/**
 * Run swarmup in a real terminal (tmux), wait for its [y/N] question, answer `answer`, and return the screen and the
 * exit code. `env` is set on the command itself (a tmux server already running would not pass this process's).
 */
export async function inTerminal(
  args: string,
  answer: string,
  env: Record<string, string>,
): Promise<{ screen: string; exit: number; asked: string }> {
  const session = `swarmup-${process.pid}-${Date.now()}`;
  const vars = Object.entries(env)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(' ');
  const shell = `env ${vars} ${process.execPath} ${BIN} ${args}; echo "EXIT=$?"; sleep 120`;
  await execa('tmux', ['new-session', '-d', '-s', session, '-x', '220', '-y', '50', shell]);
  const screen = async () =>
    String((await execa('tmux', ['capture-pane', '-p', '-J', '-t', session, '-S', '-200'])).stdout);
  /** The screen once it shows `pattern`; throws naming what never came, with the screen, after `ms`. */
  const shown = (what: string, pattern: RegExp, ms: number) =>
    waitUntil(
      `swarmup ${args} in a terminal: ${what}`,
      ms,
      async (seen) => {
        const text = await screen();
        seen(`the screen:\n${text.trimEnd()}`);
        return pattern.test(text) ? text : undefined;
      },
      200,
    );
  try {
    const asked = await shown('the [y/N] question', /\[y\/N\]/, 30_000);
    await execa('tmux', ['send-keys', '-t', session, answer, 'Enter']);
    const text = await shown(`its exit after the answer "${answer}"`, /EXIT=\d+/, 60_000);
    return { screen: text, exit: Number(/EXIT=(\d+)/.exec(text)![1]), asked };
  } finally {
    await execa('tmux', ['kill-session', '-t', session], { reject: false });
  }
}
