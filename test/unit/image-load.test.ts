import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  imageFactsOf,
  imageRefs,
  imageStoreOf,
  normaliseImageRef,
  parseNodeList,
  planImageLoad,
  runConfigOf,
  sameImage,
  selectNodes,
  type ImageFacts,
} from '../../src/swarm/image-plan.ts';
import { inputError } from '../support/input-error.ts';

/** An image as the engines describe it: `id` differs by store, the rest is the image's content. */
const image = (id: string, layers = ['sha256:aa', 'sha256:bb']): ImageFacts => ({
  id,
  layers,
  created: '2026-12-06T17:32:48.732427944Z',
  arch: 'amd64',
  os: 'linux',
  runConfig: '{"Cmd":["/app"]}',
});

describe('image load: which images', () => {
  it('a tag defaults to latest, as docker run reads it; IDs, digests and registry ports are kept', () => {
    expect(normaliseImageRef('myapp')).toBe('myapp:latest');
    expect(normaliseImageRef('myapp:dev')).toBe('myapp:dev');
    expect(normaliseImageRef('localhost:5000/team/myapp')).toBe('localhost:5000/team/myapp:latest');
    expect(normaliseImageRef('localhost:5000/team/myapp:1.2')).toBe('localhost:5000/team/myapp:1.2');
    expect(normaliseImageRef('myapp@sha256:' + 'a'.repeat(64))).toBe('myapp@sha256:' + 'a'.repeat(64));
    expect(normaliseImageRef('sha256:' + 'b'.repeat(64))).toBe('sha256:' + 'b'.repeat(64));
    expect(normaliseImageRef('0123456789ab')).toBe('0123456789ab');
  });

  it('each image once; none, or an empty or spaced name, is bad input', () => {
    expect(imageRefs(['a', 'a:latest', 'b:1'])).toEqual(['a:latest', 'b:1']);
    expect(inputError(() => imageRefs([]))).toContain('name at least one image');
    expect(inputError(() => imageRefs(['my app']))).toContain('"my app"');
  });
});

describe('image load: which nodes', () => {
  const all = [
    { name: 'm1', role: 'manager' as const },
    { name: 'w1', role: 'worker' as const },
    { name: 'w2', role: 'worker' as const },
  ];

  it('every node by default; --nodes and --role narrow it, in the cluster order', () => {
    expect(selectNodes(all, {}, 'lab')).toEqual(['m1', 'w1', 'w2']);
    expect(selectNodes(all, { nodes: ['w2', 'm1'] }, 'lab')).toEqual(['m1', 'w2']);
    expect(selectNodes(all, { role: 'worker' }, 'lab')).toEqual(['w1', 'w2']);
    expect(selectNodes(all, { role: 'manager', nodes: ['m1', 'w1'] }, 'lab')).toEqual(['m1']);
  });

  it('an unknown node is bad input naming it and the nodes there are; an empty selection too', () => {
    expect(inputError(() => selectNodes(all, { nodes: ['w1', 'w9'] }, 'lab'))).toBe(
      '--nodes: lab has no node named w9 (its nodes: m1, w1, w2)',
    );
    expect(inputError(() => selectNodes(all.slice(0, 1), { role: 'worker' }, 'lab'))).toBe(
      'lab: no worker node to load images into',
    );
    expect(inputError(() => selectNodes(all, { role: 'manager', nodes: ['w1'] }, 'lab'))).toBe(
      'lab: no manager node among w1 to load images into',
    );
  });

  it('--nodes a,b: the names, each once; an empty one is bad input', () => {
    expect(parseNodeList('w1, w2,w1')).toEqual(['w1', 'w2']);
    expect(inputError(() => parseNodeList('w1,,w2'))).toContain('none empty');
  });
});

