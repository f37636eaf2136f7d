import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { parseConfig } from '../../src/config/load.ts';
import { configFileSchema } from '../../src/config/schema.ts';
import { renderConfig } from '../../src/wizard/render.ts';
import { InputError } from '../../src/errors.ts';
import { providerNamed } from '../../src/providers/registry.ts';
import { cloudInit, MARKER_PATH, markerText, parseMarker } from '../../src/providers/multipass/cloud-init.ts';
import {
  deleteArgs,
  infoArgs,
  installHint,
  launchArgs,
  launchFailure,
  listArgs,
  readMarkerArgs,
} from '../../src/providers/multipass/commands.ts';
import { parseInfo, parseList, type VmEntry } from '../../src/providers/multipass/json.ts';
import { clusterInName, listingState, roleInName, verdict } from '../../src/providers/multipass/ownership.ts';
import { memoryProblem, sizeInBytes } from '../../src/providers/multipass/spec.ts';

/** Multipass's own test data for its JSON formatter (test/fixtures/multipass/README.md says where from). */
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '../fixtures/multipass', `${name}.json`), 'utf8');

const MP = { image: '24.04', cpus: 1, memory: '1G', disk: '10G' };

describe('multipass JSON output (fixtures from Multipass)', () => {
  it('list: name, state, IPv4 addresses and release of every instance', () => {
    expect(parseList(fixture('multiple_instances_list_reply'))).toEqual([
      { name: 'bogus-instance', state: 'Running', ipv4: ['10.21.124.56'], release: 'Ubuntu 16.04 LTS' },
      { name: 'bombastic', state: 'Stopped', ipv4: [], release: 'Ubuntu 18.04 LTS' },
    ]);
    expect(parseList(fixture('single_instance_list_reply'))[0]!.ipv4).toEqual([
      '10.168.32.2',
      '200.3.123.30',
    ]);
    expect(parseList(fixture('empty_list_reply'))).toEqual([]);
  });

  it('info: the same shape from the info object, keyed by name', () => {
    expect(parseInfo(fixture('multiple_instances_info_reply'))).toEqual([
      { name: 'bogus-instance', state: 'Running', ipv4: ['10.21.124.56'], release: 'Ubuntu 16.04.3 LTS' },
      { name: 'bombastic', state: 'Stopped', ipv4: [], release: '' },
    ]);
    expect(parseInfo(fixture('single_instance_info_reply'))[0]!.ipv4[0]).toBe('10.168.32.2');
    expect(parseInfo(fixture('empty_info_reply'))).toEqual([]);
  });

  it('info: an entry with snapshots only is not an instance', () => {
    expect(parseInfo(fixture('mixed_instance_and_snapshot_info_reply')).map((v) => v.name)).toEqual([
      'bombastic',
    ]);
  });

  it('refuses output that is not Multipass JSON, saying which command', () => {
    expect(() => parseList('list failed: cannot connect to the multipass socket')).toThrow(
      /multipass list: not JSON/,
    );
    expect(() => parseInfo('{"list": []}')).toThrow(/no "info" object/);
  });

  it('maps every state Multipass prints to the plan’s states', () => {
    expect(
      (
        ['Running', 'Starting', 'Restarting', 'Stopped', 'Suspended', 'Delayed Shutdown', 'Unknown'] as const
      ).map(listingState),
    ).toEqual(['running', 'starting', 'starting', 'stopped', 'stopped', 'stopped', 'failed']);
  });
});

