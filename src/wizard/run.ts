import { existsSync, writeFileSync } from 'node:fs';
import { confirm, input } from '@inquirer/prompts';
import { errorMessage, ExitCode } from '../errors.ts';
import { askConfig } from './questions.ts';
import { renderConfig } from './render.ts';

export interface WizardOutcome {
  code: number;
  /** The file written, when the operator asked to run `up` with it. */
  upWith?: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const fail = (line: string) => process.stderr.write(`swarmup: ${line}\n`);

/**
 * `swarmup wizard`: questions → a commented config file → optionally `up` (run by the caller, as `up --config`).
 * Until the file is written nothing is: Ctrl-C (ExitPromptError from a prompt, SIGINT between prompts) ends it
 * with exit 130 and no file, no state.
 */
export async function wizard(): Promise<WizardOutcome> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    fail('the wizard needs a terminal; write a config file, see docs/config.md ("Config / inventory file")');
    return { code: ExitCode.badInput };
  }
  let written: string | undefined;
  const stopped = () =>
    written
      ? `wizard stopped; ${written} was written, nothing else was done`
      : 'wizard stopped; nothing was written';
  // Between prompts (an SSH login under way) Ctrl-C is a signal, not a key.
  const onSignal = () => {
    process.stdout.write('\n');
    fail(stopped());
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  try {
    say('swarmup wizard: a few questions, then a config file you can read and edit. Ctrl-C stops.');
    const { config, knownHosts } = await askConfig(say);
    const file = await askPathAndWrite((f) => renderConfig(config, f));
    written = file;
    // The machines checked are the ones `up` will trust: their host keys are pinned now, not before.
    knownHosts?.commit();
    say(`Wrote ${file}. See what up would do: swarmup plan --config ${file}`);
    const go = await confirm({ message: `Run swarmup up --config ${file} now?`, default: false });
    return { code: ExitCode.ok, ...(go ? { upWith: file } : {}) };
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') {
      fail(stopped());
      return { code: 130 };
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Ask where to write; an existing file is replaced only when the operator says so. Returns the path written. */
async function askPathAndWrite(text: (file: string) => string): Promise<string> {
  let fallback = './swarmup.yaml';
  for (;;) {
    const file = (
      await input({
        message: 'Write the config to',
        default: fallback,
        validate: (v) => (v.trim() ? true : 'a file name, e.g. ./swarmup.yaml'),
      })
    ).trim();
    fallback = file;
    const exists = existsSync(file);
    if (exists && !(await confirm({ message: `${file} exists. Replace it?`, default: false }))) continue;
    try {
      writeFileSync(file, text(file), { flag: exists ? 'w' : 'wx' });
      return file;
    } catch (err) {
      say(`  cannot write ${file}: ${errorMessage(err)}`);
    }
  }
}
