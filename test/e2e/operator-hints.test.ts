import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, inNode, labelled, swarmup } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { stopNodeEngine } from '../support/node-engine.ts';
import { inTerminal } from '../support/terminal.ts';

/**
 * The operator's side of failures and removal, on one 1+0 docker cluster: `down` on a terminal lists what it would
 * remove and "n" keeps all of it; a login the node refuses and an engine that stopped each end with the hint that
 * says what to do, on stderr and in the `--json` error event.
 */
const { name: NAME, home, env } = clusterFixture('e2e-hints');
const node = `${NAME}-manager-1`;
const dockerConfig = childEnv({}).DOCKER_CONFIG!;
const contexts = async () =>
  String(
    (
      await execa('docker', ['context', 'ls', '--format', '{{.Name}}'], {
        env: { DOCKER_CONFIG: dockerConfig },
      })
    ).stdout,
  ).split('\n');

describe('operator hints and down on a terminal', () => {
  beforeAll(async () => {
    const up = await swarmup(['up', '--name', NAME, '--managers', '1', '--workers', '0'], env);
    expect(up.code, up.stderr).toBe(0);
  });

  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it("down on a terminal lists the container, volume, network, docker context and state; 'n' keeps everything", async () => {
    const before = {
      containers: await labelled('ps -a', NAME),
      volumes: await labelled('volume ls', NAME),
      networks: await labelled('network ls', NAME),
    };
    expect(await contexts()).toContain(`swarmup-${NAME}`);
    const r = await inTerminal(`down --name ${NAME}`, 'n', { ...env, DOCKER_CONFIG: dockerConfig });
    expect(r.asked).toContain(`down removes cluster "${NAME}" from the Docker engine at`);
    expect(r.asked).toContain(`containers: ${node}`);
    expect(r.asked).toContain(`volumes: ${node}-docker`);
    expect(r.asked).toContain(`network: swarmup-${NAME}`);
    expect(r.asked).toContain(`docker context: swarmup-${NAME}`);
    expect(r.asked).toContain(`state: ${join(home, NAME)}`);
    expect(r.screen).toContain('swarmup: nothing done');
    expect(r.exit).toBe(0);
    expect({
      containers: await labelled('ps -a', NAME),
      volumes: await labelled('volume ls', NAME),
      networks: await labelled('network ls', NAME),
    }).toEqual(before);
    expect(await contexts()).toContain(`swarmup-${NAME}`);
    expect(existsSync(join(home, NAME, 'state.json'))).toBe(true);
  });

  it('ssh-auth: a key the node refuses ends with the hint naming user, key and ssh-copy-id (text and --json)', async () => {
    const key = join(home, 'wrong_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const port = Number(
      String((await execa('docker', ['port', node, '22/tcp'])).stdout)
        .split(':')
        .pop(),
    );
    const inventory = join(home, 'wrong-key.yaml');
    writeFileSync(
      inventory,
      stringify({
        name: 'wrongkey',
        provider: 'ssh',
        ssh: { user: 'root', privateKey: key },
        hosts: [{ name: 'box', address: '127.0.0.1', port }],
      }),
    );
    const r = await swarmup(['status', '--config', inventory], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `box: connect over SSH: root@127.0.0.1:${port}: All configured authentication methods failed`,
    );
    expect(r.stderr).toContain(
      `swarmup: hint: box refused root@127.0.0.1 port ${port} with key ${key}: install its public key there ` +
        `(ssh-copy-id -i ${key}.pub -p ${port} root@127.0.0.1)`,
    );
    const j = await swarmup(['plan', '--config', inventory, '--json'], env);
    const error = j.events.find((e) => e.event === 'error');
    expect(error?.hint).toContain(`ssh-copy-id -i ${key}.pub -p ${port} root@127.0.0.1`);
  });

  it('engine-on-host: a stopped engine: status names it and the repair; a command that needs it ends with the hint; up starts it', async () => {
    await stopNodeEngine(node);
    const status = await swarmup(['status', '--name', NAME], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`${node} +running +not answering`));
    expect(status.stdout).toContain('to repair it: swarmup up');
    const st = await swarmup(['status', '--name', NAME, '--json'], env);
    expect(JSON.parse(st.stdout)).toMatchObject({
      state: 'broken',
      hosts: [{ name: node, machine: 'running', engine: 'not answering' }],
      repair: 'swarmup up',
    });

    const r = await swarmup(['rotate-tokens', '--name', NAME], env);
    expect(r.code).toBe(1);
    // The cause as the transport saw it: the socket gone, or (an engine caught mid-shutdown) the socket hung up.
    expect(r.stderr).toMatch(new RegExp(`${node}: read swarm facts: .*(docker\\.sock|socket hang up)`));
    expect(r.stderr).toContain(
      `swarmup: hint: the Docker engine of ${node} does not answer: docker ps --filter label=swarmup.cluster=${NAME} ` +
        `shows whether its container runs, and swarmup ssh --name ${NAME} ${node} -- pgrep -a dockerd whether the engine does`,
    );
    const j = await swarmup(['rotate-tokens', '--name', NAME, '--json'], env);
    const error = j.events.find((e) => e.event === 'error');
    expect(error?.hint).toContain(`the Docker engine of ${node} does not answer`);

    // The repair status names: the engine started again as the node starts it, in the same swarm.
    const before = await inNode(node, ['cat', '/var/lib/swarmup/dockerd.cmdline']);
    const up = await swarmup(['up', '--name', NAME, '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.events).toContainEqual(
      expect.objectContaining({ event: 'action', kind: 'engine', host: node, status: 'ok' }),
    );
    expect(await inNode(node, ['sh', '-c', 'tr "\\0" " " </proc/$(cat /var/run/docker.pid)/cmdline'])).toBe(
      before.split('\n').join(' '),
    );
  });
});
