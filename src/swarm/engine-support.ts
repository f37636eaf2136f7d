import type { HostFacts } from './facts.ts';

/** The oldest engine swarmup supports (Debian 12's docker.io): older ones are refused before any change. */
export const OLDEST_ENGINE = '20.10';

/** major.minor of an engine version ("28.5.2+dfsg4" → [28, 5]); undefined when it is not one. */
export function engineMajorMinor(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function older(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * Engines swarmup must not make swarm changes on, each with why, from what they answered (GET /info): one older
 * than the oldest supported, and one whose firewall backend is nftables (Docker 29 refuses swarm mode with it;
 * `FirewallBackend` is reported from 28.x on). Pure.
 */
export function engineRefusals(facts: HostFacts[]): Array<{ host: string; reason: string }> {
  const oldest = engineMajorMinor(OLDEST_ENGINE)!;
  return facts.flatMap((f) => {
    const reasons: string[] = [];
    const v = engineMajorMinor(f.engineVersion);
    if (v && older(v, oldest))
      reasons.push(
        `its engine ${f.engineVersion} is older than the oldest swarmup supports (${OLDEST_ENGINE}); upgrade it`,
      );
    if (f.firewallBackend === 'nftables')
      reasons.push(
        'its engine uses the nftables firewall backend (FirewallBackend in docker info), with which Docker refuses ' +
          'swarm mode; set "firewall-backend": "iptables" in /etc/docker/daemon.json and restart the engine',
      );
    return reasons.map((reason) => ({ host: f.host, reason }));
  });
}
