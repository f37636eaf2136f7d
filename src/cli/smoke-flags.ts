import { InputError } from '../errors.ts';

export interface SmokeFlags {
  smoke?: boolean;
  smokeTimeout?: string;
  smokePort?: string;
}

/** `--smoke`, `--smoke-timeout <seconds>` and `--smoke-port <port>` as smoke options; undefined without --smoke. */
export function smokeOptions(flags: SmokeFlags): { deadlineMs: number; port?: number } | undefined {
  if (!flags.smoke) {
    const stray =
      flags.smokeTimeout !== undefined
        ? '--smoke-timeout'
        : flags.smokePort !== undefined
          ? '--smoke-port'
          : '';
    if (stray) throw new InputError(`${stray} is for the smoke test: give --smoke too`);
    return undefined;
  }
  const seconds = flags.smokeTimeout === undefined ? 60 : Number(flags.smokeTimeout);
  if (!Number.isInteger(seconds) || seconds < 10 || seconds > 3600)
    throw new InputError(
      `--smoke-timeout: "${flags.smokeTimeout}" is not a whole number of seconds from 10 to 3600`,
    );
  if (flags.smokePort === undefined) return { deadlineMs: seconds * 1000 };
  const port = Number(flags.smokePort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputError(`--smoke-port: "${flags.smokePort}" is not a TCP port (1-65535)`);
  return { deadlineMs: seconds * 1000, port };
}
