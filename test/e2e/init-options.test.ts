import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockSize, parseCidr } from '../../src/net/cidr.ts';
import { inNode, swarmup, tempHome, type CliResult } from '../support/cli.ts';

/**
 * Settings only `swarm init` takes, on real engines in node containers (one 1+0 cluster per case): the address pool
 * swarmup chooses overlaps no network it can see, and a configured pool, subnet size and data path port are what
 * the swarm reports afterwards.
 */
const CHOSEN = `e2e-pool-${process.pid}`;
const GIVEN = `e2e-poolg-${process.pid}`;
/** A network of the test's own on the local engine holding 10.0.0.0/16 (Docker's first overlay block). */
const BLOCKER = `swarmup-e2e-pool-block-${process.pid}`;
const home = tempHome();
const env = { SWARMUP_HOME: home };

function overlap(a: string, b: string): boolean {
  const x = parseCidr(a)!;
  const y = parseCidr(b)!;
  return x.start < y.start + blockSize(y) && y.start < x.start + blockSize(x);
}

function inside(inner: string, outer: string): boolean {
  const i = parseCidr(inner)!;
  const o = parseCidr(outer)!;
  return i.prefix >= o.prefix && i.start >= o.start && i.start + blockSize(i) <= o.start + blockSize(o);
}

/** Every IPv4 subnet of every network of the local engine, as `docker network inspect` lists them. */
async function localSubnets(): Promise<Array<{ network: string; subnet: string }>> {
  const ids = String((await execa('docker', ['network', 'ls', '-q'])).stdout)
    .split('\n')
    .filter(Boolean);
  const r = await execa('docker', ['network', 'inspect', ...ids, '--format', '{{json .}}']);
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      const n = JSON.parse(l) as { Name: string; IPAM?: { Config?: Array<{ Subnet?: string }> | null } };
      return (n.IPAM?.Config ?? []).flatMap((c) =>
        c.Subnet && parseCidr(c.Subnet)?.family === 4 ? [{ network: n.Name, subnet: c.Subnet }] : [],
      );
    });
}

/** What the manager's engine says the swarm was made with. */
async function swarmSettings(
  manager: string,
): Promise<{ DefaultAddrPool: string[]; SubnetSize: number; DataPathPort: number }> {
  return JSON.parse(
    await inNode(manager, ['docker', 'info', '--format', '{{json .Swarm.Cluster}}']),
  ) as never;
}

/** The subnet an overlay network made in the swarm gets (from the default pool). */
async function overlaySubnet(manager: string, name: string): Promise<string> {
  await inNode(manager, ['docker', 'network', 'create', '--driver', 'overlay', name]);
  return inNode(manager, [
    'docker',
    'network',
    'inspect',
    name,
    '--format',
    '{{(index .IPAM.Config 0).Subnet}}',
  ]);
}

const planOf = (r: CliResult) =>
  r.events.find((e) => e.event === 'plan') as
    | {
        addrPool?: { pool: string[]; subnetSize: number; source: string };
        notices?: string[];
        phases: Array<{ actions: Array<{ kind: string } & Record<string, unknown>> }>;
      }
    | undefined;

