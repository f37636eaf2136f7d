import type Docker from 'dockerode';
import { redact } from '../redact.ts';

/** `--verbose`: told each command line run on a host and each Engine API call made there. */
export type Trace = (host: string, line: string) => void;

/** A command as `--verbose` shows it: its first line (scripts are long), and whether it was given input. */
export function traceOfCommand(command: string, stdin?: string): string {
  const lines = command.split('\n');
  const more = lines.length > 1 ? ` (+${lines.length - 1} lines)` : '';
  const input = stdin !== undefined ? ` < input (${Buffer.byteLength(stdin)} bytes)` : '';
  return redact(`$ ${lines[0]!.trim()}${more}${input}`);
}

/** Each Engine API call is told as `> METHOD /path` (no query, no body: a join token travels in a body). */
export function traceApiCalls(docker: Docker, trace: (line: string) => void): void {
  type Dial = (options: { method?: string; path?: string }, callback: unknown) => unknown;
  const modem = docker.modem as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    trace(redact(`> ${options.method ?? 'GET'} ${(options.path ?? '').split('?')[0]}`));
    return dial(options, callback);
  };
}
