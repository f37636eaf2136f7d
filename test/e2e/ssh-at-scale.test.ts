import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureNodeImage } from '../../src/providers/docker/node-image.ts';
import { KnownHostsFile } from '../../src/transport/known-hosts.ts';
import { SshConnection } from '../../src/transport/ssh-connection.ts';
import { bareNode } from '../support/bare-nodes.ts';
import { swarmup, tempHome, type CliResult } from '../support/cli.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * SSH at scale, against real sshd whose MaxStartups is 10 (past 10 unauthenticated connections at once, sshd drops
 * every new one): 50 light hosts (bare containers: sshd only, no engine) reached through one bastion, on a network of
 * the run's own that the bastion alone joins besides; and 50 inventory entries that all reach ONE sshd (a gateway's
 * port forwards). `plan` connects to every host and reads its facts. Every sshd logs to a file of this run
 * (LogLevel VERBOSE), which the test reads: who connected, from where, and whether anything was dropped.
 */
const RUN = `e2e-sshscale-${process.pid}`;
const HOSTS = 50;
const home = tempHome();
const logs = mkdtempSync(join(tmpdir(), 'swarmup-sshscale-logs-'));
const key = join(home, 'id_ed25519');
const env = { SWARMUP_HOME: home };

/** sshd in the foreground, logging to /logs/<name>.log; root logs in with the run's key only. */
const sshd = (name: string, options: string[] = [], before: string[] = []) =>
  [
    'set -e',
    'mkdir -p /root/.ssh /run/sshd',
    'printf "%s\\n" "$SWARMUP_AUTHORIZED_KEY" > /root/.ssh/authorized_keys',
    'chmod 600 /root/.ssh/authorized_keys',
    'ssh-keygen -A >/dev/null',
    ...before,
    `exec /usr/sbin/sshd -D -E /logs/${name}.log -o LogLevel=VERBOSE -o PasswordAuthentication=no ${options.join(' ')}`,
  ].join('\n');

async function start(name: string, network: string, script: string, extra: string[] = []): Promise<void> {
  await execa('docker', [
    'run',
    '-d',
    '--name',
    `${RUN}-${name}`,
    '--label',
    `swarmup-test=${RUN}`,
    '--network',
    network,
    '-v',
    `${logs}:/logs`,
    '-e',
    `SWARMUP_AUTHORIZED_KEY=${readFileSync(`${key}.pub`, 'utf8').trim()}`,
    ...extra,
    bareNode.image,
    'bash',
    '-c',
    script,
  ]);
}

const logOf = (name: string) => {
  try {
    return readFileSync(join(logs, `${name}.log`), 'utf8');
  } catch {
    return '';
  }
};

/** What the named sshd logs from now on (the probes of beforeAll left lines of their own before). */
function logsFromNow(names: string[]): (name: string) => string {
  const mark = new Map(names.map((n) => [n, logOf(n).length]));
  return (name) => logOf(name).slice(mark.get(name) ?? 0);
}

async function addressOn(name: string, network: string): Promise<string> {
  const r = await execa('docker', [
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
    `${RUN}-${name}`,
  ]);
  return String(r.stdout).trim();
}

/** Each sshd's log until it listens: waits for every named one, naming those that never did. */
async function listening(names: string[]): Promise<void> {
  await waitUntil(`sshd listening in ${names.length} containers`, 60_000, async (seen) => {
    const not = names.filter((n) => !logOf(n).includes('Server listening on 0.0.0.0 port 22'));
    seen(`not yet: ${not.slice(0, 5).join(', ')}${not.length > 5 ? ', ...' : ''}`);
    return not.length === 0 ? true : undefined;
  });
}

/** A shell line that connects to ip:22 and prints the ip when nothing answers within 2 s. */
const tcpProbe = (ip: string) => `timeout 2 bash -c 'exec 3<>/dev/tcp/${ip}/22' 2>/dev/null || echo ${ip}`;

/** Run the probes (here, or in a container: `where`) until every one answers; names those that never did. */
async function answering(what: string, probes: string[], where: string[] = []): Promise<void> {
  await waitUntil(`${what}: port 22 answering`, 60_000, async (seen) => {
    const r = await execa(
      where[0] ?? 'bash',
      [...where.slice(1), ...(where.length ? ['bash'] : []), '-c', probes.join('\n')],
      {
        reject: false,
      },
    );
    const silent = String(r.stdout).split('\n').filter(Boolean);
    seen(`not answering: ${silent.join(', ') || r.stderr}`);
    return r.exitCode === 0 && silent.length === 0 ? true : undefined;
  });
}