describe('swarm init options', () => {
  let chosenUp: CliResult;
  let givenUp: CliResult;
  beforeAll(async () => {
    await Promise.all([CHOSEN, GIVEN].map((n) => swarmup(['down', '--yes', '--name', n], env)));
    // 10.0.0.0/16 taken on the local engine (made here, or already held by something else): the chooser must go past it.
    await execa(
      'docker',
      ['network', 'create', '--subnet', '10.0.0.0/16', '--label', 'swarmup.e2e=init-options', BLOCKER],
      {
        reject: false,
      },
    );
    [chosenUp, givenUp] = await Promise.all([
      swarmup(['up', '--json', '--name', CHOSEN, '--managers', '1', '--workers', '0'], env),
      swarmup(
        [
          'up',
          '--json',
          '--name',
          GIVEN,
          '--managers',
          '1',
          '--workers',
          '0',
          '--default-addr-pool',
          '10.123.0.0/16',
          '--subnet-size',
          '26',
          '--data-path-port',
          '4790',
        ],
        env,
      ),
    ]);
    for (const r of [chosenUp, givenUp])
      if (r.code !== 0) throw new Error(`up failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  });
  afterAll(async () => {
    await Promise.all([CHOSEN, GIVEN].map((n) => swarmup(['down', '--yes', '--name', n], env)));
    await execa('docker', ['network', 'rm', BLOCKER], { reject: false });
  });

  it("the chosen default pool overlaps neither the node network nor any local engine network, and is the swarm's", async () => {
    const plan = planOf(chosenUp)!;
    expect(plan.addrPool).toMatchObject({ source: 'chosen', subnetSize: 24 });
    const pool = plan.addrPool!.pool;
    const init = plan.phases.flatMap((p) => p.actions).find((a) => a.kind === 'init');
    expect(init).toMatchObject({ defaultAddrPool: pool, subnetSize: 24 });
    // Said in a log line too.
    expect(
      chosenUp.events.some(
        (e) => e.event === 'log' && String(e.message).startsWith(`address pool ${pool[0]}`),
      ),
    ).toBe(true);

    const manager = `${CHOSEN}-manager-1`;
    const settings = await swarmSettings(manager);
    expect(settings.DefaultAddrPool).toEqual(pool);
    const subnets = await localSubnets();
    expect(subnets.map((s) => s.network)).toContain(`swarmup-${CHOSEN}`);
    expect(subnets.some((s) => s.subnet === '10.0.0.0/16' || overlap(s.subnet, '10.0.0.0/16'))).toBe(true);
    for (const s of subnets)
      expect(overlap(pool[0]!, s.subnet), `${pool[0]} vs ${s.network} ${s.subnet}`).toBe(false);
    // And none of the node's own routes (its networks, its engine's bridges).
    const routes = (await inNode(manager, ['ip', '-4', 'route'])).split('\n').map((l) => l.split(' ')[0]!);
    for (const r of routes.filter((x) => x.includes('/')))
      expect(overlap(pool[0]!, r), `${pool[0]} vs route ${r}`).toBe(false);
    // Overlay networks get their subnets from it.
    expect(inside(await overlaySubnet(manager, 'pool-check'), pool[0]!)).toBe(true);
  });

  it("a re-run keeps the swarm's pool: no init, the pool read back from the swarm", async () => {
    const r = await swarmup(['plan', '--json', '--name', CHOSEN, '--managers', '1', '--workers', '0'], env);
    expect(r.code, r.stderr).toBe(0);
    const plan = planOf(r)!;
    expect(plan.phases.flatMap((p) => p.actions).some((a) => a.kind === 'init')).toBe(false);
    expect(plan.addrPool).toMatchObject({ source: 'swarm', pool: planOf(chosenUp)!.addrPool!.pool });
  });

  it('an explicit pool, subnet size and data path port are what the swarm reports and uses', async () => {
    const plan = planOf(givenUp)!;
    expect(plan.addrPool).toMatchObject({ source: 'given', pool: ['10.123.0.0/16'], subnetSize: 26 });
    const manager = `${GIVEN}-manager-1`;
    const settings = await swarmSettings(manager);
    expect(settings).toMatchObject({
      DefaultAddrPool: ['10.123.0.0/16'],
      SubnetSize: 26,
      DataPathPort: 4790,
    });
    const subnet = await overlaySubnet(manager, 'given-check');
    expect(subnet).toMatch(/\/26$/);
    expect(inside(subnet, '10.123.0.0/16')).toBe(true);
  });

  it('asking an existing swarm for another pool is a notice (set at init), nothing is planned to change it', async () => {
    const r = await swarmup(
      [
        'plan',
        '--json',
        '--name',
        GIVEN,
        '--managers',
        '1',
        '--workers',
        '0',
        '--default-addr-pool',
        '10.124.0.0/16',
        '--data-path-port',
        '4790',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = planOf(r)!;
    expect(plan.phases.flatMap((p) => p.actions)).toEqual([]);
    expect(plan.notices).toEqual([
      'swarm.defaultAddrPool: the swarm has 10.123.0.0/16, the config asks 10.124.0.0/16; set at init: recreating the swarm is the only way (left as it is)',
    ]);
  });
});
