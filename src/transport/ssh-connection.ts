import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import type { Duplex, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { Client, type ConnectConfig } from 'ssh2';
import { errorMessage, InputError, SshConnectError, StepError } from '../errors.ts';
import { EngineStreams } from './engine-stream.ts';
import { Semaphore } from './semaphore.ts';
import { destinationOf, type HandshakeGate } from './handshake-gate.ts';
import { hostPattern, type KnownHostsFile } from './known-hosts.ts';
import { CommandError, execSession, type ExecResult, type SessionOptions } from './ssh-exec.ts';
import { traceOfCommand, type Trace } from './trace.ts';

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
  /** Handshakes in flight at once, per destination and in all (handshake-gate.ts); given by the pool. */
  handshakes?: HandshakeGate;
  /** `--verbose`: told each command line run and each Engine API call made (method and path, no body). */
  trace?: Trace;
}

/**
 * One SSH connection to one host, reused for every command and for the Docker Engine API (HTTP over channels of
 * the same connection: stream-local forwarding of the engine's socket, or `docker system dial-stdio` where the
 * server forbids forwarding). The engine is never exposed over TCP.
 */
export class SshConnection {
  private dockerClient?: Docker;
  private readonly engine: EngineStreams;
  private closed = false;
  /** Settles once the connection's socket is closed, whoever closed it. */
  readonly ended: Promise<void>;

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
    this.ended = new Promise((resolve) => client.once('close', () => resolve()));
    this.engine = new EngineStreams(client, target.name, trace);
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
    // The jump host's connection is had before this host's turn: it is gated as a destination of its own.
    const via = target.jump
      ? await (opts.openJump ?? ((j) => SshConnection.connect(j, { ...opts, retryForMs: 0 })))(target.jump)
      : undefined;
    // From the TCP connection (which the target's sshd counts from its accept) until authenticated.
    const open = async (): Promise<SshConnection> =>
      SshConnection.handshake(
        target,
        opts,
        via ? await via.forwardOut(target.address, target.port) : undefined,
      );
    return opts.handshakes ? opts.handshakes.run(destinationOf(target), open) : open();
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
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(answerDeadline);
        client.end();
        reject(hostKeyError ?? err);
      };
      let answerDeadline: NodeJS.Timeout | undefined;
      client
        .once('ready', () => {
          // sshd counts a connection against its MaxStartups until its monitor has taken over after the login,
          // which it does after sending USERAUTH_SUCCESS (seen: 8 logins at a time, sshd dropped connections). An
          // answer to one request comes from the session's process, after that: only then is the handshake done.
          // The request: cancel a remote forwarding never asked for (answered "failure", it changes nothing).
          answerDeadline = setTimeout(
            () => fail(new Error('no answer to a request after the login')),
            opts.readyTimeoutMs ?? 15_000,
          );
          client.unforwardIn('127.0.0.1', 0, () => {
            if (settled) return;
            settled = true;
            clearTimeout(answerDeadline);
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
          });
        })
        // ssh2 may emit more than one error for one failed attempt: the first one decides, the rest are dropped.
        .on('error', fail)
        .once('close', () => fail(new Error('Connection lost before handshake')))
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
    return execSession(this.client, this.name, command, opts, opts.deadlineMs ?? this.deadlines.commandMs);
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

  /** The Docker Engine API of this host, over this connection (engine-stream.ts). */
  get docker(): Docker {
    this.dockerClient ??= this.engine.dockerClient(this.deadlines.apiMs);
    return this.dockerClient;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.destroy();
    // Politely first: SSH's disconnect message and the end of our side. The far end closes its side when it gets to
    // it: seconds on a host busy right after a bootstrap, never on a frozen one (until the keepalive gives up, 15 s),
    // and the command would wait for that to exit. The work is done: a moment later the socket is dropped. (ssh2's
    // destroy() does nothing to a socket end() has half-closed, hence the socket itself, ssh2's `_sock`.)
    const sock = (this.client as unknown as { _sock?: { destroy(): void } })._sock;
    this.client.end();
    setTimeout(() => sock?.destroy(), 50).unref();
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