describe('multipass command lines', () => {
  it('launch: image, name, resources, cloud-init on stdin and a timeout', () => {
    expect(launchArgs('lab-manager-1', { image: 'noble', cpus: 2, memory: '2G', disk: '20G' })).toEqual([
      'launch',
      'noble',
      '--name',
      'lab-manager-1',
      '--cpus',
      '2',
      '--memory',
      '2G',
      '--disk',
      '20G',
      '--cloud-init',
      '-',
      '--timeout',
      '600',
    ]);
  });

  it('list, info, marker read, and delete with purge of exactly the VMs named', () => {
    expect(listArgs()).toEqual(['list', '--format', 'json']);
    expect(infoArgs(['a', 'b'])).toEqual(['info', '--format', 'json', 'a', 'b']);
    expect(readMarkerArgs('a', MARKER_PATH)).toEqual(['exec', 'a', '--', 'cat', '/etc/swarmup/owner']);
    // Never a bare `purge`: it would purge the user's own deleted VMs too.
    expect(deleteArgs(['a', 'b'])).toEqual(['delete', '--purge', 'a', 'b']);
  });

  it('says how to install Multipass on each OS', () => {
    expect(installHint('linux')).toMatch(/snap install multipass/);
    expect(installHint('darwin')).toMatch(/brew install --cask multipass/);
    expect(installHint('win32')).toMatch(/winget install Canonical\.Multipass/);
  });

  it('names a launch timeout and a lack of memory', () => {
    expect(launchFailure('', true, MP)).toMatch(/^timed out after 600 s/);
    expect(
      launchFailure('launch failed: timed out waiting for initialization to complete', false, MP),
    ).toMatch(/^timed out/);
    expect(
      launchFailure(
        "launch failed: qemu: cannot set up guest memory 'pc.ram': Cannot allocate memory",
        false,
        MP,
      ),
    ).toMatch(/^not enough memory for a VM of 1G/);
    expect(launchFailure('launch failed: Remote "" is unknown or unreachable.', false, MP)).toBe(
      'launch failed: Remote "" is unknown or unreachable.',
    );
  });
});

describe('multipass cloud-init', () => {
  const marker = { cluster: 'lab', owner: 'a1b2c3', node: 'lab-worker-2' };

  it('adds the cluster key, writes the marker and starts the engine install at boot', () => {
    const text = cloudInit(marker, 'ssh-ed25519 AAAAkey swarmup-lab', { source: 'docker-ce' });
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const c = parse(text) as {
      ssh_authorized_keys: string[];
      write_files: Array<{ path: string; content: string; permissions: string }>;
      runcmd: string[][];
    };
    expect(c.ssh_authorized_keys).toEqual(['ssh-ed25519 AAAAkey swarmup-lab']);
    expect(c.write_files[0]).toMatchObject({ path: '/etc/swarmup/owner', content: markerText(marker) });
    expect(parseMarker(c.write_files[0]!.content)).toEqual(marker);
    const script = c.write_files.find((f) => f.path === '/etc/swarmup/engine-install.sh')!;
    expect(script.content).toMatch(/download\.docker\.com/);
    expect(script.content).toMatch(/command -v dockerd >\/dev\/null 2>&1 && exit 0/);
    expect(c.runcmd).toEqual([['sh', '/etc/swarmup/engine-install.sh']]);
  });

  it('leaves a pinned version or source none to the engine step', () => {
    for (const engine of [{ source: 'docker-ce' as const, version: '27.3' }, { source: 'none' as const }]) {
      const c = parse(cloudInit(marker, 'k', engine)) as { write_files: unknown[]; runcmd?: unknown };
      expect(c.write_files).toHaveLength(1);
      expect(c.runcmd).toBeUndefined();
    }
  });

  it('a file that is not a marker reads as none', () => {
    expect(parseMarker('')).toBeUndefined();
    expect(parseMarker('cluster=lab\n')).toBeUndefined();
  });
});

describe('which VMs are the cluster’s', () => {
  const vm = (name: string, state: VmEntry['state'] = 'Running'): VmEntry => ({
    name,
    state,
    ipv4: [],
    release: '',
  });
  const mark = (node: string, cluster = 'lab', owner = 'me') => ({ cluster, owner, node });

  it('names: the cluster’s own pattern only', () => {
    expect(roleInName('lab', 'lab-manager-1')).toBe('manager');
    expect(roleInName('lab', 'lab-worker-12')).toBe('worker');
    expect(roleInName('lab', 'lab2-worker-1')).toBeUndefined();
    expect(roleInName('lab', 'lab-worker-x')).toBeUndefined();
    expect(clusterInName('my-lab-worker-3')).toBe('my-lab');
    expect(clusterInName('primary')).toBeUndefined();
  });

  it('a running VM is ours only with our marker: cluster, node and owner', () => {
    expect(verdict(vm('lab-worker-1'), 'lab', 'me', mark('lab-worker-1'), [])).toEqual({ ours: true });
    expect(verdict(vm('lab-worker-1'), 'lab', 'me', undefined, ['lab-worker-1'])).toMatchObject({
      ours: false,
      why: expect.stringMatching(/no swarmup marker/),
    });
    expect(verdict(vm('lab-worker-1'), 'lab', 'me', mark('lab-worker-1', 'other'), [])).toMatchObject({
      ours: false,
      why: expect.stringMatching(/names cluster other/),
    });
    expect(verdict(vm('lab-worker-1'), 'lab', 'me', mark('lab-worker-1', 'lab', 'you'), [])).toMatchObject({
      ours: false,
      why: expect.stringMatching(/another state home/),
    });
    expect(verdict(vm('lab-worker-1'), 'lab', undefined, mark('lab-worker-1'), []).ours).toBe(false);
  });

  it('a stopped VM is ours only when this state home recorded launching it; a deleted one never', () => {
    expect(verdict(vm('lab-worker-1', 'Stopped'), 'lab', 'me', undefined, ['lab-worker-1']).ours).toBe(true);
    expect(verdict(vm('lab-worker-1', 'Stopped'), 'lab', 'me', undefined, []).ours).toBe(false);
    expect(verdict(vm('lab-worker-1', 'Deleted'), 'lab', 'me', undefined, ['lab-worker-1'])).toMatchObject({
      ours: false,
      why: expect.stringMatching(/multipass purge/),
    });
  });
});

