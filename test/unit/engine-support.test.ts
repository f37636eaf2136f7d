import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planCluster } from '../../src/cluster/plan.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { engineRefusals } from '../../src/swarm/engine-support.ts';
import { parseInfo } from '../../src/swarm/facts.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/**
 * What an engine can do, read from what real engines answered (test/fixtures/engines/engine-versions.json: a
 * one-manager swarm on each suite's node image, Docker 20.10, 26.1 and 28.5). Docker 29, whose nftables firewall
 * backend refuses swarm mode, is not reachable here: its answer is the 28.5 one with the backend it reports there.
 */
const { facts } = loadFixture('engine-versions');
const byVersion = (prefix: string) => facts.find((f) => f.engineVersion.startsWith(prefix))!;

describe('engines swarmup refuses before any change', () => {
  it('the engines of every suite are accepted; 28.5 reports its firewall backend, iptables', () => {
    expect(facts.map((f) => f.engineVersion.split('+')[0])).toEqual(['20.10.24', '26.1.5', '28.5.2']);
    expect(byVersion('28.5').firewallBackend).toBe('iptables');
    expect(byVersion('20.10').firewallBackend).toBeUndefined();
    expect(engineRefusals(facts)).toEqual([]);
  });

  it('the nftables firewall backend (Docker 29) is refused, naming the engine setting to change', () => {
    const raw = loadFixtureInfo('28.5');
    const nft = parseInfo('node-1', '', { ...raw, FirewallBackend: { Driver: 'nftables' } });
    expect(engineRefusals([nft])).toEqual([
      {
        host: 'node-1',
        reason: expect.stringMatching(
          /nftables firewall backend \(FirewallBackend in docker info\), with which Docker refuses swarm mode; set "firewall-backend": "iptables"/,
        ),
      },
    ]);
  });

  it('an engine older than the oldest supported is refused with both versions', () => {
    const raw = loadFixtureInfo('20.10');
    const old = parseInfo('node-1', '', { ...raw, ServerVersion: '19.03.15' });
    expect(engineRefusals([old])[0]?.reason).toBe(
      'its engine 19.03.15 is older than the oldest swarmup supports (20.10); upgrade it',
    );
  });

  it('a plan with such an engine refuses as a whole, nothing planned around it', () => {
    const raw = loadFixtureInfo('28.5');
    const hosts = wantedNodes('lab', 1, 0);
    const nft = parseInfo('lab-manager-1', '', {
      ...raw,
      Swarm: { LocalNodeState: 'inactive' },
      FirewallBackend: { Driver: 'nftables' },
    });
    expect(() =>
      planCluster({
        hosts,
        createsMachines: true,
        listing: [{ name: 'lab-manager-1', role: 'manager', state: 'running' }],
        facts: [nft],
        engines: [],
        managers: 1,
      }),
    ).toThrow(/lab-manager-1: its engine uses the nftables firewall backend[\s\S]*nothing was changed/);
  });
});

/** The raw /info a fixture host answered, by engine version. */
function loadFixtureInfo(version: string): Record<string, unknown> {
  const path = new URL('../fixtures/engines/engine-versions.json', import.meta.url);
  const f = JSON.parse(readFileSync(path, 'utf8')) as { hosts: Array<{ info: Record<string, unknown> }> };
  return f.hosts.find((h) => String(h.info.ServerVersion).startsWith(version))!.info;
}
