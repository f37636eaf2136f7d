import { describe, expect, it } from 'vitest';
import { engineWork, heldEngineNotice } from '../../src/cluster/engine-work.ts';
import { loadFixture } from '../support/engine-fixtures.ts';

/** Which engines `up` reinstalls for engine.version, over facts captured from real engines. */
describe('engine work of up with engine.version', () => {
  it('a swarm member at another version is held (left to swarmup upgrade), a host that left the swarm is planned', () => {
    const { facts } = loadFixture('worker-left');
    const hosts = facts.map((f) => f.host);
    const w = engineWork(hosts, facts, '26.1');
    expect(w.need).toEqual(['fx-worker-left-worker-1']);
    expect(w.held.map((h) => h.host)).toEqual(hosts.filter((h) => h !== 'fx-worker-left-worker-1'));
    expect(w.held[0]!.version).toMatch(/^20\.10\./);
  });

  it('matching the pin, or no pin: nothing; a host whose engine did not answer: planned', () => {
    const { facts } = loadFixture('engine-versions');
    const hosts = [...facts.map((f) => f.host), 'new-host'];
    expect(engineWork(hosts, facts, undefined)).toEqual({ need: ['new-host'], held: [] });
    const w = engineWork(hosts, facts, '28.5');
    expect(w.need).toEqual(['new-host']);
    expect(w.held.map((h) => h.host)).toEqual(['fx-v-bookworm-manager-1', 'fx-v-trixie-manager-1']);
  });

  it('the note names the hosts, their versions and the command that changes them with quorum held', () => {
    const { facts } = loadFixture('engine-versions');
    const [note] = heldEngineNotice(engineWork(['fx-v-trixie-manager-1'], facts, '28.5').held, '28.5');
    expect(note).toMatch(/fx-v-trixie-manager-1 \(26\.1\.5\+dfsg1\) is a swarm member/);
    expect(note).toContain('swarmup upgrade --engine-version 28.5');
    expect(heldEngineNotice([], '28.5')).toEqual([]);
  });
});
