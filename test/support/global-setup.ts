import Docker from 'dockerode';
import { ensureNodeImage } from '../../src/providers/docker/node-image.ts';
import { bareNode } from './bare-nodes.ts';

/**
 * The end-to-end suite runs real engines: a Docker engine on this machine (.ci/run starts one) and the node image
 * and bare-machine images (built once here, from Debian packages with mmdebstrap when no registry answers).
 */
export default async function setup(): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `the end-to-end tests need a Docker engine (start dockerd; .ci/run does): ${(err as Error).message}`,
    );
  }
  await ensureNodeImage(docker, (m) => console.log(m));
  await ensureNodeImage(docker, (m) => console.log(m), bareNode);
}
