import { execFile } from 'node:child_process';

export interface ToolResult {
  /** The exit code; undefined when the program could not be started or was killed (deadline). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Run a local program (the docker CLI, ps) with a deadline and collect its output; never throws. Node's own
 * execFile rather than execa: these run on every `up` and `down`, and loading execa costs ~65 ms of start-up.
 */
export function runTool(file: string, args: string[], timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : undefined) : 0;
        resolve({
          exitCode: code,
          stdout: String(stdout),
          stderr: String(stderr || (err && code === undefined ? err.message : '')),
        });
      },
    );
    child.stdin?.end();
  });
}
