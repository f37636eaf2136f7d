import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allText,
  failureEvents,
  inNode,
  summaryOf,
  swarmState,
  swarmup,
  tempHome,
  type CliResult,
} from '../support/cli.ts';
import { killSmokeOnceItsServiceRuns, smokeServices } from '../support/smoke-kill.ts';
import { nodeEngineRuns, startNodeEngine, stopNodeEngine } from '../support/node-engine.ts';
import { inTerminal } from '../support/terminal.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * The ssh provider against machines "the user already has": node containers (sshd + engine, no swarm) made by the
 * docker provider under another cluster name, then listed by address and port in a config file like any VMs.
 */
const MACHINES = `e2e-ssh-${process.pid}`;
const home = tempHome();
const env = { SWARMUP_HOME: home };
const outputs: CliResult[] = [];
const run = async (...args: string[]) => {
  const r = await swarmup(args, env);
  outputs.push(r);
  return r;
};

interface Box {
  container: string;
  port: number;
  ip: string;
}
const boxes: Box[] = [];

async function freeClosedPort(): Promise<number> {
  return new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function writeConfig(file: string, hosts: Array<Record<string, unknown>>): string {
  const path = join(home, file);
  writeFileSync(
    path,
    stringify({
      name: 'lab',
      provider: 'ssh',
      ssh: { user: 'root', port: 22, privateKey: join(home, MACHINES, 'id_ed25519') },
      hosts,
    }),
  );
  return path;
}

const hostEntry = (b: Box, i: number) => ({
  name: `node-${i + 1}`,
  address: '127.0.0.1',
  port: b.port,
  advertiseAddress: b.ip,
});

const COUNT_CHAIN = 'swarmup-test-ssh';

/** Start counting the SSH connections a box is asked for, by where they come from (iptables counters only). */
async function countSshConnections(b: Box, bastion: string): Promise<void> {
  await sshConnectionsCounted(b).catch(() => undefined);
  const rules = [
    `iptables -N ${COUNT_CHAIN}`,
    `iptables -A ${COUNT_CHAIN} -i lo -j RETURN`,
    `iptables -A ${COUNT_CHAIN} -s ${bastion} -j RETURN`,
    `iptables -A ${COUNT_CHAIN} -j RETURN`,
    `iptables -I INPUT 1 -p tcp --dport 22 --syn -j ${COUNT_CHAIN}`,
  ];
  await inNode(b.container, ['sh', '-c', rules.join(' && ')]);
}

/** The counts since countSshConnections, and the counting rules removed. */
async function sshConnectionsCounted(b: Box): Promise<{ self: number; bastion: number; other: number }> {
  const out = await inNode(b.container, ['iptables', '-L', COUNT_CHAIN, '-v', '-n', '-x']);
  await inNode(b.container, [
    'sh',
    '-c',
    `iptables -D INPUT -p tcp --dport 22 --syn -j ${COUNT_CHAIN}; iptables -F ${COUNT_CHAIN}; iptables -X ${COUNT_CHAIN}`,
  ]);
  const [self, bastion, other] = out
    .split('\n')
    .filter((l) => /^\s*\d+\s+\d+\s+RETURN/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  return { self: self!, bastion: bastion!, other: other! };
}

describe('ssh provider: machines from a config file', () => {
  let good: string;

  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', MACHINES], env);
    const made = await swarmup(
      ['up', '--until', 'provision', '--name', MACHINES, '--managers', '3', '--workers', '3'],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const ps = await execa('docker', [
      'ps',
      '--filter',
      `label=swarmup.cluster=${MACHINES}`,
      '--format',
      '{{.Names}}',
    ]);
    for (const container of String(ps.stdout).split('\n').sort()) {
      const port = Number(
        String((await execa('docker', ['port', container, '22/tcp'])).stdout)
          .split(':')
          .pop(),
      );
      const ip = String(
        (
          await execa('docker', [
            'inspect',
            '-f',
            `{{(index .NetworkSettings.Networks "swarmup-${MACHINES}").IPAddress}}`,
            container,
          ])
        ).stdout,
      ).trim();
      boxes.push({ container, port, ip });
    }
    expect(boxes).toHaveLength(6);
    good = writeConfig('lab.yaml', boxes.slice(0, 5).map(hostEntry));
  });

  afterAll(async () => {
    await swarmup(['down', '--yes', '--name', MACHINES], env);
  });

  it('one unreachable host whose role is decided at planning (auto): stops before changing anything, naming the host and the cause', async () => {
    const ghostPort = await freeClosedPort();
    const bad = writeConfig('with-ghost.yaml', [
      ...boxes.slice(0, 5).map(hostEntry),
      { name: 'ghost', address: '127.0.0.1', port: ghostPort },
    ]);
    const r = await run('up', '--config', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`ghost: connect over SSH: root@127.0.0.1:${ghostPort}: .*ECONNREFUSED`),
    );
    for (const b of boxes.slice(0, 5)) expect((await swarmState(b.container)).state).toBe('inactive');
  });

  it('bootstraps 3 managers + 2 workers over SSH and verifies', async () => {
    const r = await run('up', '--config', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.nodes.map((n) => [n.name, n.role])).toEqual([
      ['node-1', 'manager'],
      ['node-2', 'manager'],
      ['node-3', 'manager'],
      ['node-4', 'worker'],
      ['node-5', 'worker'],
    ]);
  });

  it('a re-run changes nothing', async () => {
    const r = await run('up', '--inventory', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).changes).toBe(0);
  });

  it('a worker not reached over SSH is left out and named; the others go on; a member left out keeps its node', async () => {
    const six = boxes[5]!;
    const withSix = writeConfig('with-node-6.yaml', [
      ...boxes.slice(0, 5).map(hostEntry),
      { ...hostEntry(six, 5), role: 'worker' },
    ]);
    const sshd = {
      stop: () => inNode(six.container, ['pkill', '-x', 'sshd']),
      start: () =>
        inNode(six.container, [
          '/usr/sbin/sshd',
          '-o',
          'PasswordAuthentication=no',
          '-o',
          'PermitRootLogin=prohibit-password',
        ]),
    };
    const problems = (r: CliResult) => (summaryOf(r).problems ?? []).join('\n');
    try {
      // A new worker whose sshd is down, while node-5 left the swarm: node-5 joins again, node-6 is named.
      await sshd.stop();
      await inNode(boxes[4]!.container, ['docker', 'swarm', 'leave', '--force']);
      const r = await run('up', '--config', withSix, '--json');
      expect(r.code, r.stderr + failureEvents(r)).toBe(3);
      expect(r.events.filter((e) => e.event === 'problem').map((e) => e.host)).toEqual(['node-6']);
      expect(summaryOf(r).ok).toBe(false);
      expect(problems(r)).toMatch(/^node-6: not reached over SSH \(.+\): left out of this run/);
      expect((await swarmState(boxes[4]!.container)).state).toBe('active');
      expect((await swarmState(six.container)).state).toBe('inactive');

      // Reached again: it joins.
      await sshd.start();
      const joined = await run('up', '--config', withSix, '--json');
      expect(joined.code, joined.stderr + failureEvents(joined)).toBe(0);
      const sixId = (await swarmState(six.container)).nodeId;
      expect(sixId).not.toBe('');

      // A member whose machine is down (engine stopped, sshd down): the managers list it Down, so it is read from
      // the host, which does not answer. It is left out: its node is neither removed nor joined again, and stays
      // recorded for the next run.
      await stopNodeEngine(six.container);
      await sshd.stop();
      await waitUntil('node-1 to list node-6 Down', 60_000, async (seen) => {
        const state = await inNode(boxes[0]!.container, [
          'docker',
          'node',
          'inspect',
          sixId,
          '--format',
          '{{.Status.State}}',
        ]);
        seen(state);
        return state === 'down' ? true : undefined;
      });
      const down = await run('up', '--config', withSix, '--json');
      expect(down.code, down.stderr + failureEvents(down)).toBe(1);
      expect(summaryOf(down).changes).toBe(0);
      expect(problems(down)).toMatch(/^node-6: not reached over SSH/);
      expect(await inNode(boxes[0]!.container, ['docker', 'node', 'ls', '-q'])).toContain(sixId);
      const state = JSON.parse(readFileSync(join(home, 'lab', 'state.json'), 'utf8')) as {
        nodeIds?: Record<string, string>;
      };
      expect(state.nodeIds?.['node-6']).toBe(sixId);

      // Its machine back: the same node, nothing to change.
      await startNodeEngine(six.container);
      await sshd.start();
      const back = await run('up', '--config', withSix, '--json');
      expect(back.code, back.stderr + failureEvents(back)).toBe(0);
      expect((await swarmState(six.container)).nodeId).toBe(sixId);
    } finally {
      await sshd.start().catch(() => undefined); // already running
      if (!(await nodeEngineRuns(six.container))) await startNodeEngine(six.container);
      // Taken out of the inventory again, it leaves: the cluster the next tests expect.
      const out = await run('up', '--config', good, '--json');
      expect(out.code, out.stderr + failureEvents(out)).toBe(0);
    }
    expect((await swarmState(six.container)).state).toBe('inactive');
  });

  it('a host taken out of the inventory leaves the swarm on up, a manager demoted first; put back, it joins again', async () => {
    const node3 = boxes[2]!;
    const before = await swarmState(boxes[0]!.container);
    const old = await swarmState(node3.container);
    const without3 = writeConfig(
      'without-node-3.yaml',
      boxes.slice(0, 5).flatMap((b, i) => (i === 2 ? [] : [hostEntry(b, i)])),
    );
    const r = await run('up', '--config', without3, '--json');
    expect(r.code, r.stderr).toBe(0);
    const done = r.events
      .filter((e) => e.event === 'action' && e.status === 'ok')
      .map((e) => `${e.kind as string}:${(e.host as string | undefined) ?? (e.hostname as string)}`);
    // node-4 takes the manager seat before node-3 gives its own up; node-3 is demoted before it leaves.
    expect(done).toEqual([
      'promote:node-4',
      'drain:node-3',
      'demote:node-3',
      'leave:node-3',
      `remove-node:${node3.container}`,
    ]);
    expect(summaryOf(r).ok).toBe(true);
    expect((await swarmState(node3.container)).state).toBe('inactive');
    const ids = (await inNode(boxes[0]!.container, ['docker', 'node', 'ls', '-q'])).split('\n');
    expect(ids).toHaveLength(4);
    expect(ids).not.toContain(old.nodeId);
    expect((await swarmState(boxes[0]!.container)).clusterId).toBe(before.clusterId);

    const back = await run('up', '--config', good, '--json');
    expect(back.code, back.stderr).toBe(0);
    expect(summaryOf(back).ok).toBe(true);
    // Back in the same swarm: a new node (it left), as a worker, listed Ready by node-1 of the same cluster.
    const rejoined = await swarmState(node3.container);
    expect(rejoined).toMatchObject({ state: 'active', clusterId: '' });
    expect(rejoined.nodeId).not.toBe(old.nodeId);
    expect(
      await inNode(boxes[0]!.container, [
        'docker',
        'node',
        'inspect',
        rejoined.nodeId,
        '--format',
        '{{.Status.State}}',
      ]),
    ).toBe('ready');
    expect((await swarmState(boxes[0]!.container)).clusterId).toBe(before.clusterId);
  });

  it('reaches the hosts through a bastion (ssh.bastion), one jump connection shared by all', async () => {
    const viaBastion = join(home, 'bastion.yaml');
    writeFileSync(
      viaBastion,
      stringify({
        name: 'lab',
        provider: 'ssh',
        ssh: {
          user: 'root',
          privateKey: join(home, MACHINES, 'id_ed25519'),
          bastion: `root@127.0.0.1:${boxes[0]!.port}`,
        },
        // The hosts' own cluster addresses, reachable only from inside their network: through node-1's sshd.
        hosts: boxes.slice(0, 5).map((b, i) => ({ name: `node-${i + 1}`, address: b.ip })),
      }),
    );
    // Each host's sshd counts the SSH connections it is asked for (TCP SYNs to port 22): from itself (lo), from
    // the bastion's address, from anywhere else (this machine, through the published port).
    const counted = boxes.slice(0, 5);
    await Promise.all(counted.map((b) => countSshConnections(b, boxes[0]!.ip)));
    let seen: Array<Awaited<ReturnType<typeof sshConnectionsCounted>>> = [];
    const r = await run('status', '--config', viaBastion, '--json').finally(async () => {
      seen = await Promise.all(counted.map((b) => sshConnectionsCounted(b)));
    });
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as { nodes: Array<{ state: string }> };
    expect(status.nodes.map((n) => n.state)).toEqual(['ready', 'ready', 'ready', 'ready', 'ready']);
    // One connection from this machine, to the bastion; every host (the bastion's own sshd as node-1 too) reached
    // once, through it.
    expect(seen).toEqual([
      { self: 1, bastion: 0, other: 1 },
      ...counted.slice(1).map(() => ({ self: 0, bastion: 1, other: 0 })),
    ]);
  });

  it('a host of a different swarm is reported and left alone', async () => {
    const stray = boxes[5]!;
    await inNode(stray.container, ['docker', 'swarm', 'init', '--advertise-addr', stray.ip]);
    const before = await swarmState(stray.container);
    const withStray = writeConfig('with-stray.yaml', boxes.map(hostEntry));
    const r = await run('up', '--config', withStray);
    expect(r.code).toBe(1); // nothing changed, and the cluster is not the one asked for
    expect(r.stderr).toMatch(/node-6: belongs to a different swarm/);
    expect(r.stderr).toMatch(/node-6: not a node of the swarm/);
    expect(await swarmState(stray.container)).toEqual(before);
    await inNode(stray.container, ['docker', 'swarm', 'leave', '--force']);
  });

  it('runs a TypeScript playbook against the inventory: parallel, serial and quoted steps', async () => {
    const pb = resolve(import.meta.dirname, '../fixtures/hostnames.playbook.ts');
    const r = await run('run', pb, '--config', good, '--json');
    expect(r.code, r.stderr).toBe(0);
    const logs = r.events.filter((e) => e.event === 'log').map((e) => e.message as string);
    for (const b of boxes.slice(0, 5))
      expect(logs).toContain(`node-${boxes.indexOf(b) + 1} is ${b.container}`);
    expect(logs).toContain(
      'order: start node-1, end node-1, start node-2, end node-2, start node-3, end node-3',
    );
    expect(logs).toContain(`echo: it's $HOME; rm -rf /nope`);
    expect(logs).toContain(`argv: it's $HOME; rm -rf /nope|two words|`);
    expect(logs).toContain('failed: node-3: failing: `echo to-stderr >&2; exit 3` exited 3: to-stderr');
  });

  it('uses ssh-agent when no privateKey is given, and says so when there is neither', async () => {
    const noKey = join(home, 'agent.yaml');
    writeFileSync(
      noKey,
      stringify({ name: 'lab', provider: 'ssh', hosts: boxes.slice(0, 5).map(hostEntry) }),
    );
    const agent = await execa('ssh-agent', ['-s']);
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(String(agent.stdout))![1]!;
    const pid = /SSH_AGENT_PID=(\d+);/.exec(String(agent.stdout))![1]!;
    try {
      await execa('ssh-add', ['-q', join(home, MACHINES, 'id_ed25519')], { env: { SSH_AUTH_SOCK: sock } });
      const r = await swarmup(['status', '--config', noKey, '--json'], { ...env, SSH_AUTH_SOCK: sock });
      outputs.push(r);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { nodes: unknown[] }).nodes).toHaveLength(5);
    } finally {
      process.kill(Number(pid));
    }
    const none = await swarmup(['status', '--config', noKey], { ...env, SSH_AUTH_SOCK: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/node-\d: no privateKey given and no ssh-agent/);
  });

  it('a changed host key is refused, naming the host; the hint names the known_hosts line to remove (text and --json)', async () => {
    const b = boxes[4]!;
    await inNode(b.container, [
      'sh',
      '-c',
      'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && pkill -HUP -x sshd',
    ]);
    // sshd re-executes itself on SIGHUP: wait until it offers the new key (a fixed pause lost that race under load).
    const fresh = (await inNode(b.container, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).split(' ')[1]!;
    await waitUntil(`${b.container}: sshd offering its new host key`, 30_000, async (seen) => {
      const k = await execa('ssh-keyscan', ['-t', 'ed25519', '-p', String(b.port), '127.0.0.1'], {
        reject: false,
      });
      seen(String(k.stdout || k.stderr || `exit ${k.exitCode}`));
      return String(k.stdout).includes(fresh) ? true : undefined;
    });
    const r = await run('status', '--config', good);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/node-5: the SSH host key of \[127\.0\.0\.1\]:\d+ has changed/);
    // The message names the file to edit if the machine was rebuilt on purpose; the hint, the line that pins it.
    const kh = join(home, 'lab', 'known_hosts');
    expect(r.stderr).toContain(kh);
    const { readFileSync } = await import('node:fs');
    const line =
      readFileSync(kh, 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith(`[127.0.0.1]:${b.port} `)) + 1;
    expect(line).toBeGreaterThan(0);
    expect(r.stderr).toContain(
      `swarmup: hint: only if [127.0.0.1]:${b.port} was really rebuilt, remove line ${line} of ${kh}`,
    );
    // With --json, the error event carries the same hint.
    const j = await run('up', '--config', good, '--json');
    const error = j.events.find((e) => e.event === 'error');
    expect(error?.hint).toContain(`ssh-keygen -R '[127.0.0.1]:${b.port}' -f ${kh}`);
  });

  it('down makes every host leave the swarm and keeps the machines', async () => {
    // node-5's key changed on purpose above; the user accepts the new key by removing its line.
    const kh = join(home, 'lab', 'known_hosts');
    const { readFileSync } = await import('node:fs');
    writeFileSync(
      kh,
      readFileSync(kh, 'utf8')
        .split('\n')
        .filter((l) => !l.includes(`:${boxes[4]!.port} `))
        .join('\n'),
    );
    const r = await run('down', '--config', good, '--yes');
    expect(r.code, r.stderr).toBe(0);
    for (const b of boxes.slice(0, 5)) expect((await swarmState(b.container)).state).toBe('inactive');
    const ps = await execa('docker', ['ps', '-q', '--filter', `label=swarmup.cluster=${MACHINES}`]);
    expect(String(ps.stdout).split('\n').filter(Boolean)).toHaveLength(6);
  });

  describe("coming from Ansible and ~/.ssh/config: the seeds' five hosts, no swarmup YAML", () => {
    const key = () => join(home, MACHINES, 'id_ed25519');
    const seeds = ['--name', 'seeds'];
    const expected = [
      ['node0', 'manager'],
      ['node1', 'manager'],
      ['node2', 'manager'],
      ['node3', 'worker'],
      ['node4', 'worker'],
    ];
    const ini = () => join(home, 'hosts.ini');
    /** The same hosts named only by their ~/.ssh/config aliases: no address, port, user or key in the inventory. */
    const aliases = () => join(home, 'aliases.ini');
    const withSshConfig = async (file: string, args: string[]) => {
      const r = await swarmup(args, { ...env, SWARMUP_SSH_CONFIG: file });
      outputs.push(r);
      return r;
    };

    it('an Ansible INI inventory ([managers] node0..node2, [workers] node3..node4): plan says what it read, up brings a verified 3+2', async () => {
      writeFileSync(
        ini(),
        [
          '# the five VMs of the manual procedure',
          '[managers]',
          ...boxes.slice(0, 3).map((b, i) => `node${i} ansible_host=${b.ip}`),
          '',
          '[workers]',
          ...boxes.slice(3, 5).map((b, i) => `node${i + 3} ansible_host=${b.ip}`),
          '',
          '[all:vars]',
          'ansible_user=root',
          `ansible_ssh_private_key_file=${key()}`,
          '',
        ].join('\n'),
      );
      const plan = await run('plan', '--inventory', ini(), ...seeds);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(
        `Read ${ini()} (Ansible INI inventory): managers node0, node1, node2; workers node3, node4`,
      );
      expect(plan.stdout).toContain(`  node3 (worker): root@${boxes[3]!.ip}:22, key ${key()}`);
      const r = await run('up', '--inventory', ini(), ...seeds, '--json');
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r);
      expect(s.ok).toBe(true);
      expect(s.nodes.map((n) => [n.name, n.role])).toEqual(expected);
      for (const b of boxes.slice(0, 5)) expect((await swarmState(b.container)).state).toBe('active');
    });

    it('the same hosts as an Ansible YAML inventory with children groups and ranges: the same cluster, nothing to change', async () => {
      const yml = join(home, 'hosts.yml');
      writeFileSync(
        yml,
        stringify({
          all: {
            vars: { ansible_user: 'root', ansible_ssh_private_key_file: key() },
            hosts: Object.fromEntries(boxes.slice(0, 5).map((b, i) => [`node${i}`, { ansible_host: b.ip }])),
            children: {
              swarm: {
                children: {
                  managers: { hosts: { 'node[0:2]': null } },
                  workers: { hosts: { 'node[3:4]': null } },
                },
              },
            },
          },
        }),
      );
      const r = await run('up', '--inventory', yml, ...seeds, '--json');
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r);
      expect([s.ok, s.changes]).toEqual([true, 0]);
      expect(s.nodes.map((n) => [n.name, n.role])).toEqual(expected);
    });

    it('hosts named only by ~/.ssh/config aliases (HostName, Port, User, IdentityFile) are reached as ssh would reach them', async () => {
      writeFileSync(aliases(), '[managers]\nnode[0:2]\n\n[workers]\nnode[3:4]\n');
      // Each host's sshd answers on 2222 too (a redirect in the box): the alias's Port is used, not 22.
      const redirect = 'PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22';
      await Promise.all(
        boxes.slice(0, 5).map((b) => inNode(b.container, ['sh', '-c', `iptables -t nat -A ${redirect}`])),
      );
      const config = join(home, 'ssh_config');
      writeFileSync(
        config,
        boxes
          .slice(0, 5)
          .map(
            (b, i) =>
              `Host node${i}\n  HostName ${b.ip}\n  Port 2222\n  User root\n  IdentityFile ${key()}\n`,
          )
          .join('\n'),
      );
      try {
        const plan = await withSshConfig(config, ['plan', '--inventory', aliases(), ...seeds]);
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stdout).toContain(
          `  node4 (worker): root@${boxes[4]!.ip}:2222, key ${key()}; from ssh config: HostName, Port, IdentityFile`,
        );
        const r = await withSshConfig(config, ['up', '--inventory', aliases(), ...seeds, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const s = summaryOf(r);
        expect([s.ok, s.changes]).toEqual([true, 0]);
        expect(s.nodes.map((n) => [n.name, n.role])).toEqual(expected);
        // Pinned like any other: each host's key now also under its address and the alias's port.
        const { readFileSync } = await import('node:fs');
        const pinned = readFileSync(join(home, 'seeds', 'known_hosts'), 'utf8');
        for (const b of boxes.slice(0, 5)) expect(pinned).toContain(`[${b.ip}]:2222 `);
      } finally {
        await Promise.all(
          boxes.slice(0, 5).map((b) => inNode(b.container, ['sh', '-c', `iptables -t nat -D ${redirect}`])),
        );
      }
    });

    it('a ProxyJump in ~/.ssh/config: every host reached through the jump host (one more sshd on the network), keys pinned', async () => {
      const jump = boxes[5]!;
      const config = join(home, 'ssh_config_jump');
      writeFileSync(
        config,
        [
          `Host jump\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User root\n  IdentityFile ${key()}\n`,
          ...boxes.slice(0, 5).map((b, i) => `Host node${i}\n  HostName ${b.ip}\n  ProxyJump jump\n`),
          `Host *\n  IdentityFile ${key()}\n`,
        ].join('\n'),
      );
      const plan = await withSshConfig(config, ['plan', '--inventory', aliases(), ...seeds]);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(
        `  node0 (manager): root@${boxes[0]!.ip}:22 via root@127.0.0.1:${jump.port}, key ${key()}; from ssh config: HostName, IdentityFile, ProxyJump`,
      );
      const counted = boxes.slice(0, 5);
      await Promise.all(counted.map((b) => countSshConnections(b, jump.ip)));
      let seen: Array<Awaited<ReturnType<typeof sshConnectionsCounted>>> = [];
      const r = await withSshConfig(config, ['status', '--inventory', aliases(), ...seeds, '--json']).finally(
        async () => {
          seen = await Promise.all(counted.map((b) => sshConnectionsCounted(b)));
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const status = JSON.parse(r.stdout) as { nodes: Array<{ name: string; state: string }> };
      expect(status.nodes.map((n) => [n.name, n.state])).toEqual(expected.map(([n]) => [n, 'ready']));
      // Every host asked for exactly one SSH connection, from the jump host's address, none from anywhere else.
      expect(seen).toEqual(counted.map(() => ({ self: 0, bastion: 1, other: 0 })));
      // The jump host's key is pinned too (under its address and port), as every host's is.
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(join(home, 'seeds', 'known_hosts'), 'utf8')).toContain(`[127.0.0.1]:${jump.port} `);
    });

    it('down --inventory hosts.ini: every host leaves the swarm', async () => {
      const r = await run('down', '--inventory', ini(), ...seeds, '--yes');
      expect(r.code, r.stderr).toBe(0);
      for (const b of boxes.slice(0, 5)) expect((await swarmState(b.container)).state).toBe('inactive');
    });
  });

  it('a swarm that existed before: up refuses without --adopt; with it joins the others; down leaves that swarm intact', async () => {
    const [stray, b4, b5] = [boxes[5]!, boxes[3]!, boxes[4]!];
    await inNode(stray.container, ['docker', 'swarm', 'init', '--advertise-addr', stray.ip]);
    const theirs = await swarmState(stray.container);
    const path = join(home, 'adopted.yaml');
    writeFileSync(
      path,
      stringify({
        name: 'adopted',
        provider: 'ssh',
        ssh: { user: 'root', privateKey: join(home, MACHINES, 'id_ed25519') },
        hosts: [hostEntry(stray, 5), hostEntry(b4, 3), hostEntry(b5, 4)],
      }),
    );
    try {
      const refused = await run('up', '--config', path);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`node-6 already manages swarm ${theirs.clusterId} (1 node)`);
      expect(refused.stderr).toContain('--adopt');
      for (const b of [b4, b5]) expect((await swarmState(b.container)).state).toBe('inactive');
      expect(await swarmState(stray.container)).toEqual(theirs);

      // On a terminal the question is asked instead, naming the swarm and its size: "n" refuses as before.
      const asked = await inTerminal(`up --config ${path}`, 'n', { SWARMUP_HOME: home });
      expect(asked.screen).toContain(`node-6 already manages swarm ${theirs.clusterId} (1 node)`);
      expect(asked.screen).toContain('Join the other hosts to it');
      expect(asked.exit).toBe(2);
      for (const b of [b4, b5]) expect((await swarmState(b.container)).state).toBe('inactive');

      // The owner's automation joins with its tokens: swarmup joins with them and leaves them as they are (compared
      // here, never printed).
      const workerToken = () => inNode(stray.container, ['docker', 'swarm', 'join-token', '-q', 'worker']);
      const tokenBefore = await workerToken();
      const adopted = await run('up', '--config', path, '--adopt', '--json');
      expect(adopted.code, adopted.stderr).toBe(0);
      expect(summaryOf(adopted).ok).toBe(true);
      for (const b of [b4, b5]) expect((await swarmState(b.container)).clusterId).toBe(theirs.clusterId);
      expect((await workerToken()) === tokenBefore, "the adopted swarm's worker join token was rotated").toBe(
        true,
      );
      expect(adopted.stdout).toContain('its join tokens are not rotated');

      // A smoke test killed hard leaves its global service in the owner's swarm: down removes it with the rest.
      const service = await killSmokeOnceItsServiceRuns(
        ['verify', '--smoke', '--config', path],
        env,
        stray.container,
      );

      // down takes out only what swarmup joined (two managers, demoted one at a time through node-6).
      const down = await run('down', '--config', path, '--yes', '--json');
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toMatch(new RegExp(`smoke test leftovers removed: service ${service}\\b`));
      expect(await smokeServices(stray.container)).toEqual([]);
      expect(
        await inNode(stray.container, ['docker', 'images', '-q', '--filter', 'label=swarmup.smoke']),
      ).toBe('');
      for (const b of [b4, b5]) expect((await swarmState(b.container)).state).toBe('inactive');
      expect(await swarmState(stray.container)).toEqual(theirs);
      expect(await inNode(stray.container, ['docker', 'node', 'ls', '-q'])).toBe(theirs.nodeId);
    } finally {
      await inNode(stray.container, ['docker', 'swarm', 'leave', '--force']);
    }
  });

  it('no join token in any output or state file', async () => {
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await allText(home));
    expect(text).not.toMatch(/SWMTKN-/);
  });
});
