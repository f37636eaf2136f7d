import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/swarm/facts.ts';
import {
  CLOCK_WARN_S,
  DEFAULT_NODE_CERT_EXPIRY_MS,
  DOWN_FRACTION,
  healthWarnings,
  linkScript,
  majorMinor,
  parseLink,
  type HealthInput,
} from '../../src/swarm/health.ts';
import { loadEngineFixture } from '../support/engine-fixtures.ts';

/**
 * The health rules of `swarmup status` over states captured from real engines (Docker 20.10 node containers);
 * where a state cannot be made here (clocks: the node containers share this machine's kernel clock; two engine
 * versions: one engine package is available) the captured facts are changed only in the field the rule reads.
 */
const DAY = 24 * 3600 * 1000;

/** The input status builds from facts: clock offsets as the facts read would estimate them from SystemTime. */
function input(state: string, change: (f: HostFacts[]) => void = () => undefined): HealthInput {
  const { facts, nodes } = loadEngineFixture(state);
  change(facts);
  const t0 = Math.min(...facts.map((f) => f.systemTime ?? Infinity));
  const leader = facts.find((f) => f.nodeId === nodes.find((n) => n.leader)?.id)?.host;
  return {
    hosts: facts.map((f) => ({
      name: f.host,
      ...(f.systemTime !== undefined ? { clockOffset: (f.systemTime - t0) / 1000 } : {}),
    })),
    nodes,
    nameOf: new Map(facts.filter((f) => f.nodeId).map((f) => [f.nodeId, f.host])),
    ...(leader ? { reference: leader } : {}),
    now: Math.max(...nodes.map((n) => n.updatedAt ?? 0)) + 60_000,
  };
}

describe('health warnings', () => {
  it('a healthy cluster as captured after up has none', () => {
    expect(healthWarnings(input('converged'))).toEqual([]);
  });

  it('a clock more than the warning threshold away from the leader is named, with its direction', () => {
    const w = healthWarnings(
      input('converged', (facts) => {
        facts[1]!.systemTime! += (CLOCK_WARN_S + 2) * 1000;
      }),
    );
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ check: 'clock', node: 'fx-converged-manager-2' });
    expect(w[0]!.message).toMatch(/7\.\d s ahead of fx-converged-manager-1/);
  });

  it('a clock skew within the threshold (estimate noise) is not a warning', () => {
    const w = healthWarnings(
      input('converged', (facts) => {
        facts[2]!.systemTime! -= (CLOCK_WARN_S - 1) * 1000;
      }),
    );
    expect(w.filter((x) => x.check === 'clock')).toEqual([]);
  });

  it('engine versions of another major.minor are listed; a patch difference is not', () => {
    const patch = input('converged');
    patch.nodes[0] = { ...patch.nodes[0]!, engineVersion: '20.10.25' };
    expect(healthWarnings(patch)).toEqual([]);

    const skew = input('converged');
    skew.nodes[4] = { ...skew.nodes[4]!, engineVersion: '24.0.7' };
    const w = healthWarnings(skew);
    expect(w).toHaveLength(1);
    expect(w[0]!.check).toBe('version');
    expect(w[0]!.message).toContain('24.0 on fx-converged-manager-3');
    expect(w[0]!.message).toMatch(
      /20\.10 on fx-converged-manager-1, fx-converged-manager-2, fx-converged-worker-1/,
    );
  });

  it('two nodes with one hostname are named', () => {
    const dup = input('converged');
    dup.nodes[3] = { ...dup.nodes[3]!, hostname: dup.nodes[2]!.hostname };
    const w = healthWarnings(dup);
    expect(w).toEqual([expect.objectContaining({ check: 'hostname', node: dup.nodes[2]!.hostname })]);
  });

  it('a node Down for longer than a part of the certificate lifetime is named; a fresh Down is not', () => {
    const fresh = input('manager-gone');
    expect(healthWarnings(fresh)).toEqual([]);

    const down = fresh.nodes.find((n) => n.state === 'down')!;
    const late = { ...fresh, now: down.updatedAt! + DEFAULT_NODE_CERT_EXPIRY_MS * DOWN_FRACTION + DAY };
    const w = healthWarnings(late);
    expect(w).toEqual([expect.objectContaining({ check: 'down', node: 'fx-manager-gone-manager-2' })]);
    expect(w[0]!.message).toMatch(/down for 31 days; node certificates expire after 90 days/);

    // A swarm with a shorter certificate lifetime warns sooner.
    const short = { ...fresh, now: down.updatedAt! + 8 * DAY, nodeCertExpiryMs: 20 * DAY };
    expect(healthWarnings(short).map((x) => x.check)).toEqual(['down']);
  });

  it('an underlay MTU below 1500 is named with the overlay MTU that fits; 1500 and more is not', () => {
    const base = input('converged');
    base.hosts[0] = { ...base.hosts[0]!, link: { iface: 'eth0', mtu: 1500 } };
    base.hosts[1] = { ...base.hosts[1]!, link: { iface: 'ens5', mtu: 9001 } };
    expect(healthWarnings(base)).toEqual([]);
    base.hosts[2] = { ...base.hosts[2]!, link: { iface: 'wg0', mtu: 1420 } };
    const w = healthWarnings(base);
    expect(w).toEqual([expect.objectContaining({ check: 'mtu', node: base.hosts[2]!.name })]);
    expect(w[0]!.message).toContain('com.docker.network.driver.mtu=1370');
  });

  it('major.minor of engine version strings', () => {
    expect(majorMinor('20.10.24+dfsg1')).toBe('20.10');
    expect(majorMinor('v24.0.7')).toBe('24.0');
    expect(majorMinor('odd')).toBe('odd');
  });
});

describe('advertise link', () => {
  it('parses the line the link script prints, and nothing when there is none', () => {
    expect(parseLink('link=eth0 1500\n')).toEqual({ iface: 'eth0', mtu: 1500 });
    expect(parseLink('')).toBeUndefined();
  });

  it('the link script finds the interface of an address on this machine and its MTU', async () => {
    const { execa } = await import('execa');
    const r = await execa('sh', ['-c', linkScript('127.0.0.1')], { reject: false });
    expect(parseLink(String(r.stdout))).toEqual({ iface: 'lo', mtu: 65536 });
    const none = await execa('sh', ['-c', linkScript("192.0.2.1'; echo link=x 1")], { reject: false });
    expect(parseLink(String(none.stdout))).toBeUndefined();
  });
});
