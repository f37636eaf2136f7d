import { resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, summaryOf, swarmState, swarmup } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';

/** Ctrl-C during up on real engines: the first stops between steps, the run says it is partly applied (exit 3). */
const { name: NAME, env } = clusterFixture('e2e-sigint');
const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

describe('SIGINT during up', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('the first SIGINT during the manager joins stops before the next step: exit 3, and a re-run converges', async () => {
    const child = execa('node', [BIN, 'up', '--name', NAME, '--json'], {
      env: childEnv(env),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 300_000,
    });
    let sent = false;
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      // The first manager joined: send Ctrl-C while the second one is about to join.
      if (
        !sent &&
        /"kind":"join","host":"[^"]*manager-2"[^\n]*"status":"ok"|"status":"ok"[^\n]*"kind":"join","host":"[^"]*manager-2"/.test(
          stdout,
        )
      ) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(sent, stdout).toBe(true);
    expect(r.exitCode, String(r.stderr)).toBe(3);
    expect(String(r.stderr)).toContain('SIGINT: stopping after the steps under way');
    expect(String(r.stderr)).toContain('run the same command again');
    // The join under way (manager-3's, which starts the moment manager-2's ends) finished; nothing after it
    // started: the workers never joined.
    for (const w of ['worker-1', 'worker-2'])
      expect((await swarmState(`${NAME}-${w}`)).state, w).toBe('inactive');
    expect(stdout).not.toMatch(/"event":"action","status":"ok","kind":"join","host":"[^"]*worker/);
    expect(stdout).toMatch(
      /"task":"[^"]*worker-1: join as worker","status":"failed","error":"stopped by SIGINT/,
    );

    const again = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).ok).toBe(true);
    expect(summaryOf(again).nodes).toHaveLength(5);
  });
});
