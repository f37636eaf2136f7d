import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import Docker from 'dockerode';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { errorMessage, InputError, SshConnectError, StepError } from '../errors.ts';
import { redact } from '../redact.ts';
import { socketLike } from './channel-socket.ts';
import { withApiDeadline } from './deadline.ts';
import { Semaphore } from './semaphore.ts';
import { hostPattern, type KnownHostsFile } from './known-hosts.ts';
import { traceApiCalls, traceOfCommand, type Trace } from './trace.ts';

/** The outcome of one remote command: nothing is dropped, failing or not. */
export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  code: number;
}

export interface SshTarget {
  /** Inventory name, used in every message. */
  name: string;
  address: string;
  port: number;
  user: string;
  privateKey?: string;
  /** Reach the host through this one (a bastion / jump host), as `ssh -J` does. */
  jump?: SshTarget;
  /**
   * The name its host key is pinned under, instead of address:port (ssh's HostKeyAlias): for machines whose SSH
   * port changes when they restart (node containers publish sshd on an ephemeral port).
   */
  hostKeyAlias?: string;
}

export interface ConnectOptions {
  knownHosts: KnownHostsFile;
  /** Retry refused/reset connections for this long (a machine still booting). 0: one attempt. */
  retryForMs?: number;
  readyTimeoutMs?: number;
  /** Deadline of each Engine API call (default 60 s; `--timeout`). */
  apiDeadlineMs?: number;
  /** Deadline of a remote command unless the call gives its own (default 20 minutes: package installs). */
  commandDeadlineMs?: number;
  /** The (shared) connection to a jump host; given by the pool. */
  openJump?: (jump: SshTarget) => Promise<SshConnection>;
  /** `--verbose`: told each command line run and each Engine API call made (method and path, no body). */
  trace?: Trace;
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

interface SessionOptions {
  stdin?: string;
  onStdout?: (chunk: string) => void;
  /** stdout bytes go here instead of being collected. */
  sink?: Writable;
  deadlineMs?: number;
}

const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * One SSH connection to one host, reused for every command and for the Docker Engine API (HTTP over channels of
 * the same connection: stream-local forwarding of the engine's socket, or `docker system dial-stdio` where the
 * server forbids forwarding). The engine is never exposed over TCP.
 */
export class SshConnection {
  private dockerClient?: Docker;
  private agent?: http.Agent;
  /**
   * How this connection reaches the engine, learnt from the first stream that worked: stream-local forwarding of
   * its socket, or (where that fails but the docker CLI's bridge answers) `docker system dial-stdio`. A failure is
   * never latched: an engine that is stopped or still starting fails both, and is reached the usual way once it runs.
   */
  private dockerPath: 'unknown' | 'forward' | 'dial-stdio' = 'unknown';
  private closed = false;

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly deadlines: { apiMs: number; commandMs: number } = {
      apiMs: 60_000,
      commandMs: 1_200_000,
    },
    private readonly trace?: Trace,
  ) {
    client.on('error', () => undefined); // errors after connect surface on the channel that failed
  }

  static async connect(target: SshTarget, opts: ConnectOptions): Promise<SshConnection> {
    const deadline = Date.now() + (opts.retryForMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      try {
        return await SshConnection.connectOnce(target, opts);
      } catch (err) {
        const retriable = !(err instanceof InputError) && isTransient(err);
        if (!retriable || Date.now() + 100 > deadline) {
          if (err instanceof InputError || err instanceof StepError) throw err;
          throw new SshConnectError(
            target.name,
            `${target.user}@${target.address}:${target.port}: ${errorMessage(err)}`,
            {
              user: target.user,
              address: target.address,
              port: target.port,
              ...(target.privateKey ? { privateKey: target.privateKey } : {}),
            },
          );
        }
        await sleep(Math.min(50 * 2 ** attempt, 250));
      }
    }
  }

  private static async connectOnce(target: SshTarget, opts: ConnectOptions): Promise<SshConnection> {
    let sock: Duplex | undefined;
    if (target.jump) {
      const via = await (opts.openJump ?? ((j) => SshConnection.connect(j, { ...opts, retryForMs: 0 })))(
        target.jump,
      );
      sock = await via.forwardOut(target.address, target.port);
    }
    return SshConnection.handshake(target, opts, sock);
  }