function writeInventory(file: string, ssh: Record<string, unknown>, hosts: Array<Record<string, unknown>>) {
  const path = join(home, file);
  writeFileSync(
    path,
    stringify({ name: 'scale', provider: 'ssh', ssh: { user: 'root', privateKey: key, ...ssh }, hosts }),
  );
  return path;
}

/** The hosts whose facts `plan` read, and the hosts its plan installs an engine on (none has one: facts told). */
function reached(r: CliResult): { facts: string[]; engines: string[] } {
  const facts = r.events
    .filter((e) => e.step === 'read host facts' && e.event === 'task' && e.status === 'ok')
    .map((e) => String(e.task));
  const plan = r.events.find((e) => e.event === 'plan') as
    { phases: Array<{ actions: Array<{ kind: string; host?: string }> }> } | undefined;
  const engines = (plan?.phases ?? [])
    .flatMap((p) => p.actions)
    .filter((a) => a.kind === 'engine')
    .map((a) => a.host!);
  return { facts: facts.sort(), engines: engines.sort() };
}

/** The lines of an sshd log that tell of a connection dropped or refused (MaxStartups throttling among them). */
const refusals = (log: string) =>
  log.split('\n').filter((l) => /drop connection|MaxStartups|refused/i.test(l));
const names = (prefix: string) => Array.from({ length: HOSTS }, (_, i) => `${prefix}-${i + 1}`).sort();

