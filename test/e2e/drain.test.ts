import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNode, summaryOf, swarmup } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * `swarmup drain` / `activate` on real engines: one cluster of 1 manager + 2 workers in node containers running
 * `web`, 4 replicas constrained to node.role==worker (2 on each worker). Its tasks run an image made in the manager
 * from its own /usr/bin/sleep and /bin/sh (for the health check), loaded into each worker and named by ID (no engine
 * asks a registry for it).
 */
const cluster = clusterFixture('e2e-drain', { managers: 1 });
const { name: NAME, env, outputs, run, node } = cluster;
const [M1, W1, W2] = [node('manager-1'), node('worker-1'), node('worker-2')];

/** Running web tasks per node, as the manager's engine lists them. */
async function webTasks(): Promise<Record<string, number>> {
  const out = await inNode(M1, [
    'docker',
    'service',
    'ps',
    'web',
    '--filter',
    'desired-state=running',
    '--format',
    '{{.Node}}|{{.CurrentState}}',
  ]);
  const count: Record<string, number> = {};
  for (const [host, state] of out.split('\n').map((l) => l.split('|')))
    if (state?.startsWith('Running')) count[host!] = (count[host!] ?? 0) + 1;
  return count;
}

const availability = (host: string) =>
  inNode(M1, ['docker', 'node', 'inspect', '-f', '{{.Spec.Availability}}', host]);

const canonical = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());

/** `drain NODE --for -- CMD...`: the cluster's name before the `--` (after it, every word is the command's). */
async function drainFor(host: string, ...command: string[]) {
  const r = await swarmup(['drain', host, '--name', NAME, '--yes', '--for', '--', ...command], env);
  outputs.push(r);
  return r;
}

async function waitWeb(what: string, want: Record<string, number>): Promise<void> {
  await waitUntil(what, 120_000, async (seen) => {
    const now = await webTasks();
    seen(JSON.stringify(now));
    return canonical(now) === canonical(want) ? true : undefined;
  });
}

