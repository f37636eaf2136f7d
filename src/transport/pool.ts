import { HandshakeGate } from './handshake-gate.ts';
import { SshConnection, type ConnectOptions, type SshTarget } from './ssh-connection.ts';

/**
 * One SSH connection per host, opened on first use and shared by every step that touches the host; handshakes in
 * flight bounded (handshake-gate.ts).
 */
export class ConnectionPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();
  /**
   * Jump hosts, one connection each, shared by every host behind them: the promise is kept before its handshake
   * starts, so hosts that ask at once while it is being opened all wait for that one.
   */
  private readonly jumps = new Map<string, Promise<SshConnection>>();

  private readonly opts: ConnectOptions;

  constructor(opts: ConnectOptions) {
    // One gate for the whole run: handshakes in flight bounded per destination and in all (handshake-gate.ts).
    this.opts = { handshakes: new HandshakeGate(), ...opts };
  }

  private openJump = (jump: SshTarget): Promise<SshConnection> => {
    const key = `${jump.user}@${jump.address}:${jump.port}`;
    let c = this.jumps.get(key);
    if (!c) {
      c = SshConnection.connect(jump, { ...this.opts, openJump: this.openJump });
      this.jumps.set(key, c);
      c.catch(() => this.jumps.delete(key));
    }
    return c;
  };

  get(target: SshTarget): Promise<SshConnection> {
    let c = this.connections.get(target.name);
    if (!c) {
      c = SshConnection.connect(target, { ...this.opts, openJump: this.openJump });
      this.connections.set(target.name, c);
      // A failed connect is not cached: the next step may try again.
      c.catch(() => this.connections.delete(target.name));
    }
    return c;
  }

  /** Close the host's connection; the next use opens a new one (a new login, e.g. to pick up a new group). */
  async reconnect(target: SshTarget): Promise<void> {
    const c = this.connections.get(target.name);
    this.connections.delete(target.name);
    if (c)
      await c.then(
        (conn) => conn.close(),
        () => undefined,
      );
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values(), ...this.jumps.values()];
    this.connections.clear();
    this.jumps.clear();
    await Promise.all(
      all.map((c) =>
        c.then(
          (conn) => conn.close(),
          () => undefined,
        ),
      ),
    );
  }
}