describe('SSH at scale: sshd with MaxStartups 10', () => {
  let bastionIp: string;
  let bastionInside: string;
  const hostIps: string[] = [];
  let gatewayIp: string;

  beforeAll(async () => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await ensureNodeImage(new Docker(), () => undefined, bareNode);
    await execa('docker', ['network', 'create', '--label', `swarmup-test=${RUN}`, `${RUN}-outside`]);
    // The hosts' network: internal (no way out). The inventory names the hosts by these addresses, through the
    // bastion; each host's own log then shows it was reached from the bastion's address and from nowhere else.
    await execa('docker', [
      'network',
      'create',
      '--internal',
      '--label',
      `swarmup-test=${RUN}`,
      `${RUN}-inside`,
    ]);
    await start('bastion', `${RUN}-outside`, sshd('bastion', ['-o', 'MaxStartups=10']));
    await execa('docker', ['network', 'connect', `${RUN}-inside`, `${RUN}-bastion`]);
    // One sshd behind 50 ports, as a gateway forwarding them all to one machine.
    await start(
      'gateway',
      `${RUN}-outside`,
      sshd(
        'gateway',
        ['-o', 'MaxStartups=10'],
        [`iptables -t nat -A PREROUTING -p tcp --dport 2201:${2200 + HOSTS} -j REDIRECT --to-ports 22`],
      ),
      ['--cap-add', 'NET_ADMIN'],
    );
    const hosts = Array.from({ length: HOSTS }, (_, i) => `host-${i + 1}`);
    for (let i = 0; i < hosts.length; i += 10)
      await Promise.all(hosts.slice(i, i + 10).map((h) => start(h, `${RUN}-inside`, sshd(h))));
    await listening(['bastion', 'gateway', ...hosts]);
    bastionIp = await addressOn('bastion', `${RUN}-outside`);
    bastionInside = await addressOn('bastion', `${RUN}-inside`);
    gatewayIp = await addressOn('gateway', `${RUN}-outside`);
    for (const h of hosts) hostIps.push(await addressOn(h, `${RUN}-inside`));
    // On a loaded machine a new bridge port may take a while to pass traffic (seen: EHOSTUNREACH for seconds):
    // the bastion and the gateway answer this machine, and every host the bastion, before anything is measured.
    await answering('the bastion and the gateway from this machine', [bastionIp, gatewayIp].map(tcpProbe));
    await answering('every host from the bastion', hostIps.map(tcpProbe), [
      'docker',
      'exec',
      `${RUN}-bastion`,
    ]);
  }, 180_000);

  afterAll(async () => {
    const ps = await execa('docker', ['ps', '-aq', '--filter', `label=swarmup-test=${RUN}`]);
    const ids = String(ps.stdout).split('\n').filter(Boolean);
    if (ids.length > 0) await execa('docker', ['rm', '-f', ...ids]);
    rmSync(home, { recursive: true, force: true });
    rmSync(logs, { recursive: true, force: true });
    // Right after its containers went, a network may still count one of their endpoints: tried again, then said.
    for (const network of [`${RUN}-inside`, `${RUN}-outside`])
      await waitUntil(`network ${network} removed`, 20_000, async (seen) => {
        const r = await execa('docker', ['network', 'rm', network], { reject: false });
        seen(String(r.stderr));
        return r.exitCode === 0 || /not found/.test(String(r.stderr)) ? true : undefined;
      });
  }, 120_000);

  it('through a bastion: 50 hosts reached in one run, over ONE connection to it, nothing refused', async () => {
    const inventory = writeInventory(
      'bastion.yaml',
      { bastion: `root@${bastionIp}` },
      hostIps.map((address, i) => ({ name: `host-${i + 1}`, address })),
    );
    const logged = logsFromNow(['bastion', ...names('host')]);
    const r = await swarmup(['plan', '--config', inventory, '--json', '--no-ssh-config'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(reached(r)).toEqual({ facts: names('host'), engines: names('host') });
    const bastion = logged('bastion');
    expect(refusals(bastion)).toEqual([]);
    // One connection accepted by the bastion, from this machine: every host's channel rode on it.
    expect(bastion.match(/^Connection from /gm)).toHaveLength(1);
    expect(bastion.match(/^Accepted publickey for root /gm)).toHaveLength(1);
    // Each host was logged into once, from the bastion's inside address, and reached from nowhere else (a line of
    // the last probes from the bastion may land after the mark: it is from there too).
    for (let i = 1; i <= HOSTS; i++) {
      const log = logged(`host-${i}`);
      expect(refusals(log), `host-${i}`).toEqual([]);
      expect(new Set(log.match(/^Connection from \S+/gm)), `host-${i}`).toEqual(
        new Set([`Connection from ${bastionInside}`]),
      );
      expect(log.match(/^Accepted publickey for root from \S+/gm), `host-${i}`).toEqual([
        `Accepted publickey for root from ${bastionInside}`,
      ]);
    }
  }, 120_000);

  it('50 inventory entries on one sshd (a gateway forwarding 50 ports): every one reached, none dropped', async () => {
    const inventory = writeInventory(
      'gateway.yaml',
      {},
      Array.from({ length: HOSTS }, (_, i) => ({
        name: `fwd-${i + 1}`,
        address: gatewayIp,
        port: 2201 + i,
      })),
    );
    const logged = logsFromNow(['gateway']);
    const r = await swarmup(['plan', '--config', inventory, '--json', '--no-ssh-config'], env);
    const gateway = logged('gateway');
    // Unbounded, 50 handshakes at once: sshd dropped 40 ("drop connection #10 ... past MaxStartups").
    expect(refusals(gateway)).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(reached(r)).toEqual({ facts: names('fwd'), engines: names('fwd') });
    expect(gateway.match(/^Accepted publickey for root /gm)).toHaveLength(HOSTS);
  }, 120_000);

  it('a connection closed while its host is frozen lets go at once: the command does not wait for the host', async () => {
    const conn = await SshConnection.connect(
      { name: 'gateway', address: gatewayIp, port: 22, user: 'root', privateKey: key },
      { knownHosts: new KnownHostsFile(join(home, 'close_known_hosts')) },
    );
    expect((await conn.exec('echo up')).stdout.trim()).toBe('up');
    // Frozen: its sshd answers nothing, and would close its side of the connection only once thawed.
    await execa('docker', ['pause', `${RUN}-gateway`]);
    try {
      const t0 = Date.now();
      conn.close();
      const ended = await Promise.race([conn.ended.then(() => true), sleep(5_000).then(() => false)]);
      expect(ended, 'the socket still open 5 s after close()').toBe(true);
      expect(Date.now() - t0).toBeLessThan(1_000);
    } finally {
      await execa('docker', ['unpause', `${RUN}-gateway`]);
    }
  }, 60_000);
});
