// What `import ... from 'swarmup'` gives (src/index.ts, through the package's exports): the playbook API, the
// schemas of the config file and of --json output, and their types. The types are checked by tsc (npm run
// typecheck compiles this file): an event the commands print must be a SwarmupEvent as they print it.
import { describe, expect, it } from 'vitest';
import * as swarmup from 'swarmup';
import type { ConfigFile, StatusOutput, SwarmupEvent } from 'swarmup';

describe("the package's library API", () => {
  it('exports the playbook API, the zod schemas and the types the schemas infer', () => {
    expect(typeof swarmup.definePlaybook).toBe('function');
    expect(typeof swarmup.sh).toBe('function');
    const error: SwarmupEvent = {
      event: 'error',
      message: 'n1: ssh: refused',
      exitCode: 1,
      hint: 'is sshd up?',
    };
    const removal: SwarmupEvent = {
      event: 'removal',
      cluster: 'lab',
      location: 'the Docker engine at unix:///var/run/docker.sock',
      createsMachines: true,
      resources: ['network: swarmup-lab'],
      leaving: [],
    };
    for (const e of [error, removal]) expect(swarmup.eventSchema.parse(e)).toEqual(e);
    const config: ConfigFile = { name: 'lab', provider: 'docker', managers: 3 };
    expect(swarmup.configFileSchema.parse(config)).toEqual(config);
    const status: StatusOutput = { cluster: 'lab', provider: 'docker', nodes: [] };
    expect(swarmup.statusSchema.safeParse(status).success).toBe(true);
    for (const name of [
      'cleanupEventSchema',
      'lsRowSchema',
      'lsKeptSchema',
      'planEventSchema',
      'smokeEventSchema',
    ])
      expect(swarmup, name).toHaveProperty(name);
  });
});
