import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeAction, type Action } from '../../src/swarm/actions.ts';
import { eventSchema } from '../../src/playbook/event-schema.ts';
import { redact } from '../../src/redact.ts';
import { StateStore } from '../../src/state/store.ts';
import { parseInfo, type HostFacts } from '../../src/swarm/facts.ts';
import { lockedHosts, lockedMessage, refuseLocked } from '../../src/swarm/locked.ts';
import { planSwarm } from '../../src/swarm/plan.ts';

const TOKEN = `SWMTKN-1-${'0fake'.repeat(10)}-${'0fake'.repeat(5)}`; /* obviously fake: the shape of a join token */
const KEY = `SWMKEY-1-${'FakeKey0'.repeat(5)}`; /* obviously fake */
const NEXT_KEY = `SWMKEY-1-${'NextKey'.repeat(4)}`; /* obviously fake, and shorter than KEY */

/** A manager's GET /info, as engines answer it (only the fields swarmup reads). */
const managerInfo = (autolock: boolean | undefined, state = 'active') => ({
  Name: 'm1',
  ServerVersion: '20.10.24',
  Swarm: {
    NodeID: 'id-m1',
    LocalNodeState: state,
    ControlAvailable: true,
    Cluster: {
      ID: 'C1',
      Spec: autolock === undefined ? {} : { EncryptionConfig: { AutoLockManagers: autolock } },
    },
  },
});

describe('autolock facts', () => {
  it("a manager's info says whether the swarm is autolocked; a worker's says nothing", () => {
    expect(parseInfo('m1', '', managerInfo(true)).autolock).toBe(true);
    expect(parseInfo('m1', '', managerInfo(false)).autolock).toBe(false);
    // An engine that leaves EncryptionConfig out of the spec (autolock never set) is not autolocked.
    expect(parseInfo('m1', '', managerInfo(undefined)).autolock).toBe(false);
    const worker = {
      Name: 'w1',
      Swarm: { NodeID: 'id-w1', LocalNodeState: 'active', ControlAvailable: false },
    };
    expect(parseInfo('w1', '', worker).autolock).toBeUndefined();
  });

  it('a locked manager is named with what to run; none locked, nothing to say', () => {
    const locked = parseInfo('m2', '', { Name: 'm2', Swarm: { LocalNodeState: 'locked', NodeID: '' } });
    const ok = parseInfo('m1', '', managerInfo(true));
    expect(lockedHosts([ok, locked])).toEqual(['m2']);
    expect(lockedMessage([ok, locked])).toBe('manager m2 is locked: run swarmup unlock');
    expect(lockedMessage([locked, { ...locked, host: 'm3' }])).toBe(
      'managers m2, m3 are locked: run swarmup unlock',
    );
    expect(lockedMessage([ok])).toBeUndefined();
    expect(() => refuseLocked([ok, locked])).toThrow(
      expect.objectContaining({ exitCode: 1, message: 'manager m2 is locked: run swarmup unlock' }),
    );
    expect(() => refuseLocked([ok])).not.toThrow();
  });
});

describe('autolock in the plan', () => {
  const hosts = ['m1', 'm2', 'm3'].map((name) => ({ name, role: 'auto' as const }));
  const swarm = (autolock: boolean): HostFacts[] => {
    const nodes = hosts.map((h, i) => ({
      id: `id-${h.name}`,
      hostname: h.name,
      role: 'manager' as const,
      state: 'ready',
      availability: 'active',
      leader: i === 0,
      reachability: 'reachable',
      addr: '',
      engineVersion: '20.10.24',
    }));
    return hosts.map((h) => ({
      host: h.name,
      advertiseAddress: '',
      hostname: h.name,
      engineVersion: '20.10.24',
      state: 'active',
      nodeId: `id-${h.name}`,
      clusterId: 'C1',
      isManager: true,
      nodes,
      autolock,
    }));
  };
  const plan = (facts: HostFacts[], autolock: boolean | undefined) =>
    planSwarm({
      hosts,
      managers: 3,
      facts,
      knownClusterId: 'C1',
      ownMachines: true,
      ...(autolock !== undefined ? { autolock } : {}),
    });
  const actions = (facts: HostFacts[], autolock: boolean | undefined) =>
    plan(facts, autolock).phases.flatMap((p) => p.actions);

  it('an existing swarm whose autolock differs from the wanted one is updated, in a phase of its own', () => {
    expect(actions(swarm(false), true)).toEqual([{ kind: 'autolock', enable: true }]);
    expect(actions(swarm(true), false)).toEqual([{ kind: 'autolock', enable: false }]);
    expect(plan(swarm(false), true).phases.map((p) => p.title)).toEqual(['set autolock']);
  });

  it('the same setting, or none asked, changes nothing', () => {
    expect(actions(swarm(true), true)).toEqual([]);
    expect(actions(swarm(false), false)).toEqual([]);
    expect(actions(swarm(true), undefined)).toEqual([]);
  });

  it('a fresh swarm gets autolock at init, not as an update', () => {
    const fresh = hosts.map((h): HostFacts => ({
      host: h.name,
      advertiseAddress: '',
      hostname: h.name,
      engineVersion: '20.10.24',
      state: 'inactive',
      nodeId: '',
      isManager: false,
    }));
    const fromScratch = planSwarm({ hosts, managers: 3, facts: fresh, ownMachines: true, autolock: true });
    const all = fromScratch.phases.flatMap((p) => p.actions);
    expect(all.map((a) => a.kind)).not.toContain('autolock');
    expect(all[0]).toEqual({ kind: 'init', host: 'm1' });
  });

  it('a locked host is left alone with the command that unlocks it', () => {
    const facts = swarm(true);
    facts[2] = { ...facts[2]!, state: 'locked', isManager: false };
    delete facts[2]!.nodes;
    expect(plan(facts, true).problems).toEqual([
      { host: 'm3', message: expect.stringContaining('swarmup unlock') },
    ]);
  });
});

