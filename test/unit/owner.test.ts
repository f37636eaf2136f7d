import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerText } from '../../src/cli/cleanup.ts';
import { byOwner as dockerByOwner } from '../../src/providers/docker/cleanup.ts';
import { createLabels, ownFilter } from '../../src/providers/docker/labels.ts';
import { byOwner as ec2ByOwner } from '../../src/providers/ec2/resources.ts';
import { tagSpec } from '../../src/providers/ec2/tags.ts';
import { foreignNamesakes, namesOf } from '../../src/providers/docker/namesakes.ts';
import { foreignNamesakes as ec2Namesakes } from '../../src/providers/ec2/namesakes.ts';
import { ownFilter as ec2OwnFilter } from '../../src/providers/ec2/tags.ts';
import {
  ensureOwner,
  NO_OWNER,
  ownerScope,
  readOwner,
  recordDescribes,
  selectedForCleanup,
} from '../../src/state/owner.ts';

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

  it("every listing of a cluster selects by this home's owner; with none made yet, by one no resource carries", () => {
    expect(ownerScope()).toBe(NO_OWNER);
    expect(ownFilter('lab')).toEqual({ label: ['swarmup.cluster=lab', 'swarmup.owner=(none)'] });
    expect(existsSync(home)).toBe(false); // listing made no owner
    const id = ensureOwner();
    expect(ownFilter('lab', 'swarmup.node=lab-manager-1')).toEqual({
      label: ['swarmup.cluster=lab', `swarmup.owner=${id}`, 'swarmup.node=lab-manager-1'],
    });
    expect(ec2OwnFilter('lab')).toEqual([
      { Name: 'tag:swarmup:cluster', Values: ['lab'] },
      { Name: 'tag:swarmup:owner', Values: [id] },
    ]);
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

  it("--name: that cluster of this home's owner only; --any-owner widens it to every owner and none", () => {
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'here', 'me')).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'gone' }), 'gone', 'me')).toBe(true);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'here', 'them')).toBe(false);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'here', undefined)).toBe(false);
    expect(selectedForCleanup(sel({ name: 'here' }), 'here', undefined)).toBe(false);
    expect(selectedForCleanup(sel({ owner: 'me', name: 'here' }), 'gone', 'me')).toBe(false);
    const any = sel({ owner: 'me', name: 'here', anyOwner: true });
    expect(selectedForCleanup(any, 'here', 'them')).toBe(true);
    expect(selectedForCleanup(any, 'here', undefined)).toBe(true);
    expect(selectedForCleanup(any, 'gone', 'them')).toBe(false);
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

describe('whether a state record describes the resources deleted (cleanup and down take the record only then)', () => {
  const ec2Lab = { provider: 'ec2', region: 'eu-west-1' };
  it("the same provider, region, engine and this home's owner: yes", () => {
    expect(recordDescribes(ec2Lab, { provider: 'ec2', region: 'eu-west-1', owner: 'me' }, 'me')).toEqual({
      ok: true,
    });
    const docker = { provider: 'docker', endpoint: 'unix:///var/run/docker.sock' };
    expect(
      recordDescribes(
        docker,
        { provider: 'docker', endpoint: 'unix:///var/run/docker.sock', owner: 'me' },
        'me',
      ),
    ).toEqual({ ok: true });
    // A record of an older swarmup that did not record the engine: the owner still decides.
    expect(
      recordDescribes({ provider: 'docker' }, { provider: 'docker', endpoint: 'x', owner: 'me' }, 'me').ok,
    ).toBe(true);
  });

  it('a live EC2 record is not taken by a docker or multipass namesake, another region, another home or none', () => {
    const no = (g: Parameters<typeof recordDescribes>[1]) => {
      const v = recordDescribes(ec2Lab, g, 'me');
      return v.ok ? 'ok' : v.why;
    };
    expect(no({ provider: 'docker', endpoint: 'unix:///var/run/docker.sock', owner: 'me' })).toBe(
      'the record is of provider ec2, not docker',
    );
    expect(no({ provider: 'multipass', owner: 'them' })).toBe('the record is of provider ec2, not multipass');
    expect(no({ provider: 'ec2', region: 'us-east-1', owner: 'me' })).toBe(
      'the record is of region eu-west-1, not us-east-1',
    );
    expect(no({ provider: 'ec2', region: 'eu-west-1', owner: 'them' })).toBe(
      "the resources are of owner them, not this home's",
    );
    expect(no({ provider: 'ec2', region: 'eu-west-1' })).toBe(
      'the resources carry no owner (made by an older swarmup)',
    );
    expect(recordDescribes(ec2Lab, { provider: 'ec2', region: 'eu-west-1', owner: 'me' }, undefined)).toEqual(
      {
        ok: false,
        why: "the resources are of owner me, not this home's",
      },
    );
    expect(
      recordDescribes(
        { provider: 'docker', endpoint: 'tcp://a:2375' },
        { provider: 'docker', endpoint: 'unix:///x', owner: 'me' },
        'me',
      ),
    ).toEqual({ ok: false, why: 'the record is of the engine at tcp://a:2375, not unix:///x' });
    expect(recordDescribes(undefined, { provider: 'ec2', owner: 'me' }, 'me').ok).toBe(false);
  });
});

