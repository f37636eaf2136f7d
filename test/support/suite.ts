import { engineNode, nodeImageName, type NodeFlavour } from '../../src/providers/docker/node-boot.ts';
import { DEFAULT_SUITE, ENGINE_SUITES, type EngineSuite } from '../../src/providers/docker/spec.ts';

/**
 * The engine the end-to-end tests run on: the Debian suite of the node image, as SWARMUP_ENGINE_SUITE says (the
 * e2e projects set it: bookworm, Docker 20.10, the oldest supported; sid, 28.x, the newest reachable here). Every
 * swarmup child inherits the variable, so `up` makes nodes of that suite with no flag of the test's.
 */
export function testSuite(): EngineSuite {
  const s = process.env.SWARMUP_ENGINE_SUITE;
  if (s && !(ENGINE_SUITES as readonly string[]).includes(s))
    throw new Error(`SWARMUP_ENGINE_SUITE=${s}: not one of ${ENGINE_SUITES.join(', ')}`);
  return (s as EngineSuite | undefined) ?? DEFAULT_SUITE;
}

/** The node image of the suite under test. */
export function testNodeImage(): string {
  return nodeImageName(testSuite());
}

/** The node flavour of the suite under test. */
export function testNode(): NodeFlavour {
  return engineNode(testSuite());
}
