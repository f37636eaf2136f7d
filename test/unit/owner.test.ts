import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerText } from '../../src/cli/cleanup.ts';
import { byOwner as dockerByOwner } from '../../src/providers/docker/cleanup.ts';
import { createLabels } from '../../src/providers/docker/labels.ts';
import { byOwner as ec2ByOwner } from '../../src/providers/ec2/resources.ts';
import { tagSpec } from '../../src/providers/ec2/tags.ts';
import { ensureOwner, readOwner, selectedForCleanup } from '../../src/state/owner.ts';

describe('owner id of a state home', () => {
  let home: string;
  const saved = process.env.SWARMUP_HOME;
  beforeEach(() => {
    home = join(mkdtempSync(join(tmpdir(), 'swarmup-owner-')), 'home');
    process.env.SWARMUP_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SWARMUP_HOME;
    else process.env.SWARMUP_HOME = saved;
    rmSync(join(home, '..'), { recursive: true, force: true });
  });

  it('reading creates nothing; first need makes 12 hex characters, mode 0600, read back afterwards', () => {
    expect(readOwner()).toBeUndefined();
    expect(existsSync(home)).toBe(false);
    const id = ensureOwner();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(statSync(join(home, 'owner')).mode & 0o777).toBe(0o600);
    expect(readOwner()).toBe(id);
    expect(ensureOwner()).toBe(id);
  });

  it('an existing file wins; a damaged one is refused, naming it', () => {
    ensureOwner();
    writeFileSync(join(home, 'owner'), 'abc-123\n');
    expect(ensureOwner()).toBe('abc-123');
    writeFileSync(join(home, 'owner'), 'not an id!\n');
    expect(() => readOwner()).toThrow(join(home, 'owner'));
  });

  it('docker labels and EC2 tags of new resources carry the owner', () => {
    expect(createLabels('lab')).toEqual({ 'swarmup.cluster': 'lab', 'swarmup.owner': readOwner() });
    const tags = tagSpec('security-group', 'lab', 'swarmup-lab').Tags!;
    expect(tags).toContainEqual({
      Key: 'swarmup:owner',
      Value: readFileSync(join(home, 'owner'), 'utf8').trim(),
    });
    expect(tags).toContainEqual({ Key: 'swarmup:cluster', Value: 'lab' });
  });
});

describe('cleanup selection by owner', () => {
  const orphans = new Set(['gone']);
  const sel = (more: { name?: string; anyOwner?: boolean; owner?: string }) => ({
    hasLocalState: (c: string) => !orphans.has(c),
    ...more,
  });

  it("without --name: only orphans of this home's owner", () => {
    expect(selectedForCleanup(sel({ owner: 'me' }), 'gone', 'me')).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me' }), 'gone', 'them')).toBe(false);
    expect(selectedForCleanup(sel({ owner: 'me' }), 'gone', undefined)).toBe(false);
    expect(selectedForCleanup(sel({ owner: 'me' }), 'here', 'me')).toBe(false);
    // No owner made yet: nothing is this home's.
    expect(selectedForCleanup(sel({}), 'gone', undefined)).toBe(false);
  });

  it('--any-owner: orphans of every owner and of none, never a cluster with local state', () => {
    expect(selectedForCleanup(sel({ owner: 'me', anyOwner: true }), 'gone', 'them')).toBe(true);
    expect(selectedForCleanup(sel({ anyOwner: true }), 'gone', undefined)).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me', anyOwner: true }), 'here', 'them')).toBe(false);
  });

  it('--name: that cluster whatever its owner, nothing else', () => {
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'here', 'them')).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'here', undefined)).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'gone', 'me')).toBe(false);
  });

  it('the listing says whose the resources are', () => {
    expect(ownerText('me', 'me')).toBe('owner me: this state home');
    expect(ownerText('them', 'me')).toBe('owner them: another state home');
    expect(ownerText('them', undefined)).toBe('owner them: another state home');
    expect(ownerText(undefined, 'me')).toBe('no owner: made by an older swarmup');
  });

  it('one cluster of two owners (and none) is split into one group each', () => {
    const d = dockerByOwner({
      cluster: 'lab',
      containers: [
        { id: '1', name: 'lab-manager-1', owner: 'a' },
        { id: '2', name: 'lab-manager-1x', owner: 'b' },
      ],
      volumes: [{ name: 'v1', owner: 'a' }, { name: 'v0' }],
      networks: [{ id: 'n', name: 'swarmup-lab', owner: 'a' }],
    });
    expect(d.map((g) => [g.owner, g.containers.length, g.volumes.length, g.networks.length])).toEqual([
      ['a', 1, 1, 1],
      ['b', 1, 0, 0],
      [undefined, 0, 1, 0],
    ]);
    const e = ec2ByOwner({
      cluster: 'lab',
      instances: [{ id: 'i-1', name: 'lab-manager-1', state: 'running', owner: 'a' }],
      securityGroups: [{ id: 'sg-1', name: 'swarmup-lab', owner: 'b' }],
      keyPairs: [{ id: 'key-1', name: 'swarmup-lab', owner: 'a' }],
      volumes: [],
    });
    expect(e.map((g) => [g.owner, g.instances.length, g.securityGroups.length, g.keyPairs.length])).toEqual([
      ['a', 1, 0, 1],
      ['b', 0, 1, 0],
    ]);
    expect(e.every((g) => g.cluster === 'lab')).toBe(true);
  });
});