describe('namesakes: objects of the names a cluster gets that this home did not make', () => {
  const names = namesOf('lab', ['lab-manager-1']);
  const obj = (kind: 'container' | 'volume' | 'network', name: string, labels?: Record<string, string>) => ({
    kind,
    name,
    labels: labels ?? null,
  });

  it("docker: this home's own are fine; another owner's, an older swarmup's and a stranger of those names are named", () => {
    expect(names).toEqual({
      container: ['lab-manager-1'],
      volume: ['lab-manager-1-docker'],
      network: ['swarmup-lab'],
    });
    const mine = { 'swarmup.cluster': 'lab', 'swarmup.owner': 'me' };
    expect(
      foreignNamesakes(
        [
          obj('container', 'lab-manager-1', mine),
          obj('volume', 'lab-manager-1-docker', mine),
          obj('network', 'swarmup-lab', mine),
        ],
        'lab',
        'me',
        names,
      ),
    ).toEqual([]);
    const theirs = { 'swarmup.cluster': 'lab', 'swarmup.owner': 'them' };
    expect(
      foreignNamesakes(
        [
          obj('container', 'lab-manager-1', theirs),
          obj('container', 'lab-manager-1', theirs), // listed by label and by name
          obj('volume', 'lab-manager-1-docker', { 'swarmup.cluster': 'lab' }),
          obj('network', 'swarmup-lab'),
          obj('container', 'lab-worker-4', theirs), // not a name of this run, but labelled for the cluster
          obj('container', 'lab-manager-10', { 'swarmup.cluster': 'lab-manager-10x' }), // a name filter's extra
        ],
        'lab',
        'me',
        names,
      ),
    ).toEqual([
      'container lab-manager-1 (cluster lab of owner them: another state home)',
      'volume lab-manager-1-docker (cluster lab, no owner label: made by an older swarmup)',
      'network swarmup-lab (not made by swarmup)',
      'container lab-worker-4 (cluster lab of owner them: another state home)',
    ]);
    // A home with no owner yet made nothing.
    expect(foreignNamesakes([obj('network', 'swarmup-lab', mine)], 'lab', undefined, names)).toEqual([
      'network swarmup-lab (cluster lab of owner me: another state home)',
    ]);
  });

  it("ec2: a key pair or security group of the cluster's name made elsewhere is named", () => {
    const tags = (cluster?: string, owner?: string) => [
      ...(cluster ? [{ Key: 'swarmup:cluster', Value: cluster }] : []),
      ...(owner ? [{ Key: 'swarmup:owner', Value: owner }] : []),
    ];
    expect(
      ec2Namesakes(
        [{ kind: 'key pair', name: 'swarmup-lab', id: 'key-1', tags: tags('lab', 'me') }],
        'lab',
        'me',
      ),
    ).toEqual([]);
    expect(
      ec2Namesakes(
        [
          { kind: 'key pair', name: 'swarmup-lab', id: 'key-1', tags: tags('lab', 'them') },
          { kind: 'security group', name: 'swarmup-lab', id: 'sg-1', tags: tags('lab') },
          { kind: 'security group', name: 'swarmup-lab', id: 'sg-2' },
        ],
        'lab',
        'me',
      ),
    ).toEqual([
      'key pair swarmup-lab (key-1): cluster lab of owner them: another state home',
      'security group swarmup-lab (sg-1): cluster lab, no owner tag: made by an older swarmup',
      'security group swarmup-lab (sg-2): not made by swarmup',
    ]);
  });
});