  private static handshake(
    target: SshTarget,
    opts: ConnectOptions,
    sock: Duplex | undefined,
  ): Promise<SshConnection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyError: Error | undefined;
      const pattern = target.hostKeyAlias ?? hostPattern(target.address, target.port);
      const config: ConnectConfig = {
        host: target.address,
        port: target.port,
        username: target.user,
        readyTimeout: opts.readyTimeoutMs ?? 15_000,
        ...(sock ? { sock } : {}),
        // A dead peer (a machine gone, a cut network) is noticed in about 15 s, not at the next TCP timeout.
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          try {
            opts.knownHosts.verify(
              target.name,
              pattern,
              key,
              target.hostKeyAlias ? hostPattern(target.address, target.port) : undefined,
            );
            return true;
          } catch (err) {
            hostKeyError = err as Error;
            return false;
          }
        },
      };
      if (target.privateKey) {
        try {
          config.privateKey = readFileSync(target.privateKey);
        } catch (err) {
          reject(
            new InputError(
              `${target.name}: cannot read private key ${target.privateKey}: ${(err as NodeJS.ErrnoException).code ?? err}`,
            ),
          );
          return;
        }
      } else if (process.env.SSH_AUTH_SOCK) {
        config.agent = process.env.SSH_AUTH_SOCK;
      } else {
        reject(
          new InputError(`${target.name}: no privateKey given and no ssh-agent (SSH_AUTH_SOCK is not set)`),
        );
        return;
      }
      let settled = false;
      client
        .once('ready', () => {
          settled = true;
          resolve(
            new SshConnection(
              target,
              client,
              {
                apiMs: opts.apiDeadlineMs ?? 60_000,
                commandMs: opts.commandDeadlineMs ?? 1_200_000,
              },
              opts.trace,
            ),
          );
        })
        // ssh2 may emit more than one error for one failed attempt: the first one decides, the rest are dropped.
        .on('error', (err) => {
          if (settled) return;
          settled = true;
          client.end();
          reject(hostKeyError ?? err);
        })
        .connect(config);
    });
  }

  get name(): string {
    return this.target.name;
  }

  /** Run a command; resolves with its output and exit code whatever the code (see `run` for the throwing form). */
  exec(command: string, opts: { stdin?: string; deadlineMs?: number } = {}): Promise<ExecResult> {
    return this.channel(command, opts);
  }

  /** Like exec, and hands stdout to `onStdout` as it arrives (for commands that report progress). */
  execStreaming(
    command: string,
    onStdout: (chunk: string) => void,
    deadlineMs?: number,
  ): Promise<ExecResult> {
    return this.channel(command, { onStdout, ...(deadlineMs ? { deadlineMs } : {}) });
  }

  /**
   * Run a command whose stdout is bytes (an archive): they go to `sink` as they arrive, with back-pressure, instead
   * of being collected; the result's stdout is empty. The caller ends the sink.
   */
  execToSink(command: string, sink: Writable, deadlineMs?: number): Promise<ExecResult> {
    return this.channel(command, { sink, ...(deadlineMs ? { deadlineMs } : {}) });
  }

  /**
   * OpenSSH allows MaxSessions (default 10) sessions per connection: commands beyond that many at once wait for a
   * free one instead of failing with "Channel open failure".
   */
  private readonly sessions = new Semaphore(6);

  private async channel(command: string, opts: SessionOptions): Promise<ExecResult> {
    await this.sessions.acquire();
    this.trace?.(this.name, traceOfCommand(command, opts.stdin));
    try {
      // sshd frees a session slot a moment after the channel closes: a refused open is retried briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.openSession(command, opts);
        } catch (err) {
          if (attempt >= 40 || !/Channel open failure/.test(errorMessage(err))) throw err;
          await sleep(25 + attempt * 10);
        }
      }
    } finally {
      this.sessions.release();
    }
  }

  private openSession(command: string, opts: SessionOptions): Promise<ExecResult> {
    const deadlineMs = opts.deadlineMs ?? this.deadlines.commandMs;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(new StepError(this.name, command, err.message));
        // A command that outlives its deadline is ended (its channel closed) and named.
        const timer = setTimeout(() => {
          reject(
            new StepError(
              this.name,
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

  /** Run a command and throw a CommandError (host, command, output) when it exits non-zero. */
  async run(command: string, opts: { stdin?: string; deadlineMs?: number } = {}): Promise<ExecResult> {
    const result = await this.exec(command, opts);
    if (result.code !== 0) throw new CommandError(this.name, result);
    return result;
  }

  /** A TCP connection from this host to another (this host as a jump host). */
  forwardOut(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) =>
      this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) =>
        err ? reject(err) : resolve(stream),
      ),
    );
  }

  /** The Docker Engine API of this host, over this connection. */
  get docker(): Docker {
    if (!this.dockerClient) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      (agent as unknown as { createConnection: unknown }).createConnection = (
        _opts: unknown,
        cb: (err: Error | null, socket?: Duplex) => void,
      ) => {
        this.openDockerStream().then(
          (s) => cb(null, s),
          (e: Error) => cb(e),
        );
      };
      this.agent = agent;
      const docker = new Docker({
        host: 'docker',
        port: 80,
        protocol: 'http',
        agent,
      } as Docker.DockerOptions);
      if (this.trace) traceApiCalls(docker, (line) => this.trace!(this.name, line));
      this.dockerClient = withApiDeadline(docker, this.deadlines.apiMs, `${this.name}: the Docker engine`);
    }
    return this.dockerClient;
  }

  private async openDockerStream(): Promise<Duplex> {
    let forwardError: string | undefined;
    if (this.dockerPath !== 'dial-stdio') {
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) =>
          this.client.openssh_forwardOutStreamLocal(DOCKER_SOCKET, (err, ch) =>
            err ? reject(err) : resolve(ch),
          ),
        );
        // sshd opened the socket: the engine listens there.
        this.dockerPath = 'forward';
        return socketLike(channel);
      } catch (err) {
        // OpenSSH answers "open failed" alike for a socket that is missing (engine stopped), one this user may not
        // open, and AllowStreamLocalForwarding=no: only the CLI's bridge can tell them apart.
        forwardError = errorMessage(err);
        if (this.dockerPath === 'forward')
          throw new Error(`the Docker engine does not answer on ${DOCKER_SOCKET} (${forwardError})`);
      }
    }
    return this.openDialStdio(forwardError);
  }

  /** `docker system dial-stdio` on the host: the docker CLI's own bridge to the engine. */
  private async openDialStdio(forwardError: string | undefined): Promise<Duplex> {
    this.trace?.(this.name, traceOfCommand('docker system dial-stdio'));
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      this.client.exec('docker system dial-stdio', (err, ch) => (err ? reject(err) : resolve(ch))),
    );
    // The engine answered through it: this host forbids forwarding (or the socket is the CLI's only way in).
    channel.once('data', () => {
      if (this.dockerPath === 'unknown') this.dockerPath = 'dial-stdio';
    });
    // The bridge says on stderr why it cannot reach the engine ("Cannot connect to the Docker daemon at ...
    // Is the docker daemon running?"): that line fails the request, not a bare "socket hang up".
    // (ssh2's channel.destroy() drops its argument: the error is emitted before the channel is closed.)
    let said = '';
    let failed = false;
    channel.stderr.on('data', (d: Buffer) => {
      said += d.toString('utf8');
      // Whole lines only; a CLI warning (a config file it cannot read) is not the engine failing.
      const line = said
        .split('\n')
        .slice(0, -1)
        .find((l) => l.trim() !== '' && !/^warning/i.test(l.trim()));
      if (!line || failed) return;
      failed = true;
      // Where the socket cannot be forwarded, the CLI's bridge is the only way in, and it needs the CLI.
      const cause = /docker: (command )?not found|docker: No such file/i.test(line)
        ? 'docker system dial-stdio needs the docker CLI on the host, which has none (install docker-cli, or allow ' +
          `stream-local forwarding in sshd: AllowStreamLocalForwarding yes)`
        : line.trim();
      const why = forwardError
        ? `${cause} (and forwarding ${DOCKER_SOCKET} over SSH failed: ${forwardError})`
        : cause;
      // Only to a listener (a request in flight): an error emitted to none would end the process.
      if (channel.listenerCount('error') > 0) channel.emit('error', new Error(why));
      channel.close();
    });
    return socketLike(channel);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.agent?.destroy();
    this.client.end();
    // The polite end waits for the server to close the connection, which a host busy right after a bootstrap
    // takes half a second to do; the work is done, so the command does not wait for more than a moment.
    setTimeout(() => this.client.destroy(), 50).unref();
  }
}

function isTransient(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const msg = errorMessage(err);
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
    /Connection lost before handshake|Timed out while waiting for handshake|ECONNRESET/.test(msg) ||
    // Through a jump host: the target's sshd does not listen yet.
    /Channel open failure: (Connection refused|connect failed|open failed)/.test(msg)
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
