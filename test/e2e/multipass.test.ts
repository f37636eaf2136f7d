import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markerText } from '../../src/providers/multipass/cloud-init.ts';
import { inNode, summaryOf, swarmup, tempHome } from '../support/cli.ts';

/**
 * `--provider multipass` end to end through a stand-in `multipass` command (test/support/multipass-stand-in/):
 * Multipass needs a hypervisor and this machine has no nested virtualisation. The stand-in is put first on PATH and
 * makes each "VM" a node container that boots from the very cloud-init file swarmup passes to `multipass launch`
 * (the cluster's key for `ubuntu`, the owner marker, the engine install script), at an address on a bridge network.
 * One cluster for the whole file: up 3+2, a refused name clash, scale down, cleanup of an orphan, down.
 */
/** The run id: in the cluster's name (so in every VM's, the node containers' names) and on the stand-in's label. */
const RUN = `mp-${process.pid}`;
const NAME = RUN;
const vm = (node: string) => `${NAME}-${node}`;
const home = tempHome('swarmup-mp-');
const standInHome = mkdtempSync(join(tmpdir(), 'multipass-stand-in-'));
const STAND_IN = resolve(import.meta.dirname, '../support/multipass-stand-in');
const env = {
  SWARMUP_HOME: home,
  MULTIPASS_STAND_IN_HOME: standInHome,
  MULTIPASS_STAND_IN_RUN: RUN,
  PATH: `${STAND_IN}${delimiter}${process.env.PATH ?? ''}`,
};
/** A VM of the cluster's naming that swarmup did not create (no marker): must never be touched. */
const FOREIGN = vm('worker-3');
/** The cluster of an orphan VM (its marker is this state home's, the cluster's record is gone). */
const GONE = `gone-${process.pid}`;

const mp = (args: string[], input?: string) =>
  execa(join(STAND_IN, 'multipass'), args, {
    env,
    reject: false,
    timeout: 120_000,
    ...(input ? { input } : {}),
  });
const vmNames = async () =>
  (
    JSON.parse(String((await mp(['list', '--format', 'json'])).stdout)) as { list: Array<{ name: string }> }
  ).list
    .map((v) => v.name)
    .sort();
