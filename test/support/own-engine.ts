import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A Docker engine of the test's own, beside the machine's: its own socket, data, runtime state and containerd, and
 * a default bridge of its own (`--bridge none` is no choice here: a dockerd started with it deletes the host's
 * docker0, the machine engine's bridge). A test that stops and starts "the engine hosting the node containers"
 * (what a reboot or an engine upgrade does) does it to this one, never to the engine the rest of the suite runs on.
 */
export class OwnEngine {
  readonly socket: string;
  private readonly args: string[];
  private readonly log: string;

  /** The bridge it uses as its default one, made by start() and removed by destroy(). */
  private readonly bridge = `swu${process.pid % 100000}`;

  constructor(readonly dir: string) {
    this.socket = join(dir, 'docker.sock');
    this.log = join(dir, 'dockerd.log');
    this.args = [
      '--host',
      `unix://${this.socket}`,
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '--bridge',
      this.bridge,
    ];
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  /** The docker CLI against this engine. */
  docker(args: string[], input?: string): Promise<string> {
    return execa('docker', args, {
      env: { DOCKER_HOST: this.host },
      ...(input !== undefined ? { input } : {}),
    }).then((r) => String(r.stdout).trim());
  }

  /** Start dockerd detached (it outlives this process only until stop()), and wait until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // Its default bridge, on an address block of the test's own (RFC 2544's benchmarking range, routed nowhere).
    const made = await execa('ip', ['link', 'show', this.bridge], { reject: false });
    if (made.exitCode !== 0) {
      await execa('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      await execa('ip', ['addr', 'add', `${await unusedBlock()}.1/24`, 'dev', this.bridge]);
      await execa('ip', ['link', 'set', this.bridge, 'up']);
    }
    const out = openSync(this.log, 'a');
    const child = spawn('dockerd', this.args, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
        env: { DOCKER_HOST: this.host },
        reject: false,
      });
      if (r.exitCode === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `the test's own dockerd did not answer within ${timeoutMs / 1000} s:\n${this.tail()}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stop dockerd as an init system does (SIGTERM), and wait until the process is gone. */
  async stop(timeoutMs = 90_000): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dir, 'docker.pid'), 'utf8').trim());
    } catch {
      return;
    }
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      if (Date.now() > deadline)
        throw new Error(`the test's own dockerd (${pid}) did not stop within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Copy an image from the machine's engine into this one (no registry answers here). */
  async loadImage(image: string): Promise<void> {
    await execa('sh', ['-c', 'docker save "$1" | DOCKER_HOST="$2" docker load', 'sh', image, this.host]);
  }

  /** Stop the engine and remove everything it kept. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    await execa('ip', ['link', 'delete', this.bridge], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private tail(): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * A /24 of 198.18.0.0/16 that no route of this machine covers yet: two runs (two test projects, two CI jobs) each
 * starting an engine of their own must not put the same block on two bridges. The search starts at a place of this
 * process's own, so runs that start together try different blocks first.
 */
async function unusedBlock(): Promise<string> {
  const routes = String((await execa('ip', ['-4', 'route', 'show'])).stdout);
  const used = new Set([...routes.matchAll(/^198\.18\.(\d+)\./gm)].map((m) => Number(m[1])));
  for (let i = 0; i < 250; i++) {
    const third = 1 + ((process.pid + i) % 250);
    if (!used.has(third)) return `198.18.${third}`;
  }
  throw new Error("no /24 of 198.18.0.0/16 is free on this machine for the test engine's bridge");
}