describe('multipass settings', () => {
  const resolve = (file: object | undefined, flags: Record<string, string> = {}) =>
    resolveCluster(
      file ? configFileSchema.parse({ provider: 'multipass', ...file }) : undefined,
      { provider: 'multipass', ...flags },
      file ? 'lab.yaml' : undefined,
    );

  it('is a provider now (no longer refused)', () => {
    expect(providerNamed('multipass').createsMachines).toBe(true);
    expect(resolve(undefined).multipass).toEqual({ image: '24.04', cpus: 1, memory: '1G', disk: '10G' });
  });

  it('flags over the file', () => {
    const spec = resolve(
      { multipass: { image: 'noble', cpus: 2, memory: '2G', disk: '20G' } },
      { memory: '1.5G' },
    );
    expect(spec.multipass).toEqual({ image: 'noble', cpus: 2, memory: '1.5G', disk: '20G' });
  });

  it('sizes as Multipass reads them', () => {
    expect(sizeInBytes('1G')).toBe(1024 ** 3);
    expect(sizeInBytes('512MiB')).toBe(512 * 1024 ** 2);
    expect(sizeInBytes('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(sizeInBytes('2048')).toBe(2048);
    expect(sizeInBytes('2 GB x')).toBeUndefined();
    expect(sizeInBytes('1.5')).toBeUndefined();
  });

  it('bad values: exit-2 errors naming the flag or the file field', () => {
    const fails = (f: () => unknown, message: RegExp) => {
      expect(f).toThrow(InputError);
      expect(f).toThrow(message);
    };
    fails(() => resolve(undefined, { memory: 'lots' }), /^--memory: "lots" is not a size/);
    fails(
      () => resolve(undefined, { memory: '256M' }),
      /^--memory: "256M" is below Multipass's minimum of 512 MiB/,
    );
    fails(() => resolve({ multipass: { disk: '500M' } }), /^lab\.yaml: multipass\.disk: "500M" is below/);
    fails(() => resolve(undefined, { cpus: '0' }), /^--cpus: expected a whole number from 1 to 64/);
    fails(
      () => resolve(undefined, { image: 'no such image!' }),
      /^--image: "no such image!" is not a Multipass image/,
    );
    expect(() => configFileSchema.parse({ multipass: { ram: '1G' } })).toThrow(/ram/);
  });

  it('not enough memory for the VMs to launch is said before any launch', () => {
    expect(memoryProblem(5, '2G', 16 * 1024 ** 3)).toBeUndefined();
    expect(memoryProblem(5, '2G', 8 * 1024 ** 3)).toBe(
      'not enough memory: 5 VMs × 2G = 10 GiB, but this machine has 8 GiB; lower --memory (multipass.memory) or the node count',
    );
    expect(memoryProblem(0, '64G', 1024 ** 3)).toBeUndefined();
  });
});

describe('multipass in the wizard’s config file', () => {
  it('is written commented, and read back to the same settings', () => {
    const config = {
      name: 'lab',
      provider: 'multipass' as const,
      managers: 3,
      workers: 2,
      multipass: { image: 'noble', cpus: 2, memory: '2G', disk: '20G' },
    };
    const text = renderConfig(config, 'lab.yaml');
    expect(text).toMatch(/# Multipass VMs, each: image/);
    expect(text).toContain('multipass: { image: noble, cpus: 2, memory: 2G, disk: 20G }');
    const back = parseConfig(text, 'lab.yaml');
    expect(back).toEqual(config);
    expect(resolveCluster(back, {}, 'lab.yaml').multipass).toEqual(config.multipass);
  });
});
