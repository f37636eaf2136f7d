import { existsSync, readFileSync } from 'node:fs';
import type { HostSpec } from '../config/cluster.ts';
import { errorMessage, InputError } from '../errors.ts';
import { withDeadline } from '../transport/deadline.ts';
import { checkHostKey, KnownHostsFile, parseKnownHosts } from '../transport/known-hosts.ts';
import { SshConnection } from '../transport/ssh-connection.ts';

/**
 * The cluster's known_hosts as the ssh provider keeps it (trust on first use, then pinned), except that keys seen
 * for the first time are held in memory until `commit()`: the wizard writes nothing before its config file, and
 * then pins exactly the keys of the machines it checked. A key that differs from a pinned one is refused as `up`
 * refuses it.
 */
export class PendingKnownHosts extends KnownHostsFile {
  private readonly pending: Array<{ host: string; pattern: string; blob: Buffer }> = [];

  override verify(host: string, pattern: string, blob: Buffer): void {
    const pinned = existsSync(this.path) ? parseKnownHosts(readFileSync(this.path, 'utf8')) : [];
    if (checkHostKey(pinned, pattern, blob) !== 'unknown') {
      super.verify(host, pattern, blob); // a match passes; a changed key throws the provider's own refusal
      return;
    }
    const mine = this.pending.filter((p) => p.pattern === pattern);
    if (mine.some((p) => p.blob.equals(blob))) return;
    if (mine.length > 0)
      throw new InputError(`${host}: ${pattern} answered with another host key than a moment ago; refusing`);
    this.pending.push({ host, pattern, blob });
  }

  /** Pin the keys seen (through the same file the ssh provider reads at `up`). */
  commit(): void {
    for (const p of this.pending) super.verify(p.host, p.pattern, p.blob);
    this.pending.length = 0;
  }
}

/** How long the wizard waits for one host's SSH login before saying it is unreachable. */
export const REACH_DEADLINE_MS = 8_000;

/**
 * Log in to the host once, as `up` will (its user, port and key, or ssh-agent; its host key checked), and log out.
 * Returns why it failed, or undefined when it answered.
 */
export async function unreachable(
  host: HostSpec,
  knownHosts: PendingKnownHosts,
  deadlineMs = REACH_DEADLINE_MS,
): Promise<string | undefined> {
  const connecting = SshConnection.connect(host, { knownHosts, retryForMs: 0, readyTimeoutMs: deadlineMs });
  try {
    const conn = await withDeadline(connecting, deadlineMs + 1_000, `${host.name}: SSH login`);
    conn.close();
    return undefined;
  } catch (err) {
    // A login that completes after the deadline is closed at once.
    void connecting.then(
      (late) => late.close(),
      () => undefined,
    );
    return errorMessage(err);
  }
}
