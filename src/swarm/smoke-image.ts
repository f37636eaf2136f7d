import { createHash } from 'node:crypto';
import { tarEnd, tarEntry } from '../tar.ts';

/**
 * The smoke test's image, made by swarmup with no registry. Its one layer is the entry manager's own
 * /usr/bin/perl and the libraries `ldd` lists for it, read over SSH as a tar: Perl is in every Debian and Ubuntu
 * (perl-base is Essential), node containers included, and the probe (smoke-probe.ts) needs nothing else. The
 * layer is wrapped here, in memory, as a `docker save` archive (manifest.json, config, layer) and loaded into every
 * node's engine with POST /images/load. The config is written by swarmup, so the image ID (the digest of the config)
 * is the same on every node: the service names its image by that ID, and no engine tries a registry for it.
 */

/** The remote command: a tar of perl and its libraries (symlinks followed), base64 on one line. */
export const PERL_LAYER_COMMAND =
  'set -e; test -x /usr/bin/perl || { echo "no /usr/bin/perl (Debian\'s perl-base) on this host" >&2; exit 3; }; ' +
  "cd / && tar -ch usr/bin/perl $(ldd /usr/bin/perl | grep -o '/[^ ]*' | sed 's|^/||') | base64 -w0";

export interface TarEntry {
  name: string;
  data: Buffer;
  mode?: number;
}

/**
 * A ustar archive of regular files (tar.ts writes the entries), as `tar` reads it: mode 0644 unless given, and
 * every time stamp 0, so the same files make the same bytes on every run.
 */
export function tarArchive(entries: TarEntry[]): Buffer {
  return Buffer.concat([
    ...entries.map((e) => tarEntry(e.name, e.data, { mode: e.mode ?? 0o644, mtime: new Date(0) })),
    tarEnd(),
  ]);
}

/** Engine architecture (uname -m, as /info's Architecture) in the image config's terms (GOARCH). */
export function goArch(arch: string): string {
  const map: Record<string, string> = {
    x86_64: 'amd64',
    aarch64: 'arm64',
    armv7l: 'arm',
    i686: '386',
    ppc64le: 'ppc64le',
    s390x: 's390x',
  };
  return map[arch] ?? arch;
}

/**
 * How the service names the probe image: by the ID the engines report for it once loaded, when every node reports
 * the same one (an ID is never pulled: no engine asks a registry for it). That ID is the config's digest on the
 * classic image store and the manifest's on the containerd store (Docker 29's default): asked, not assumed. Nodes
 * of both stores report different IDs: then the tag (each engine tries a registry once, fails, and runs the local
 * image). Pure.
 */
export function serviceImage(image: SmokeImage, loadedIds: string[]): string {
  const ids = new Set(loadedIds);
  return ids.size === 1 ? [...ids][0]! : image.tag;
}

export interface SmokeImage {
  /** sha256:<digest of the config>: the image ID on every engine that loads it. */
  id: string;
  tag: string;
  /** The `docker save` archive for POST /images/load. */
  archive: Buffer;
}

/** Wrap a layer as a loadable image with the given labels (pure: the same input gives the same image ID). */
export function smokeImage(
  layer: Buffer,
  opts: { arch: string; tag: string; labels: Record<string, string> },
): SmokeImage {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const diffId = sha(layer);
  const config = JSON.stringify({
    architecture: goArch(opts.arch),
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/bin:/bin'],
      Cmd: ['/usr/bin/perl', '-v'],
      Labels: opts.labels,
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'swarmup smoke: perl and its libraries' }],
  });
  const configId = sha(config);
  const manifest = JSON.stringify([
    { Config: `${configId}.json`, RepoTags: [opts.tag], Layers: [`${diffId}/layer.tar`] },
  ]);
  const archive = tarArchive([
    { name: `${diffId}/layer.tar`, data: layer },
    { name: `${configId}.json`, data: Buffer.from(config) },
    { name: 'manifest.json', data: Buffer.from(manifest) },
  ]);
  return { id: `sha256:${configId}`, tag: opts.tag, archive };
}
