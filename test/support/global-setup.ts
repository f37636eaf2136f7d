import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { ensureNodeImage } from '../../src/providers/docker/node-image.ts';
import { engineNode } from '../../src/providers/docker/node-boot.ts';
import { DEFAULT_SUITE, type EngineSuite } from '../../src/providers/docker/spec.ts';
import { bareNode } from './bare-nodes.ts';

/**
 * The end-to-end suite runs real engines: a Docker engine on this machine (.ci/run starts one) and the node image
 * of the project's engine suite (SWARMUP_ENGINE_SUITE in the project's env) and the bare-machine image, built once
 * here (from Debian packages with mmdebstrap when no registry answers).
 */
export default async function setup(project: TestProject): Promise<void> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `the end-to-end tests need a Docker engine (start dockerd; .ci/run does): ${(err as Error).message}`,
    );
  }
  const env = project.config.env ?? {};
  // This machine's mirror: builds for suites whose Release file it keeps past Valid-Until need the project's knob.
  if (env.SWARMUP_APT_NO_VALID_UNTIL) process.env.SWARMUP_APT_NO_VALID_UNTIL = env.SWARMUP_APT_NO_VALID_UNTIL;
  const suite = (env.SWARMUP_ENGINE_SUITE as EngineSuite | undefined) ?? DEFAULT_SUITE;
  await ensureNodeImage(docker, (m) => console.log(m), engineNode(suite));
  await ensureNodeImage(docker, (m) => console.log(m), bareNode);
}
