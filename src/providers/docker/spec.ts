import type { CliFlags, DockerSpec } from '../../config/cluster.ts';
import { flagOverFile } from '../../config/flag-over-file.ts';
import type { ConfigFile } from '../../config/schema.ts';
import { InputError } from '../../errors.ts';

/** The suites node images are built from, oldest first: Docker 20.10, 26.1 and 28.x from Debian's own packages. */
export const ENGINE_SUITES = ['bookworm', 'trixie', 'sid'] as const;
export type EngineSuite = (typeof ENGINE_SUITES)[number];
/** Debian's current stable: what a local cluster runs unless asked otherwise. */
export const DEFAULT_SUITE: EngineSuite = 'trixie';

/** An image reference as Docker reads one: [registry/]name[:tag][@digest], lower-case names. */
const IMAGE_REF = /^[a-z0-9]+(?:[._/:-][a-z0-9]+)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * The docker provider's part of the spec: `--engine-suite` / `--node-image` over the file's `docker:` section, over
 * SWARMUP_ENGINE_SUITE; the two are one choice (an image of your own has the engine it has).
 */
export function resolveDocker(
  file: ConfigFile | undefined,
  flags: CliFlags,
  where: (field: string) => string,
  env: NodeJS.ProcessEnv = process.env,
): DockerSpec {
  const f = file?.docker ?? {};
  const given = flagOverFile(flags.engineSuite, '--engine-suite', f.engineSuite, 'docker.engineSuite', where);
  const suiteField = given.flag !== undefined || given.file ? given.field : 'SWARMUP_ENGINE_SUITE';
  const suite = given.value ?? (env.SWARMUP_ENGINE_SUITE || undefined);
  const image = flagOverFile(flags.nodeImage, '--node-image', f.nodeImage, 'docker.nodeImage', where);
  const nodeImage = image.value;
  const imageField = image.field;
  const context = flags.dockerContext !== undefined ? { context: flags.dockerContext } : {};
  if (suite !== undefined && !(ENGINE_SUITES as readonly string[]).includes(suite))
    throw new InputError(
      `${suiteField}: "${suite}" is not a suite node images are built from (${ENGINE_SUITES.join(', ')})`,
    );
  if (nodeImage !== undefined) {
    if (!IMAGE_REF.test(nodeImage))
      throw new InputError(`${imageField}: "${nodeImage}" is not an image reference (name[:tag])`);
    if (given.value !== undefined)
      throw new InputError(
        `${imageField} and ${suiteField}: give one (an image of your own has the engine it has)`,
      );
    return { suite: DEFAULT_SUITE, nodeImage, ...context };
  }
  return { suite: (suite as EngineSuite | undefined) ?? DEFAULT_SUITE, ...context };
}