/** The calls the stand-in saw, one argument list each. */
const calls = (): string[][] =>
  readFileSync(join(standInHome, 'calls.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
const run = (...args: string[]) => swarmup([...args, '--name', NAME, '--json'], env);

async function removeEverything(): Promise<void> {
  const names = await vmNames().catch(() => []);
  if (names.length > 0) await mp(['delete', '--purge', ...names]);
  await execa('docker', ['network', 'rm', `swarmup-multipass-stand-in-${RUN}`], { reject: false });
}

describe('stand-in: up --provider multipass, end to end (a stand-in multipass on PATH, VMs as node containers)', () => {
  beforeAll(async () => {
    await removeEverything();
    // A VM named like the cluster's third worker, launched by someone else (no swarmup marker).
    const r = await mp(['launch', '24.04', '--name', FOREIGN, '--cloud-init', '-'], '#cloud-config\n{}\n');
    expect(r.exitCode, r.stderr).toBe(0);
  });
  afterAll(removeEverything);

  it('up: five VMs launched from the cloud-init file, a verified 3+2 swarm over the addresses Multipass reports', async () => {
    const r = await run(
      'up',
      '--provider',
      'multipass',
      '--managers',
      '3',
      '--workers',
      '2',
      '--memory',
      '1G',
      '--yes',
    );
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.nodes.map((n) => [n.name, n.role, n.state])).toEqual([
      [vm('manager-1'), 'manager', 'ready'],
      [vm('manager-2'), 'manager', 'ready'],
      [vm('manager-3'), 'manager', 'ready'],
      [vm('worker-1'), 'worker', 'ready'],
      [vm('worker-2'), 'worker', 'ready'],
    ]);
    const launches = calls().filter((c) => c[0] === 'launch' && c.includes('--name') && c[3] !== FOREIGN);
    expect(launches.map((c) => c[3]).sort()).toEqual(
      ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'].map(vm),
    );
    for (const c of launches)
      expect(c.slice(4)).toEqual([
        '--cpus',
        '1',
        '--memory',
        '1G',
        '--disk',
        '10G',
        '--cloud-init',
        '-',
        '--timeout',
        '600',
      ]);
    // The swarm as the test reads it inside a node: 5 Ready nodes, each advertised at its VM address.
    const ls = await inNode(vm('manager-1'), [
      'docker',
      'node',
      'ls',
      '--format',
      '{{.Hostname}} {{.Status}}',
    ]);
    expect(ls.split('\n').sort()).toEqual(
      ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'].map((n) => `${vm(n)} Ready`),
    );
    const info = JSON.parse(String((await mp(['info', '--format', 'json', vm('worker-2')])).stdout)) as {
      info: Record<string, { ipv4: string[] }>;
    };
    const addr = await inNode(vm('manager-1'), [
      'docker',
      'node',
      'inspect',
      vm('worker-2'),
      '--format',
      '{{.Status.Addr}}',
    ]);
    expect(addr).toBe(info.info[vm('worker-2')]!.ipv4[0]);
    // swarmup logged in as ubuntu with the cluster's key, and the marker names this cluster and state home.
    const owner = readFileSync(join(home, 'owner'), 'utf8').trim();
    expect(await inNode(vm('worker-2'), ['cat', '/etc/swarmup/owner'])).toBe(
      markerText({ cluster: NAME, owner, node: vm('worker-2') }).trim(),
    );
    expect(await inNode(vm('worker-2'), ['cat', '/home/ubuntu/.ssh/authorized_keys'])).toBe(
      readFileSync(join(home, NAME, 'id_ed25519.pub'), 'utf8').trim(),
    );
    expect(await inNode(vm('worker-2'), ['id', '-nG', 'ubuntu'])).toMatch(/\bdocker\b/);
    expect(await vmNames()).toContain(FOREIGN);
  });

  it('a wanted name taken by a VM swarmup did not create is refused (exit 2), and nothing is launched', async () => {
    const before = calls().filter((c) => c[0] === 'launch').length;
    const r = await run('up', '--provider', 'multipass', '--workers', '3', '--yes');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toContain(
      `${FOREIGN}: a Multipass VM of that name exists that swarmup did not create for cluster ${NAME}: it has no swarmup marker`,
    );
    expect(calls().filter((c) => c[0] === 'launch')).toHaveLength(before);
    expect(await vmNames()).toContain(FOREIGN);
  });

  it('scale to 3+1 deletes and purges exactly one VM (never a bare purge)', async () => {
    const r = await run('scale', '--managers', '3', '--workers', '1', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r).nodes.map((n) => n.name)).toEqual(
      ['manager-1', 'manager-2', 'manager-3', 'worker-1'].map(vm),
    );
    expect(calls().filter((c) => c[0] === 'delete')).toEqual([['delete', '--purge', vm('worker-2')]]);
    expect(calls().filter((c) => c[0] === 'purge')).toEqual([]);
    expect(await vmNames()).toEqual([
      ...['manager-1', 'manager-2', 'manager-3', 'worker-1'].map(vm),
      FOREIGN,
    ]);
  });

  it('cleanup removes an orphan of this state home, never the live cluster nor an unmarked VM', async () => {
    const owner = readFileSync(join(home, 'owner'), 'utf8').trim();
    const orphan = `#cloud-config\nwrite_files:\n  - path: /etc/swarmup/owner\n    content: |\n${markerText({
      cluster: GONE,
      owner,
      node: `${GONE}-worker-1`,
    })
      .split('\n')
      .filter(Boolean)
      .map((l) => `      ${l}`)
      .join('\n')}\n`;
    expect((await mp(['launch', '--name', `${GONE}-worker-1`, '--cloud-init', '-'], orphan)).exitCode).toBe(
      0,
    );
    const r = await swarmup(['cleanup', '--provider', 'multipass', '--yes', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === 'removed').map((e) => e.what)).toEqual([
      `${GONE}: VM ${GONE}-worker-1`,
    ]);
    const found = r.events.filter((e) => e.event === 'cluster');
    expect(found.map((e) => [e.cluster, e.selected])).toEqual([
      [GONE, true],
      [NAME, false],
    ]);
    expect(await vmNames()).toEqual([
      ...['manager-1', 'manager-2', 'manager-3', 'worker-1'].map(vm),
      FOREIGN,
    ]);
    expect(calls().filter((c) => c[0] === 'purge')).toEqual([]);
  });

  it('down deletes every VM of the cluster and its state, never with a bare purge: the unmarked VM and a VM the user deleted (still recoverable) stay', async () => {
    // The user's own VM, deleted but not purged: `multipass recover` would bring it back; a bare purge would not.
    const mine = `mine-${process.pid}`;
    expect((await mp(['launch', '--name', mine, '--cloud-init', '-'], '#cloud-config\n{}\n')).exitCode).toBe(
      0,
    );
    expect((await mp(['delete', mine])).exitCode).toBe(0);
    const r = await run('down', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await vmNames()).toEqual([FOREIGN, mine].sort());
    const listed = JSON.parse(String((await mp(['list', '--format', 'json'])).stdout)) as {
      list: Array<{ name: string; state: string }>;
    };
    expect(listed.list.find((v) => v.name === mine)?.state).toBe('Deleted');
    // Every call swarmup (and this file) made: `purge` never, with or without arguments.
    expect(calls().filter((c) => c[0] === 'purge')).toEqual([]);
    expect(existsSync(join(home, NAME))).toBe(false);
    // The VMs that were never swarmup's go by their owner's hand, and then Multipass lists nothing.
    await mp(['delete', '--purge', FOREIGN, mine]);
    expect(await vmNames()).toEqual([]);
  });
});

