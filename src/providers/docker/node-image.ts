import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { errorMessage, StepError } from '../../errors.ts';
import type { ProgressSink } from '../provider.ts';
import { engineNode, nodeDockerfile, type NodeFlavour } from './node-boot.ts';

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
  flavour: NodeFlavour = engineNode,
): Promise<string> {
  const NODE_IMAGE = flavour.image;
  try {
    await docker.getImage(NODE_IMAGE).inspect();
    return NODE_IMAGE;
  } catch {
    // missing: build it
  }
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
  const sources = '/etc/apt/sources.list.d/debian.sources';
  const args = ['--variant=apt', `--include=${flavour.packages.join(',')}`, 'bookworm', tar];
  // Use this machine's own mirror configuration when it has one (deb822 on stdin), else mmdebstrap's default.
  const { execa } = await import('execa');
  const r = await execa('mmdebstrap', existsSync(sources) ? [...args, '-'] : args, {
    reject: false,
    all: true,
    ...(existsSync(sources) ? { inputFile: sources } : { stdin: 'ignore' }),
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
  writeFileSync(join(work, 'Dockerfile'), nodeDockerfile(flavour.packages));
  const stream = await docker.buildImage({ context: work, src: ['Dockerfile'] }, { t: flavour.image });
  await followProgress(docker, stream);
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
