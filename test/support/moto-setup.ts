import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    motoUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

/** A running moto server: its URL, and how to stop it. */
export interface Moto {
  url: string;
  stop(): void;
}

/**
 * moto's EC2/SSM emulator in server mode on a free loopback port: the stand-in for AWS (real AWS cannot be reached
 * from these machines). Tests reset it between cases with POST /moto-api/reset, so a file that resets it while
 * other files run at the same time (the e2e projects run two files at once) starts one of its own with this.
 */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  try {
    child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its request recorder (off until a test starts it) writes here, not into the working folder.
      env: {
        ...process.env,
        MOTO_RECORDER_FILEPATH: join(mkdtempSync(join(tmpdir(), 'moto-')), 'recording'),
      },
    });
  } catch (err) {
    throw new Error(`the EC2 tests need moto_server (moto's emulator) on PATH: ${(err as Error).message}`);
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, rej) => {
    child.once('exit', (code) => rej(new Error(`moto_server exited (${code}): ${stderr.slice(-500)}`)));
    // Not installed: spawn reports ENOENT as an event, at once: say so rather than wait for a server.
    child.once('error', (err) =>
      rej(
        new Error(
          `moto_server exited: the EC2 tests need moto's emulator (moto_server) on PATH: ${err.message}`,
        ),
      ),
    );
  });
  exited.catch(() => undefined); // observed by the race below; an exit after stop() is expected
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await Promise.race([fetch(`${url}/moto-api/`), exited]);
      if (r.status < 500) break;
    } catch (err) {
      if ((err as Error).message.startsWith('moto_server exited') || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer at ${url} within 30 s: ${stderr.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => void child.kill() };
}

/** The ec2 project's emulator: one for the project, whose files run one after another. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('motoUrl', moto.url);
  return async () => {
    moto.stop();
  };
}
