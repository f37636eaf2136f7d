import { statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allText,
  inNode,
  labelled,
  summaryOf,
  swarmState,
  swarmup,
  tempHome,
  type CliResult,
} from '../support/cli.ts';
import { waitUntil } from '../support/wait.ts';

/** The main job on real engines: `swarmup up` of 3 managers + 2 workers in node containers on the local engine. */
const NAME = `e2e-docker-${process.pid}`; // a run id: two runs on one engine never collide
const home = tempHome();
const env = { SWARMUP_HOME: home };
const outputs: CliResult[] = [];
const run = async (...args: string[]) => {
  const r = await swarmup([...args, '--name', NAME], env);
  outputs.push(r);
  return r;
};

/** The test reads tokens itself (inside a node) only to compare them; swarmup never shows them. */
async function joinTokens(): Promise<{ worker: string; manager: string }> {
  const worker = await inNode(`${NAME}-manager-1`, ['docker', 'swarm', 'join-token', '-q', 'worker']);
  const manager = await inNode(`${NAME}-manager-1`, ['docker', 'swarm', 'join-token', '-q', 'manager']);
  return { worker, manager };
}

describe('docker provider: up, re-run, repair, down', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env); // leftovers of an interrupted earlier run
  });
  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('plan --detailed-exitcode exits 4 while up has something to do (nothing made yet)', async () => {
    const r = await run('plan', '--detailed-exitcode');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).not.toContain('nothing to change');
    expect(await labelled('ps -a', NAME)).toEqual([]);
  });

  it('brings up 3 managers + 2 workers, verified like docker node ls', async () => {
    // While it runs, the nodes' process lists are sampled: a join token must never be on a command line.
    let sampling = true;
    let samples = 0;
    const seen: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const ps = await execa('docker', ['ps', '-q', '--filter', `label=swarmup.cluster=${NAME}`], {
          reject: false,
        });
        for (const id of String(ps.stdout).split('\n').filter(Boolean)) {
          const args = await execa('docker', ['exec', id, 'ps', '-eo', 'args'], { reject: false });
          seen.push(String(args.stdout));
          samples++;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const r = await run('up', '--json');
    sampling = false;
    await sampler;
    expect(samples).toBeGreaterThan(5);
    expect(seen.join('\n')).not.toMatch(/SWMTKN-/);
    expect(r.code, r.stderr).toBe(0);
    // Every line it printed is valid under `swarmup schema events`, read by an off-the-shelf validator.
    const schema = await swarmup(['schema', 'events'], env);
    expect(schema.code, schema.stderr).toBe(0);
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(schema.stdout) as object);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(validate(JSON.parse(line)) || validate.errors, line).toBe(true);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.changes).toBeGreaterThan(0);
    expect(s.nodes).toHaveLength(5);
    expect(s.nodes.filter((n) => n.role === 'manager')).toHaveLength(3);
    expect(s.nodes.filter((n) => n.leader)).toHaveLength(1);
    for (const n of s.nodes) expect(n).toMatchObject({ state: 'ready', availability: 'active' });
    for (const n of s.nodes.filter((x) => x.role === 'manager' && !x.leader))
      expect(n.reachability).toBe('reachable');

    // The swarm itself agrees, read from inside a node with the docker CLI.
    const ls = await inNode(`${NAME}-manager-1`, [
      'docker',
      'node',
      'ls',
      '--format',
      '{{.Hostname}} {{.Status}} {{.ManagerStatus}}',
    ]);
    expect(
      ls
        .split('\n')
        .map((l) => l.trimEnd())
        .sort(),
    ).toEqual([
      `${NAME}-manager-1 Ready Leader`,
      `${NAME}-manager-2 Ready Reachable`,
      `${NAME}-manager-3 Ready Reachable`,
      `${NAME}-worker-1 Ready`,
      `${NAME}-worker-2 Ready`,
    ]);
  });

  it('a re-run changes nothing and says so (and does not rotate the tokens)', async () => {
    const tokens = await joinTokens();
    const r = await run('up', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBe(0);
    const human = await run('up');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('nothing to change');
    expect(human.stdout).toMatch(/verified; 0 changes/);
    expect(await joinTokens()).toEqual(tokens);
  });

  it('status --json has the documented shape', async () => {
    const r = await run('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const status = JSON.parse(lines[0]!) as { cluster: string; provider: string; nodes: unknown[] };
    expect(status.cluster).toBe(NAME);
    expect(status.provider).toBe('docker');
    expect(status.nodes).toHaveLength(5);
    expect(Object.keys(status.nodes[0] as object).sort()).toEqual(
      ['availability', 'engineVersion', 'labels', 'leader', 'name', 'reachability', 'role', 'state'].sort(),
    );
  });

  it('a frozen engine (dockerd stopped with SIGSTOP): status names it within its deadline, with the repair', async () => {
    const frozen = `${NAME}-worker-2`;
    await inNode(frozen, ['pkill', '-STOP', '-x', 'dockerd']);
    try {
      const t0 = Date.now();
      const r = await run('status');
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(25_000);
      expect(r.stderr).toMatch(new RegExp(`${frozen}: engine not answering \\(.*did not answer within`));
      expect(r.stdout).toMatch(new RegExp(`${frozen} +running +not answering`));
      expect(r.stdout).toContain('to repair it: swarmup up');
    } finally {
      await inNode(frozen, ['pkill', '-CONT', '-x', 'dockerd']);
    }
  });

  it('a worker that left (now Down in the swarm) and a manager that left are brought back into the same swarm', async () => {
    const before = await swarmState(`${NAME}-manager-1`);
    const tokens = await joinTokens();
    await inNode(`${NAME}-worker-1`, ['docker', 'swarm', 'leave', '--force']);
    await inNode(`${NAME}-manager-3`, ['docker', 'swarm', 'leave', '--force']);
    // Listed Down once the managers miss the worker's heartbeats (until then a run reads it Ready, as docker node ls).
    await waitUntil(`the managers to list ${NAME}-worker-1 Down`, 60_000, async (seen) => {
      const ls = await inNode(`${NAME}-manager-1`, [
        'docker',
        'node',
        'ls',
        '--format',
        '{{.Hostname}} {{.Status}}',
      ]);
      const row = ls.split('\n').find((l) => l.startsWith(`${NAME}-worker-1 `));
      seen(row ?? 'not listed');
      return row?.endsWith(' Down') ? true : undefined;
    });
    // Pending: joins only, in the swarm stage; up to the engines nothing would change.
    expect((await run('plan', '--detailed-exitcode', '--until', 'engine')).code).toBe(0);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(4);

    const r = await run('up', '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.changes).toBeGreaterThan(0);
    // The stale Down nodes were removed: exactly five nodes, all ready.
    expect(s.nodes).toHaveLength(5);
    const worker = await swarmState(`${NAME}-worker-1`);
    expect(worker.state).toBe('active');
    expect((await inNode(`${NAME}-manager-1`, ['docker', 'node', 'ls', '-q'])).split('\n')).toContain(
      worker.nodeId,
    );
    expect((await swarmState(`${NAME}-manager-3`)).clusterId).toBe(before.clusterId);
    // Both join tokens were rotated after the joins: the ones used no longer work.
    const after = await joinTokens();
    expect(after.worker).not.toBe(tokens.worker);
    expect(after.manager).not.toBe(tokens.manager);

    const again = await run('up', '--json');
    expect(summaryOf(again).changes).toBe(0);
  });

  it('plan touches nothing and reports nothing to change on a converged cluster', async () => {
    const r = await run('plan');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing to change');
    const detailed = await run('plan', '--detailed-exitcode', '--json');
    expect(detailed.code, detailed.stderr).toBe(0);
  });

  it('no join token or unlock key in any output or state file; state files are 0600', async () => {
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await allText(home));
    expect(text).not.toMatch(/SWMTKN-/);
    expect(text).not.toMatch(/SWMKEY-/);
    for (const f of ['state.json', 'known_hosts', 'id_ed25519', 'id_ed25519.pub']) {
      expect(statSync(join(home, NAME, f)).mode & 0o777, f).toBe(0o600);
    }
  });

  it('status of a cluster that does not exist says so and writes nothing', async () => {
    const r = await swarmup(['status', '--name', 'e2e-never-made'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('e2e-never-made: status: no machines found for this cluster');
    expect(() => statSync(join(home, 'e2e-never-made'))).toThrow();
  });

  it('host keys are pinned by node, not by port: a restarted node (new SSH port) is still trusted', async () => {
    const node = `${NAME}-worker-1`;
    const portOf = async () => String((await execa('docker', ['port', node, '22/tcp'])).stdout).trim();
    const before = await portOf();
    await execa('docker', ['restart', '-t', '1', node]);
    expect(await portOf()).not.toBe(before);
    // Its engine starts at boot; wait for it, so what is tested is the SSH trust alone.
    await waitUntil(
      `the engine of ${node} to answer after the restart`,
      30_000,
      async (seen) => {
        const info = await execa('docker', ['exec', node, 'docker', 'info'], { reject: false });
        seen(`docker info exit ${info.exitCode}: ${String(info.stderr).trim().slice(0, 200)}`);
        return info.exitCode === 0 ? true : undefined;
      },
      200,
    );
    // Every host is reached over SSH again (host facts, one command each): the restarted one by its pinned key.
    const r = await run('engine', 'install', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBe(0);
    const { readFileSync } = await import('node:fs');
    const pins = readFileSync(join(home, NAME, 'known_hosts'), 'utf8')
      .trim()
      .split('\n');
    expect(pins.some((l) => l.startsWith(`${node} `))).toBe(true);
    expect(pins.filter((l) => l.startsWith('[127.0.0.1]'))).toEqual([]);
  });

  it('down pointed at another engine is refused and keeps everything; down of a cluster never made exits 1', async () => {
    const { readFileSync } = await import('node:fs');
    const recorded = (
      JSON.parse(readFileSync(join(home, NAME, 'state.json'), 'utf8')) as { endpoint: string }
    ).endpoint;
    const elsewhere = await swarmup(['down', '--yes', '--name', NAME], {
      ...env,
      DOCKER_HOST: 'unix:///tmp/swarmup-no-such-engine.sock',
    });
    outputs.push(elsewhere);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`cluster ${NAME} was made on the Docker engine at ${recorded}`);
    expect(await labelled('ps -a', NAME)).toHaveLength(5);
    expect(statSync(join(home, NAME, 'state.json')).isFile()).toBe(true);

    const never = await swarmup(['down', '--yes', '--name', 'e2e-never-made'], env);
    expect(never.code).toBe(1);
    expect(never.stderr).toContain(`nothing of this cluster found at the Docker engine at ${recorded}`);
    expect(() => statSync(join(home, 'e2e-never-made'))).toThrow();
  });

  it('down --dry-run lists what down would remove, as text and as a removal event, and removes nothing', async () => {
    const { readdirSync } = await import('node:fs');
    const before = {
      containers: await labelled('ps -a', NAME),
      volumes: await labelled('volume ls', NAME),
      networks: await labelled('network ls', NAME),
      files: readdirSync(join(home, NAME), { recursive: true }).sort(),
    };
    expect(before.containers).toHaveLength(5);
    const text = await run('down', '--dry-run');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`down removes cluster "${NAME}" from`);
    expect(text.stdout).toContain(`state: ${join(home, NAME)}`);
    const json = await run('down', '--dry-run', '--json');
    expect(json.code, json.stderr).toBe(0);
    const removal = json.events.find((e) => e.event === 'removal') as {
      resources: string[];
      stateDir: string;
    };
    expect(removal.stateDir).toBe(join(home, NAME));
    for (const r of removal.resources) expect(text.stdout).toContain(r);
    expect(removal.resources.join('\n')).toContain(`${NAME}-manager-1`);
    expect({
      containers: await labelled('ps -a', NAME),
      volumes: await labelled('volume ls', NAME),
      networks: await labelled('network ls', NAME),
      files: readdirSync(join(home, NAME), { recursive: true }).sort(),
    }).toEqual(before);
    expect((await swarmState(`${NAME}-worker-1`)).state).toBe('active');
  });

  it('down leaves no container, network or volume carrying the cluster label, and no state', async () => {
    const r = await run('down', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(await labelled('ps -a', NAME)).toEqual([]);
    expect(await labelled('volume ls', NAME)).toEqual([]);
    expect(await labelled('network ls', NAME)).toEqual([]);
    expect(() => statSync(join(home, NAME))).toThrow();
  });
});
