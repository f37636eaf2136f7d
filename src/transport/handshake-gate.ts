import { Semaphore } from './semaphore.ts';

/**
 * SSH handshakes in flight at once, until authenticated. An sshd counts every connection that has not yet
 * authenticated against its MaxStartups (OpenSSH's default `10:30:100`: past 10, it drops new ones at random, in
 * log lines "drop connection #10 ... past MaxStartups"): many inventory entries that reach one sshd (port forwards
 * of one gateway, addresses of one machine) opened all at once would be refused. So at most PER_DESTINATION
 * handshakes go to one address at once (under 10, with room for a login of the user's own), and at most TOTAL
 * overall (sockets and channels of a jump host opened at once on a run of hundreds of hosts). Authenticated, a
 * connection no longer counts. A cluster of up to 8 hosts, or of up to 32 at distinct addresses, waits for nothing.
 */
export const HANDSHAKES_PER_DESTINATION = 8;
export const HANDSHAKES_TOTAL = 32;

/** Where a handshake goes, as sshd's MaxStartups counts it: one address (ports may all reach the same sshd). */
export function destinationOf(target: {
  address: string;
  jump?: { user: string; address: string; port: number } | undefined;
}): string {
  // Behind a jump host, an address is one of that network's: another bastion's 10.0.0.5 is another machine.
  return target.jump
    ? `${target.jump.user}@${target.jump.address}:${target.jump.port} ${target.address}`
    : target.address;
}

export class HandshakeGate {
  private readonly perDestination = new Map<string, Semaphore>();
  private readonly total: Semaphore;

  constructor(
    private readonly limitPerDestination = HANDSHAKES_PER_DESTINATION,
    limitTotal = HANDSHAKES_TOTAL,
  ) {
    this.total = new Semaphore(limitTotal);
  }

  /** Run `handshake` when its destination and the whole run have a free slot; the slot is freed when it settles. */
  async run<T>(destination: string, handshake: () => Promise<T>): Promise<T> {
    let one = this.perDestination.get(destination);
    if (!one) {
      one = new Semaphore(this.limitPerDestination);
      this.perDestination.set(destination, one);
    }
    // The destination's slot first: a handshake waiting for its busy destination holds no slot of the total.
    await one.acquire();
    try {
      await this.total.acquire();
      try {
        return await handshake();
      } finally {
        this.total.release();
      }
    } finally {
      one.release();
    }
  }
}
