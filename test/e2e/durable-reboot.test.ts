import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNodeImage } from '../support/suite.ts';
import { summaryOf, swarmup, tempHome } from '../support/cli.ts';
import { stateOf } from '../support/durable.ts';
import { OwnEngine } from '../support/own-engine.ts';

/**
 * Durable clusters (1 of 3): the engine that hosts the node containers restarts (a reboot, an upgrade: on an engine
 * of the test's own); the swarm re-forms by itself in the same swarm (same ClusterID), never a second one.
 */

/** Poll until `check` returns a value, failing loudly (with the last thing seen) when it never does. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s (last: ${String(last)})`);
    await sleep(500);
  }
}

describe('the engine hosting the node containers restarts (an engine of the test own)', () => {
  const home = tempHome();
  const engine = new OwnEngine(join(home, 'engine'));
  const NAME = `e2e-reboot-${process.pid}`;
  const env = () => ({ SWARMUP_HOME: home, DOCKER_HOST: engine.host });

  beforeAll(async () => {
    await engine.start();
    await engine.loadImage(testNodeImage());
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env());
    await engine.destroy();
  });

  it('the containers come back at their addresses and the swarm re-forms by itself; up then changes nothing', async () => {
    const up = await swarmup(['up', '--name', NAME, '--json'], env());
    expect(up.code, up.stderr).toBe(0);
    const clusterId = (await stateOf(home, NAME)).clusterId;
    const addresses = async () =>
      engine
        .docker([
          'ps',
          '--filter',
          `label=swarmup.cluster=${NAME}`,
          '--format',
          `{{.Names}} {{(index .Networks)}}`,
        ])
        .then(async (out) =>
          Promise.all(
            out
              .split('\n')
              .sort()
              .map(async (l) => {
                const name = l.split(' ')[0]!;
                const ip = await engine.docker([
                  'inspect',
                  '-f',
                  `{{(index .NetworkSettings.Networks "swarmup-${NAME}").IPAddress}}`,
                  name,
                ]);
                return `${name} ${ip}`;
              }),
          ),
        );
    const before = await addresses();
    expect(before).toHaveLength(5);

    await engine.stop();
    await engine.start();
    const restarted = Date.now();
    // No swarmup command in between: only status, read again until the swarm is whole (60 s at most).
    const status = await until('status to show 5 Ready nodes and one Leader', 60_000, async () => {
      const r = await swarmup(['status', '--name', NAME, '--json'], env());
      return r.code === 0 ? r : undefined;
    });
    const seconds = (Date.now() - restarted) / 1000;
    const nodes = JSON.parse(status.stdout).nodes as Array<{ state: string; leader: boolean }>;
    expect(nodes.filter((n) => n.state === 'ready')).toHaveLength(5);
    expect(nodes.filter((n) => n.leader)).toHaveLength(1);
    expect(seconds).toBeLessThan(60);
    expect(await addresses()).toEqual(before);
    const m1 = await engine.docker([
      'exec',
      `${NAME}-manager-1`,
      'docker',
      'info',
      '--format',
      '{{.Swarm.Cluster.ID}}',
    ]);
    expect(m1).toBe(clusterId);

    const again = await swarmup(['up', '--name', NAME, '--json'], env());
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
  });
});
