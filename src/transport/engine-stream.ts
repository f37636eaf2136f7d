import http from 'node:http';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { Client, ClientChannel } from 'ssh2';
import { errorMessage } from '../errors.ts';
import { socketLike } from './channel-socket.ts';
import { withApiDeadline } from './deadline.ts';
import { traceApiCalls, traceOfCommand, type Trace } from './trace.ts';

const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The Docker Engine API of one host over its SSH connection: HTTP over channels of that connection (stream-local
 * forwarding of the engine's socket, or `docker system dial-stdio` where the server forbids forwarding). The
 * engine is never exposed over TCP.
 */
export class EngineStreams {
  /**
   * How this connection reaches the engine, learnt from the first stream that worked: stream-local forwarding of
   * its socket, or (where that fails but the docker CLI's bridge answers) `docker system dial-stdio`. A failure is
   * never latched: an engine that is stopped or still starting fails both, and is reached the usual way once it runs.
   */
  private dockerPath: 'unknown' | 'forward' | 'dial-stdio' = 'unknown';
  private agent?: http.Agent;

  constructor(
    private readonly client: Client,
    /** The host's name, in messages and trace lines. */
    private readonly name: string,
    private readonly trace?: Trace,
  ) {}

  /** A Docker client whose every request opens a stream of its own (deadline apiMs on each call). */
  dockerClient(apiMs: number): Docker {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    (agent as unknown as { createConnection: unknown }).createConnection = (
      _opts: unknown,
      cb: (err: Error | null, socket?: Duplex) => void,
    ) => {
      this.open().then(
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
    return withApiDeadline(docker, apiMs, `${this.name}: the Docker engine`);
  }

  /** Its open sockets closed. */
  destroy(): void {
    this.agent?.destroy();
  }

  private async open(): Promise<Duplex> {
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
}