describe('drain and activate (1 manager + 2 workers, web: 4 replicas on the workers)', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
    const up = await run('up', '--provider', 'docker', '--managers', '1', '--workers', '2', '--yes');
    if (up.code !== 0) throw new Error(`up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    await inNode(M1, [
      'sh',
      '-c',
      "cd / && tar -ch usr/bin/sleep bin/sh $(ldd /usr/bin/sleep /bin/sh | grep -o '/[^ ]*' | sort -u | sed 's|^/||') | " +
        'docker import -c \'CMD ["/usr/bin/sleep","infinity"]\' - drain-sleep:1 >/dev/null',
    ]);
    const image = await inNode(M1, ['docker', 'image', 'inspect', '-f', '{{.Id}}', 'drain-sleep:1']);
    const saved = await execa('docker', ['exec', M1, 'docker', 'save', 'drain-sleep:1'], {
      encoding: 'buffer',
    });
    for (const w of [W1, W2])
      await execa('docker', ['exec', '-i', w, 'docker', 'load'], { input: saved.stdout as Uint8Array });
    await inNode(M1, [
      'docker',
      'service',
      'create',
      '--detach',
      '--no-resolve-image',
      // sleep as PID 1 ignores SIGTERM: stopped at once rather than after Docker's 10 s.
      '--stop-grace-period',
      '1s',
      // A task counts as running only once healthy, 3 s after its start (the first check): a drain that returned
      // when the old tasks had stopped (1 s), not when the new ones run, is seen returning too early.
      '--health-cmd',
      'true',
      '--health-interval',
      '3s',
      '--name',
      'web',
      '--replicas',
      '4',
      '--constraint',
      'node.role==worker',
      image,
    ]);
    await waitWeb('web 2 and 2 on the workers', { [W1]: 2, [W2]: 2 });
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
    expect(outputs.map((o) => o.stdout + o.stderr).join('\n')).not.toMatch(/SWMTKN-1-|SWMKEY-1-/);
  });

  it('an unknown node, and no --yes without a terminal: exit 2, nothing changed', async () => {
    const unknown = await run('drain', 'worker-9', '--yes');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`unknown node "worker-9"; nodes of ${NAME}: `);
    expect(unknown.stderr).toContain(W1);
    const asked = await run('drain', W1);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('pass --yes');
    expect(await availability(W1)).toBe('active');
  });

  it('drain of a worker running 2 of 4: returns once they run on the other worker', async () => {
    const r = await run('drain', W1, '--yes');
    expect(r.code, r.stderr).toBe(0);
    // Read at once: drain returned only when the moved tasks ran elsewhere.
    expect(await webTasks()).toEqual({ [W2]: 4 });
    expect(await availability(W1)).toBe('drain');
    expect(r.stdout).toMatch(/still on the node: web\.\d/);
    // Run again on the drained node: it converges (waits, changes nothing).
    const again = await run('drain', W1, '--yes', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again).changes).toBe(0);
  });

  it('refuses to drain the last worker web may run on: exit 2, nothing changed', async () => {
    const r = await run('drain', W2, '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `not drained: ${W2} is the last active node that service web (node.role==worker)`,
    );
    expect(await availability(W2)).toBe('active');
  });

  it('activate brings it back: web scaled to 6 places its new tasks there', async () => {
    const r = await run('activate', W1, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === 'action')).toMatchObject([
      { kind: 'activate', host: W1, status: 'ok' },
    ]);
    expect(await availability(W1)).toBe('active');
    await inNode(M1, ['docker', 'service', 'scale', '--detach', 'web=6']);
    await waitWeb('web 2 on the activated worker', { [W1]: 2, [W2]: 4 });
  });

  it('drain --for runs the command on the drained node (its tasks gone), then activates it', async () => {
    const r = await drainFor(
      W1,
      'sh',
      '-c',
      'echo "maintenance on $(hostname): $(docker ps -q --filter label=com.docker.swarm.service.name=web | wc -l) web containers"; echo to-stderr >&2',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`maintenance on ${W1}: 0 web containers`);
    expect(r.stdout).toContain('to-stderr');
    expect(await availability(W1)).toBe('active');
    expect(await webTasks()).toEqual({ [W2]: 6 });
  });

  it('drain --for with a failing command: the node stays drained, exit 3 naming host, step and cause', async () => {
    const r = await drainFor(W1, 'sh', '-c', 'echo failing; exit 7');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${W1}: run "sh -c echo failing; exit 7" (the node stays drained;`);
    expect(r.stderr).toContain('exited 7');
    expect(await availability(W1)).toBe('drain');
    expect((await run('activate', W1, '--yes')).code).toBe(0);
    expect(await availability(W1)).toBe('active');
  });

  it('draining the manager says it stays a raft voter; it stays the leader', async () => {
    const r = await run('drain', M1, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `${M1} is a manager: drained, it stays a raft voter (1 manager, quorum unchanged)`,
    );
    expect(await availability(M1)).toBe('drain');
    expect(await inNode(M1, ['docker', 'node', 'inspect', '-f', '{{.ManagerStatus.Leader}}', M1])).toBe(
      'true',
    );
    expect((await run('activate', M1, '--yes')).code).toBe(0);
  });

  it('a drain the swarm cannot finish (no memory left on the other worker): exit 3 at the deadline, naming why', async () => {
    // Two replicas reserving 60% of a node's memory each: one per worker, never two on one.
    const mem = Number(await inNode(M1, ['docker', 'info', '-f', '{{.MemTotal}}']));
    await inNode(M1, [
      'sh',
      '-c',
      `docker service create --detach --no-resolve-image --name big --replicas 2 --stop-grace-period 1s ` +
        `--constraint node.role==worker --reserve-memory ${Math.floor(mem * 0.6)} ` +
        "$(docker service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' web)",
    ]);
    await waitUntil('big running on both workers', 120_000, async (seen) => {
      const out = await inNode(M1, [
        'docker',
        'service',
        'ps',
        'big',
        '--format',
        '{{.Node}} {{.CurrentState}}',
      ]);
      seen(out);
      return out.split('\n').filter((l) => l.includes(' Running')).length === 2 ? true : undefined;
    });
    const r = await run('drain', W1, '--yes', '--drain-timeout', '5');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /big: 1 of 2 replicas run elsewhere \(no suitable node \([^)]*insufficient resources[^)]*\)\) \[constraints: node.role==worker\]/,
    );
    expect(r.stderr).toContain('the swarm cannot place them');
    expect(await availability(W1)).toBe('drain');
    await inNode(M1, ['docker', 'service', 'rm', 'big']);
    expect((await run('activate', W1, '--yes')).code).toBe(0);
  });
});
