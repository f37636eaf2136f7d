import { SshConnection, type ConnectOptions, type SshTarget } from './ssh-connection.ts';

/** One SSH connection per host, opened on first use and shared by every step that touches the host. */
export class ConnectionPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();

  constructor(private readonly opts: ConnectOptions) {}

  get(target: SshTarget): Promise<SshConnection> {
    let c = this.connections.get(target.name);
    if (!c) {
      c = SshConnection.connect(target, this.opts);
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
    const all = [...this.connections.values()];
    this.connections.clear();
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
