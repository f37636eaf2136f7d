import { errorMessage, StepError } from '../../errors.ts';
import { CALL_TIMEOUT_MS, installHint } from './commands.ts';

export interface MultipassResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Run `multipass ARGS` (found on PATH) with a deadline; resolves with its exit code and output, whatever the code.
 * Multipass not installed: a StepError saying how to install it on this OS.
 */
export async function multipass(
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<MultipassResult> {
  const { execa } = await import('execa');
  try {
    const r = await execa('multipass', args, {
      reject: false,
      timeout: opts.timeoutMs ?? CALL_TIMEOUT_MS,
      forceKillAfterDelay: 5_000,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
    });
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.originalMessage ?? '')))
      throw notInstalled();
    return {
      code: r.exitCode ?? (r.timedOut ? 124 : 1),
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      timedOut: !!r.timedOut,
    };
  } catch (err) {
    if (err instanceof StepError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notInstalled();
    throw new StepError('local', `multipass ${args[0]}`, errorMessage(err));
  }
}

function notInstalled(): StepError {
  return new StepError(
    'local',
    'find multipass',
    `the multipass command is not on PATH: ${installHint(process.platform)}`,
  );
}

/** Run and require exit 0: a StepError naming the node (or `local`), the step and Multipass's words otherwise. */
export async function multipassOk(
  host: string,
  step: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<string> {
  const r = await multipass(args, opts);
  if (r.code !== 0) {
    const why = r.timedOut
      ? `no answer within ${Math.round((opts.timeoutMs ?? CALL_TIMEOUT_MS) / 1000)} s`
      : (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ') || `exited ${r.code}`;
    throw new StepError(host, step, why);
  }
  return r.stdout;
}
