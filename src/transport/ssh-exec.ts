import type { Writable } from 'node:stream';
import type { Client } from 'ssh2';
import { StepError } from '../errors.ts';
import { redact } from '../redact.ts';

/** The outcome of one remote command: nothing is dropped, failing or not. */
export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  code: number;
}

/** A remote command that exited non-zero: the host, the command and both output streams are kept. */
export class CommandError extends Error {
  override name = 'CommandError';
  /** The command, its exit code and the last lines of its output, without the host. */
  readonly detail: string;
  constructor(
    readonly host: string,
    readonly result: ExecResult,
  ) {
    const out = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n');
    const detail = redact(`\`${result.command}\` exited ${result.code}${out ? `: ${out}` : ''}`);
    super(`${host}: ${detail}`);
    this.detail = detail;
  }
}

export interface SessionOptions {
  stdin?: string;
  onStdout?: (chunk: string) => void;
  /** stdout bytes go here instead of being collected. */
  sink?: Writable;
  deadlineMs?: number;
}

/**
 * One command in one session channel of the connection (host: its name in messages): its output collected (or
 * streamed to onStdout, or written to the sink with back-pressure), ended and named when it outlives deadlineMs.
 */
export function execSession(
  client: Client,
  host: string,
  command: string,
  opts: SessionOptions,
  deadlineMs: number,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(new StepError(host, command, err.message));
      // A command that outlives its deadline is ended (its channel closed) and named.
      const timer = setTimeout(() => {
        reject(
          new StepError(
            host,
            redact(command.split('\n')[0]!.slice(0, 120)),
            `did not finish within ${Math.round(deadlineMs / 1000)} s`,
          ),
        );
        stream.close();
      }, deadlineMs);
      timer.unref();
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      // A sink that fails or is destroyed (its file could not be written) ends the command at once: its channel
      // is closed, never left paused waiting for a 'drain' that cannot come.
      let sinkGone = false;
      opts.sink?.once('close', () => {
        if (code !== null) return;
        sinkGone = true;
        stream.close();
        stream.resume(); // what still arrives is dropped, so the channel can end
      });
      stream.on('data', (d: Buffer) => {
        if (sinkGone) return;
        if (opts.sink) {
          if (!opts.sink.write(d)) {
            stream.pause();
            opts.sink.once('drain', () => stream.resume());
          }
          return;
        }
        out.push(d);
        opts.onStdout?.(d.toString('utf8'));
      });
      stream.stderr.on('data', (d: Buffer) => errOut.push(d));
      stream.on('exit', (c: number | null, signal?: string) => {
        code = c ?? (signal ? 128 : 255);
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({
          command,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errOut).toString('utf8'),
          code: code ?? 255,
        });
      });
      stream.end(opts.stdin);
    });
  });
}