describe('day-2 actions as events', () => {
  const actions: Action[] = [
    { kind: 'autolock', enable: true },
    { kind: 'rotate-tokens', tokens: 'worker' },
    { kind: 'rotate-tokens', tokens: 'manager' },
    { kind: 'unlock', host: 'm2' },
    { kind: 'rotate-unlock-key' },
  ];
  it('each matches the published action event schema, and says what it does', () => {
    for (const a of actions) {
      const line = { event: 'action', status: 'ok', ...a, description: describeAction(a) };
      expect(eventSchema.safeParse(line).success, JSON.stringify(a)).toBe(true);
    }
    expect(describeAction({ kind: 'rotate-tokens', tokens: 'worker' })).toBe('rotate the worker join token');
    expect(describeAction({ kind: 'rotate-tokens' })).toBe('rotate worker and manager join tokens');
    expect(
      eventSchema.safeParse({
        event: 'action',
        status: 'ok',
        kind: 'rotate-tokens',
        tokens: 'both',
        description: 'x',
      }).success,
    ).toBe(false);
  });
});

describe('secrets', () => {
  it('join tokens and unlock keys are redacted wherever they appear in a message', () => {
    const text = `token ${TOKEN}, key=${KEY}; glued:x${KEY}`;
    const out = redact(text);
    // Nothing of either secret's body is left, wherever it stood.
    expect(out).not.toContain(TOKEN.slice('SWMTKN-1-'.length, 'SWMTKN-1-'.length + 12));
    expect(out).not.toContain(KEY.slice('SWMKEY-1-'.length, 'SWMKEY-1-'.length + 12));
    expect(out.match(/<redacted>/g)).toHaveLength(3);
    expect(out).toBe('token SWMTKN-<redacted>, key=SWMKEY-<redacted>; glued:xSWMKEY-<redacted>');
  });

  describe('the unlock key file', () => {
    let home: string;
    const saved = process.env.SWARMUP_HOME;
    beforeEach(() => {
      home = mkdtempSync(join(tmpdir(), 'swarmup-unit-key-'));
      process.env.SWARMUP_HOME = home;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.SWARMUP_HOME;
      else process.env.SWARMUP_HOME = saved;
    });

    it('is kept 0600 beside state.json, never in it, replaced whole, and removed when autolock is off', () => {
      const store = new StateStore('c1');
      store.write({ name: 'c1', provider: 'docker' });
      expect(store.readUnlockKey()).toBeUndefined();
      store.writeUnlockKey(KEY);
      expect(store.readUnlockKey()).toBe(KEY);
      expect(statSync(store.unlockKeyPath()).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(store.dir, 'state.json'), 'utf8')).not.toContain('SWMKEY');
      // A new key (shorter than the old one): the file holds it and nothing of the old one, in a new file.
      const first = statSync(store.unlockKeyPath()).ino;
      store.writeUnlockKey(NEXT_KEY);
      expect(store.readUnlockKey()).toBe(NEXT_KEY);
      expect(readFileSync(store.unlockKeyPath(), 'utf8')).toBe(`${NEXT_KEY}\n`);
      expect(statSync(store.unlockKeyPath()).ino).not.toBe(first);
      expect(statSync(store.unlockKeyPath()).mode & 0o777).toBe(0o600);
      // Written through a temporary file renamed over it: no leftover beside it.
      expect(readdirSync(store.dir).sort()).toEqual(['state.json', 'unlock-key']);
      store.writeUnlockKey(undefined);
      expect(store.readUnlockKey()).toBeUndefined();
      expect(readdirSync(store.dir)).toEqual(['state.json']);
    });
  });
});
