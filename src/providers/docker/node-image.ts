import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { errorMessage, StepError } from '../../errors.ts';
import type { ProgressSink } from '../provider.ts';
import { engineNode, nodeDockerfile, type NodeFlavour } from './node-boot.ts';
import type { EngineSuite } from './spec.ts';

/**
 * Make sure the node image exists on the local engine. Built once and shared by every cluster (like
 * docker-machine's ISO cache), so `down` keeps it. Two ways to build it:
 *  - mmdebstrap + import, from Debian's package mirror (no container registry needed; used when mmdebstrap exists);
 *  - `docker build` from debian:bookworm-slim (needs a registry; Docker Desktop on macOS).
 * SWARMUP_NODE_IMAGE_BUILDER=mmdebstrap|docker forces one.
 */
export async function ensureNodeImage(
  docker: Docker,
  progress: ProgressSink,
  flavour: NodeFlavour = engineNode(),
): Promise<string> {
  const NODE_IMAGE = flavour.image;
  try {
    await docker.getImage(NODE_IMAGE).inspect();
    return NODE_IMAGE;
  } catch {
    // missing: build it
  }
  if (!flavour.suite)
    throw new StepError(
      'local',
      `node image ${NODE_IMAGE}`,
      'no such image on this engine (--node-image runs an image you have; docker build or docker pull it first)',
    );
  const forced = process.env.SWARMUP_NODE_IMAGE_BUILDER;
  const useMmdebstrap = forced ? forced === 'mmdebstrap' : await hasCommand('mmdebstrap');
  progress(`building node image ${NODE_IMAGE} with ${useMmdebstrap ? 'mmdebstrap' : 'docker build'} (once)`);
  const work = mkdtempSync(join(tmpdir(), 'swarmup-image-'));
  try {
    if (useMmdebstrap) await buildWithMmdebstrap(docker, work, flavour);
    else await buildWithDockerfile(docker, work, flavour);
  } catch (err) {
    throw new StepError('local', `build node image ${NODE_IMAGE}`, errorMessage(err));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return NODE_IMAGE;
}

async function hasCommand(cmd: string): Promise<boolean> {
  const { execa } = await import('execa'); // loaded only when an image is built: keeps every other command quick
  const r = await execa('sh', ['-c', `command -v ${cmd}`], { reject: false });
  return r.exitCode === 0;
}

async function buildWithMmdebstrap(docker: Docker, work: string, flavour: NodeFlavour): Promise<void> {
  const tar = join(work, 'node.tar');
  const suite = flavour.suite!;
  const args = [
    '--variant=apt',
    `--include=${flavour.packages.join(',')}`,
    // A mirror frozen in time (a snapshot) serves Release files past their Valid-Until: SWARMUP_APT_NO_VALID_UNTIL=1.
    ...(process.env.SWARMUP_APT_NO_VALID_UNTIL === '1'
      ? ['--aptopt=Acquire::Check-Valid-Until "false"']
      : []),
    suite,
    tar,
  ];
  // This machine's own mirror (its deb822 sources, for the suite asked), else mmdebstrap's default.
  const sources = mirrorSources(suite);
  const { execa } = await import('execa');
  const r = await execa('mmdebstrap', sources ? [...args, '-'] : args, {
    reject: false,
    all: true,
    ...(sources ? { input: sources } : { stdin: 'ignore' }),
  });
  if (r.exitCode !== 0)
    throw new Error(`mmdebstrap exited ${r.exitCode}: ${String(r.all).split('\n').slice(-5).join('\n')}`);
  const [repo, tag] = flavour.image.split(':') as [string, string];
  const stream = await docker.importImage(
    createReadStream(tar) as unknown as string,
    {
      repo,
      tag,
      changes: ['CMD ["/bin/bash"]', 'LABEL swarmup.image=node'],
    } as object,
  );
  await followProgress(docker, stream);
}

async function buildWithDockerfile(docker: Docker, work: string, flavour: NodeFlavour): Promise<void> {
  writeFileSync(join(work, 'Dockerfile'), nodeDockerfile(flavour.packages, flavour.suite));
  const stream = await docker.buildImage({ context: work, src: ['Dockerfile'] }, { t: flavour.image });
  await followProgress(docker, stream);
}

/**
 * This machine's Debian mirror as a deb822 sources text for `suite` (its first archive's URIs and keyring), so a
 * node image of another suite comes from the same mirror; undefined when the machine has no deb822 sources.
 */
export function mirrorSources(
  suite: EngineSuite,
  file = '/etc/apt/sources.list.d/debian.sources',
): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const first = text.split(/\n\s*\n/).find((stanza) => /^URIs:/m.test(stanza) && !/security/.test(stanza));
  const uris = first && /^URIs:\s*(.+)$/m.exec(first)?.[1]?.trim();
  if (!uris) return undefined;
  const signedBy = /^Signed-By:\s*(.+)$/m.exec(first)?.[1]?.trim();
  return [
    'Types: deb',
    `URIs: ${uris}`,
    `Suites: ${suite}`,
    'Components: main',
    ...(signedBy ? [`Signed-By: ${signedBy}`] : []),
    '',
  ].join('\n');
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
        if (err) return reject(err);
        const failed = output.find((o) => o.error || o.errorDetail);
        if (failed) return reject(new Error(failed.error ?? failed.errorDetail?.message));
        resolve();
      },
    );
  });
}
