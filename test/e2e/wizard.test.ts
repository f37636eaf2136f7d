import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { generateEd25519 } from '../../src/state/cluster-key.ts';
import { motoImage } from '../support/aws.ts';
import { swarmup, tempHome } from '../support/cli.ts';
import { ownEc2Emulator } from '../support/ec2-emulator.ts';
import { Terminal } from '../support/terminal.ts';

/**
 * `swarmup wizard` driven as a person drives it: in a real terminal (tmux), keys typed, the screen read. Each
 * test has its own working folder (where ./swarmup.yaml lands) and its own state home.
 */
const terminals: Terminal[] = [];
function terminal(env: Record<string, string> = {}): { term: Terminal; dir: string; home: string } {
  const dir = tempHome('swarmup-wizard-');
  const home = join(dir, 'state');
  mkdirSync(home);
  const term = new Terminal(dir, { SWARMUP_HOME: home, ...env });
  terminals.push(term);
  return { term, dir, home };
}

afterAll(async () => {
  for (const t of terminals) await t.close();
});

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  return new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

describe('swarmup wizard', () => {
  it('without a terminal: refused with exit 2, nothing written', async () => {
    const dir = tempHome('swarmup-wizard-');
    const r = await swarmup(['wizard'], { SWARMUP_HOME: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the wizard needs a terminal; write a config file, see docs\/config\.md \("Config \/ inventory file"\)/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('Enter all the way: a local 3+2 docker config that plan accepts', async () => {
    const { term, dir, home } = terminal();
    await term.start('wizard');
    await term.answer('Where do the machines come from');
    await term.answer('Cluster name');
    await term.answer('How many managers');
    await term.answer('How many workers');
    await term.answer('Write the config to');
    await term.answer('Run swarmup up');
    const { code, screen } = await term.exit();
    expect(code, screen).toBe(0);

    const file = join(dir, 'swarmup.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# Managers: 1 = no fault tolerance/m);
    expect(loadConfigFile(file)).toEqual({ name: 'local', provider: 'docker', managers: 3, workers: 2 });
    // Nothing but the file: no state until up.
    expect(readdirSync(home)).toEqual([]);

    const plan = await swarmup(['plan', '--config', file, '--json'], { SWARMUP_HOME: home });
    expect(plan.code, plan.stderr).toBe(0);
    // Under a name no one uses on this engine, the plan makes exactly the 3 managers and 2 workers of the file.
    const fresh = `wizard-${process.pid}`;
    const named = await swarmup(['plan', '--config', file, '--name', fresh, '--json'], {
      SWARMUP_HOME: home,
    });
    expect(named.code, named.stderr).toBe(0);
    const event = named.events.find((e) => e.event === 'plan') as {
      phases: Array<{ actions: Array<{ kind: string; host: string }> }>;
    };
    const made = event.phases
      .flatMap((p) => p.actions)
      .filter((a) => a.kind === 'create-machine')
      .map((a) => a.host)
      .sort();
    expect(made).toEqual([
      `${fresh}-manager-1`,
      `${fresh}-manager-2`,
      `${fresh}-manager-3`,
      `${fresh}-worker-1`,
      `${fresh}-worker-2`,
    ]);
  });

  it('yes to the last question runs up --config with the file: a verified 1+0 cluster', async () => {
    const { term, dir, home } = terminal();
    const name = `wizard-up-${process.pid}`;
    try {
      await term.start('wizard');
      await term.answer('Where do the machines come from');
      await term.answer('Cluster name', name);
      await term.answer('How many managers', '1');
      await term.answer('How many workers', '0');
      await term.answer('Write the config to');
      await term.answer('Run swarmup up', 'y');
      const { code, screen } = await term.exit();
      expect(code, screen).toBe(0);
      expect(screen).toMatch(new RegExp(`${name}: 1 nodes, 1 managers, verified`));
      const status = await swarmup(['status', '--config', join(dir, 'swarmup.yaml'), '--json'], {
        SWARMUP_HOME: home,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ cluster: name, provider: 'docker' });
    } finally {
      await swarmup(['down', '--yes', '--name', name], { SWARMUP_HOME: home });
    }
  });

  it('ec2: each answer checked as given (a missing key file, the whole internet refused), a file the config loader and plan accept', async () => {
    const { term, dir, home } = terminal();
    const pub = join(dir, 'operator.pub');
    writeFileSync(pub, generateEd25519('operator').public + '\n');
    await term.start('wizard');
    await term.choose('Where do the machines come from', 2);
    await term.answer('Cluster name', 'aws-lab');
    await term.answer('How many managers', '4');
    expect(await term.screen()).toMatch(/managers must be 1, 3, 5 or 7, not 4/);
    await term.answer('How many managers', '3');
    await term.answer('How many workers', '1');
    await term.answer('AWS region', 'us-east-1');
    await term.answer('AWS profile');
    await term.answer('Instance type', 't3.micro');
    await term.answer('Public key file', join(dir, 'missing.pub'));
    expect(await term.screen()).toMatch(/> ec2\.sshKey: .*missing\.pub: no such file/);
    await term.answer('Public key file', pub);
    await term.answer('Who may reach SSH', '0.0.0.0/0');
    expect(await term.screen()).toMatch(/> ec2\.sshCidr: 0\.0\.0\.0\/0 would open SSH to the whole internet/);
    await term.answer('Who may reach SSH', '203.0.113.7/32');
    await term.choose('Where does a host without Docker get its engine', 1);
    await term.answer('Engine version to pin');
    await term.answer('Write the config to', 'aws.yaml');
    await term.answer('Run swarmup up');
    const { code, screen } = await term.exit();
    expect(code, screen).toBe(0);

    const file = join(dir, 'aws.yaml');
    const config = loadConfigFile(file);
    expect(config).toEqual({
      name: 'aws-lab',
      provider: 'ec2',
      managers: 3,
      workers: 1,
      engine: { source: 'distro' },
      ec2: { region: 'us-east-1', instanceType: 't3.micro', sshKey: pub, sshCidr: '203.0.113.7/32' },
    });
    const spec = resolveCluster(config, {}, file);
    expect(spec.ec2).toMatchObject({
      region: 'us-east-1',
      sshCidrs: ['203.0.113.7/32'],
      allowSshFromAnywhere: false,
    });
    expect(readdirSync(home)).toEqual([]);

    // plan reads the (emulated) account and plans the 4 instances; nothing is made. The emulator is reset with the
    // internet gateway AWS gives every default VPC (plan checks the subnets' routes).
    // Its Ubuntu image comes from --ami: the emulator has no SSM parameter for the default one.
    let plan: Awaited<ReturnType<typeof swarmup>>;
    // An emulator of its own: resetting a shared one would pull instances from under another file running now.
    const aws = await ownEc2Emulator({ home, stopAfterFile: false });
    try {
      await aws.reset();
      const ami = await motoImage(aws.client('us-east-1'));
      plan = await swarmup(
        ['plan', '--config', file, '--json', '--until', 'provision', '--ami', ami],
        aws.env(),
      );
    } finally {
      aws.stop();
    }
    expect(plan.code, plan.stderr).toBe(0);
    const event = plan.events.find((e) => e.event === 'plan') as {
      phases: Array<{ actions: Array<{ kind: string; host: string }> }>;
    };
    expect(event.phases.flatMap((p) => p.actions).filter((a) => a.kind === 'create-machine')).toHaveLength(4);
  });

  describe('ssh: hosts logged in to before they are taken', () => {
    const MACHINES = `wizard-ssh-${process.pid}`;
    const machinesHome = tempHome('swarmup-wizard-machines-');
    let port = 0;
    let key = '';

    beforeAll(async () => {
      // One machine "the user already has": a node container (sshd + engine) made under another state home.
      const made = await swarmup(
        ['up', '--until', 'provision', '--name', MACHINES, '--managers', '1', '--workers', '0'],
        { SWARMUP_HOME: machinesHome },
      );
      expect(made.code, made.stderr).toBe(0);
      const out = await execa('docker', ['port', `${MACHINES}-manager-1`, '22/tcp']);
      port = Number(String(out.stdout).split('\n')[0]!.split(':').pop());
      key = join(machinesHome, MACHINES, 'id_ed25519');
    });

    afterAll(async () => {
      await swarmup(['down', '--yes', '--name', MACHINES], { SWARMUP_HOME: machinesHome });
    });

    it('an unreachable host is named and asked again; the reachable one is written, its key pinned, and plan accepts the inventory', async () => {
      const { term, dir, home } = terminal();
      const ghost = await closedPort();
      await term.start('wizard');
      await term.choose('Where do the machines come from', 1);
      await term.answer('Cluster name', 'lab');
      await term.answer('Address', '127.0.0.1');
      await term.answer('Node name');
      await term.answer('SSH user');
      await term.answer('SSH port', String(ghost));
      await term.answer('Private key file', key);
      await term.waitFor(
        new RegExp(`unreachable: node-1: connect over SSH: root@127\\.0\\.0\\.1:${ghost}: .*ECONNREFUSED`),
      );
      await term.waitFor(/asking again/);
      // Asked again, with the answers given as the defaults: only the port changes.
      await term.waitFor(/^\? Address \(IP or DNS name\) \(127\.0\.0\.1\)/m);
      await term.answer('Address');
      await term.answer('Node name');
      await term.answer('SSH user');
      await term.answer('SSH port', String(port));
      await term.answer('Private key file');
      await term.waitFor(/node-1 answered/);
      await term.answer('Add another host', 'n');
      await term.answer('How many of the 1 hosts are managers');
      await term.choose('Where does a host without Docker get its engine', 3);
      await term.answer('Engine version to pin');
      await term.answer('Write the config to');
      await term.answer('Run swarmup up');
      const { code, screen } = await term.exit();
      expect(code, screen).toBe(0);

      const file = join(dir, 'swarmup.yaml');
      expect(loadConfigFile(file)).toEqual({
        name: 'lab',
        provider: 'ssh',
        managers: 1,
        ssh: { user: 'root', port, privateKey: key },
        hosts: [{ name: 'node-1', address: '127.0.0.1' }],
        engine: { source: 'none' },
      });
      // The key of the machine the wizard logged in to is pinned for up; the unreachable one left nothing.
      expect(readFileSync(join(home, 'lab', 'known_hosts'), 'utf8')).toMatch(
        new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-`),
      );
      const plan = await swarmup(['plan', '--config', file, '--json'], { SWARMUP_HOME: home });
      expect(plan.code, plan.stderr).toBe(0);
    });
  });

  it('Ctrl-C at a question: exit 130, one line, no file, an empty state home', async () => {
    const { term, dir, home } = terminal();
    await term.start('wizard');
    await term.answer('Where do the machines come from');
    await term.answer('Cluster name', 'half-way');
    await term.waitFor(/^\? How many managers/m);
    await term.keys('C-c');
    const { code, screen } = await term.exit();
    expect(code).toBe(130);
    expect(screen).toMatch(/^swarmup: wizard stopped; nothing was written$/m);
    expect(existsSync(join(dir, 'swarmup.yaml'))).toBe(false);
    expect(readdirSync(home)).toEqual([]);
  });

  it('Ctrl-C while a host is being logged in to: exit 130, no file, no known_hosts', async () => {
    // A port that accepts and never says a word: the SSH login waits there.
    const silent: Server = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const mute = (silent.address() as { port: number }).port;
    try {
      const { term, dir, home } = terminal();
      const key = join(dir, 'id_ed25519');
      writeFileSync(key, generateEd25519('operator').private, { mode: 0o600 });
      await term.start('wizard');
      await term.choose('Where do the machines come from', 1);
      await term.answer('Cluster name');
      await term.answer('Address', '127.0.0.1');
      await term.answer('Node name');
      await term.answer('SSH user');
      await term.answer('SSH port', String(mute));
      await term.answer('Private key file', key);
      await term.waitFor(/logging in to root@127\.0\.0\.1/);
      await term.keys('C-c');
      const { code, screen } = await term.exit();
      expect(code).toBe(130);
      expect(screen).toMatch(/^swarmup: wizard stopped; nothing was written$/m);
      expect(existsSync(join(dir, 'swarmup.yaml'))).toBe(false);
      expect(readdirSync(home)).toEqual([]);
    } finally {
      silent.close();
    }
  });
});