describe('image load: which nodes hold the image already', () => {
  it('one store: the same ID is the same image, another ID another image, none is missing', () => {
    const local = { store: 'classic' as const, image: image('sha256:c1') };
    expect(sameImage(local, { store: 'classic', image: image('sha256:c1') })).toBe(true);
    expect(sameImage(local, { store: 'classic', image: image('sha256:c2') })).toBe(false);
    expect(sameImage(local, { store: 'classic', image: undefined })).toBe(false);
  });

  it('one store: another ID is another image even with the same layers (a label or command changed)', () => {
    const local = { store: 'containerd' as const, image: image('sha256:m1') };
    expect(sameImage(local, { store: 'containerd', image: image('sha256:m2') })).toBe(false);
  });

  it('classic and containerd stores: IDs differ for one image, so its content decides', () => {
    const local = { store: 'classic' as const, image: image('sha256:config') };
    expect(sameImage(local, { store: 'containerd', image: image('sha256:manifest') })).toBe(true);
    expect(
      sameImage(local, { store: 'containerd', image: image('sha256:manifest', ['sha256:aa', 'sha256:cc']) }),
    ).toBe(false);
    expect(
      sameImage(local, {
        store: 'containerd',
        image: { ...image('sha256:manifest'), created: '2026-12-07T00:00:00Z' },
      }),
    ).toBe(false);
    expect(
      sameImage(local, { store: 'containerd', image: { ...image('sha256:manifest'), arch: 'arm64' } }),
    ).toBe(false);
    expect(
      sameImage(local, {
        store: 'containerd',
        image: { ...image('sha256:manifest'), runConfig: '{"Cmd":["/b"]}' },
      }),
    ).toBe(false);
  });

  it('the plan: per node, the images it lacks and those it holds', () => {
    const local = {
      store: 'classic' as const,
      images: new Map([
        ['app:1', image('sha256:a1')],
        ['db:2', image('sha256:d2', ['sha256:dd'])],
      ]),
    };
    const plan = planImageLoad(local, [
      {
        name: 'm1',
        store: 'classic',
        images: new Map([
          ['app:1', image('sha256:a1')],
          ['db:2', undefined],
        ]),
      },
      {
        name: 'w1',
        store: 'classic',
        images: new Map([
          ['app:1', image('sha256:old')],
          ['db:2', image('sha256:d2')],
        ]),
      },
      { name: 'w2', store: 'classic', images: new Map() },
    ]);
    expect(plan).toEqual([
      { node: 'm1', missing: ['db:2'], present: ['app:1'] },
      { node: 'w1', missing: ['app:1'], present: ['db:2'] },
      { node: 'w2', missing: ['app:1', 'db:2'], present: [] },
    ]);
  });
});

describe("image load: the engine's answers read", () => {
  it("the store from /info's DriverStatus; the facts from an image inspect of this machine's engine", async () => {
    const info = JSON.parse((await execa('docker', ['info', '--format', '{{json .}}'])).stdout) as Parameters<
      typeof imageStoreOf
    >[0];
    expect(imageStoreOf(info)).toBe('classic'); // Docker 20.10 has no containerd store
    expect(imageStoreOf({ DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] })).toBe(
      'containerd',
    );
    expect(imageStoreOf({ DriverStatus: null })).toBe('classic');
    const inspect = JSON.parse(
      (await execa('docker', ['image', 'inspect', 'swarmup/bare:bookworm-1', '--format', '{{json .}}']))
        .stdout,
    ) as Parameters<typeof imageFactsOf>[0] & { Id: string; RootFS: { Layers: string[] } };
    const facts = imageFactsOf(inspect);
    expect(facts.id).toBe(inspect.Id);
    expect(facts.layers).toEqual(inspect.RootFS.Layers);
    expect(facts).toMatchObject({ arch: 'amd64', os: 'linux' });
    expect(facts.created).toMatch(/^\d{4}-/);
  });
});

/** One image on two real engines: this machine's classic store and a node's containerd store (captured, see the file). */
const twoStores = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/images/one-image-two-stores.json'), 'utf8'),
) as {
  classic: { info: Parameters<typeof imageStoreOf>[0]; image: Parameters<typeof imageFactsOf>[0] };
  containerd: {
    info: Parameters<typeof imageStoreOf>[0];
    image: Parameters<typeof imageFactsOf>[0];
    other: Parameters<typeof imageFactsOf>[0];
  };
};

describe('image load: one image on a classic and a containerd store (captured from real engines)', () => {
  const classic = {
    store: imageStoreOf(twoStores.classic.info),
    image: imageFactsOf(twoStores.classic.image),
  };
  const containerd = imageStoreOf(twoStores.containerd.info);

  it('the engines give the loaded image two IDs, and their stores are told apart', () => {
    expect(classic.store).toBe('classic');
    expect(containerd).toBe('containerd');
    expect(imageFactsOf(twoStores.containerd.image).id).not.toBe(classic.image.id);
  });

  it('the same image there is present (a second run copies nothing); the image with one label more is not', () => {
    expect(sameImage(classic, { store: containerd, image: imageFactsOf(twoStores.containerd.image) })).toBe(
      true,
    );
    expect(sameImage(classic, { store: containerd, image: imageFactsOf(twoStores.containerd.other) })).toBe(
      false,
    );
    // Even built at the same instant (a reproducible build), its other label tells it apart.
    const sameTime = { ...twoStores.containerd.other, Created: twoStores.classic.image.Created };
    expect(sameImage(classic, { store: containerd, image: imageFactsOf(sameTime) })).toBe(false);
  });

  it("the run config reads the same from both stores' inspect (the classic one has more, empty, fields)", () => {
    expect(imageFactsOf(twoStores.containerd.image).runConfig).toBe(classic.image.runConfig);
    expect(classic.image.runConfig).toBe(
      '{"Cmd":["/usr/bin/perl","-e","sleep"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}',
    );
    expect(runConfigOf({ Labels: { b: '2', a: '1' }, Volumes: {}, User: '' })).toBe(
      '{"Labels":{"a":"1","b":"2"}}',
    );
  });
});