/**
 * The real thing, where Multipass runs (a laptop, a machine with a hypervisor): opt in with SWARMUP_TEST_MULTIPASS=1.
 * It launches five VMs (about 5 GiB of memory) and takes several minutes.
 */
const REAL = process.env.SWARMUP_TEST_MULTIPASS === '1';
describe('real Multipass', () => {
  const realHome = tempHome('swarmup-mp-real-');
  const realEnv = { SWARMUP_HOME: realHome };
  const name = `e2e-mp-${process.pid}`;
  afterAll(async () => {
    if (REAL) await swarmup(['down', '--yes', '--name', name], realEnv);
  });
  it.skipIf(!REAL)(
    'up 3+2 on real VMs, scale to 3+1, down leaves no VM (skipped unless SWARMUP_TEST_MULTIPASS=1: Multipass needs a hypervisor, absent on CI)',
    async () => {
      const up = await swarmup(['up', '--provider', 'multipass', '--name', name, '--yes', '--json'], realEnv);
      expect(up.code, up.stderr).toBe(0);
      expect(summaryOf(up).nodes.filter((n) => n.state === 'ready')).toHaveLength(5);
      const scale = await swarmup(
        ['scale', '--managers', '3', '--workers', '1', '--name', name, '--yes', '--json'],
        realEnv,
      );
      expect(scale.code, scale.stderr).toBe(0);
      expect(summaryOf(scale).nodes).toHaveLength(4);
      const down = await swarmup(['down', '--yes', '--name', name, '--json'], realEnv);
      expect(down.code, down.stderr).toBe(0);
      const list = await execa('multipass', ['list', '--format', 'json']);
      const left = (JSON.parse(String(list.stdout)) as { list: Array<{ name: string }> }).list.filter((v) =>
        v.name.startsWith(`${name}-`),
      );
      expect(left).toEqual([]);
    },
    1_800_000,
  );
});
