import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';

/** http.Agent treats its connections as net.Sockets; an SSH channel needs the few socket methods it calls. */
export function socketLike(channel: ClientChannel): Duplex {
  const s = channel as unknown as Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) {
    if (typeof s[m] !== 'function') s[m] = () => channel;
  }
  return channel;
}
