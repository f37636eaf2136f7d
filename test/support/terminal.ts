import { resolve } from 'node:path';
import { execa } from 'execa';
import { quote } from '../../src/transport/quote.ts';

const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

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
  try {
    let asked = '';
    for (let i = 0; i < 150 && !/\[y\/N\]/.test((asked = await screen())); i++)
      await new Promise((r) => setTimeout(r, 200));
    await execa('tmux', ['send-keys', '-t', session, answer, 'Enter']);
    let text = '';
    for (let i = 0; i < 300 && !/EXIT=\d+/.test((text = await screen())); i++)
      await new Promise((r) => setTimeout(r, 200));
    return { screen: text, exit: Number(/EXIT=(\d+)/.exec(text)?.[1] ?? -1), asked };
  } finally {
    await execa('tmux', ['kill-session', '-t', session], { reject: false });
  }
}
