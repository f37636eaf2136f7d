import { InputError } from '../errors.ts';

export interface DrainFlags {
  for?: boolean;
  commandTimeout?: string;
  drainTimeout?: string;
}

export interface DrainRequest {
  command?: string[];
  commandTimeoutMs?: number;
  drainTimeoutMs?: number;
}

function seconds(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InputError(`${flag}: "${value}" is not a whole number of seconds from 1 to ${max}`);
  return n * 1000;
}

/** `drain NODE [--for -- CMD...]`: the words after -- are the command, and only with --for. Pure. */
export function drainRequest(words: string[], flags: DrainFlags): DrainRequest {
  if (flags.for && words.length === 0)
    throw new InputError('--for needs the command after --: swarmup drain NODE --for -- CMD...');
  if (!flags.for && words.length > 0)
    throw new InputError(
      `"${words.join(' ')}": a command to run on the drained node is given with --for -- CMD...`,
    );
  if (!flags.for && flags.commandTimeout !== undefined)
    throw new InputError('--command-timeout is for the command of --for');
  const commandTimeoutMs = seconds('--command-timeout', flags.commandTimeout, 86_400);
  const drainTimeoutMs = seconds('--drain-timeout', flags.drainTimeout, 86_400);
  return {
    ...(flags.for ? { command: words } : {}),
    ...(commandTimeoutMs ? { commandTimeoutMs } : {}),
    ...(drainTimeoutMs ? { drainTimeoutMs } : {}),
  };
}
