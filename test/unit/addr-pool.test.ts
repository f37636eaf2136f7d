import { describe, expect, it } from 'vitest';
import { describeAction, type Action } from '../../src/swarm/actions.ts';
import { planCluster, type ClusterFacts } from '../../src/cluster/plan.ts';
import { planEventSchema } from '../../src/playbook/event-schema.ts';
import { planEvent } from '../../src/cluster/render-plan.ts';
import { swarmPorts } from '../../src/engine/preflight.ts';
import { InputError } from '../../src/errors.ts';
import { wantedIngress } from '../../src/providers/ec2/security-group.ts';
import {
  chooseAddrPool,
  initSettingNotices,
  parseInitSettings,
  parseRoutes,
  poolOverlaps,
  poolPrefix,
  type SeenNetwork,
} from '../../src/swarm/addr-pool.ts';
import { initBody } from '../../src/swarm/engine.ts';
import { parseInfo, type HostFacts } from '../../src/swarm/facts.ts';

const seen = (...cidrs: string[]): SeenNetwork[] => cidrs.map((cidr) => ({ cidr, where: `test ${cidr}` }));

describe('chooseAddrPool: the default pool overlaps none of the networks seen', () => {
  it('with nothing seen, the first /16 of 10.0.0.0/8', () => {
    expect(chooseAddrPool({ seen: [] })).toEqual({
      pool: { pool: ['10.0.0.0/16'], subnetSize: 24, source: 'chosen' },
      notices: [],
    });
  });

  it('skips every /16 a network seen touches, however small or wide that network is', () => {
    const r = chooseAddrPool({ seen: seen('10.0.0.0/16', '10.1.200.0/24', '10.2.0.0/15', '10.4.3.7/32') });
    expect(r.pool.pool).toEqual(['10.5.0.0/16']);
  });

  it('moves to 172.16.0.0/12 when 10.0.0.0/8 is taken (a VPN route), then to 192.168.0.0/16', () => {
    expect(chooseAddrPool({ seen: seen('10.0.0.0/8') }).pool.pool).toEqual(['172.16.0.0/16']);
    expect(chooseAddrPool({ seen: seen('10.0.0.0/8', '172.16.0.0/12') }).pool.pool).toEqual([
      '192.168.0.0/16',
    ]);
  });

  it('ignores the default route and VPN "def1" halves (wider than /8: they say nothing about what is used)', () => {
    expect(chooseAddrPool({ seen: seen('0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1') }).pool.pool).toEqual([
      '10.0.0.0/16',
    ]);
  });

  it('ignores IPv6 networks and text that is no CIDR', () => {
    expect(chooseAddrPool({ seen: seen('fd00::/8', 'eth0') }).pool.pool).toEqual(['10.0.0.0/16']);
  });

  it('a wider subnet size asks for a wider pool (256 subnets), never narrower than a /16', () => {
    expect(poolPrefix(24)).toBe(16);
    expect(poolPrefix(28)).toBe(16);
    expect(poolPrefix(20)).toBe(12);
    expect(poolPrefix(12)).toBe(8);
    const r = chooseAddrPool({ subnetSize: 20, seen: seen('10.0.0.0/13') });
    expect(r.pool).toEqual({ pool: ['10.16.0.0/12'], subnetSize: 20, source: 'chosen' });
  });

  it('exhaustion: every private block overlapping something is bad input naming the setting to give', () => {
    const all = seen('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16');
    expect(() => chooseAddrPool({ seen: all })).toThrow(InputError);
    expect(() => chooseAddrPool({ seen: all })).toThrow(/swarm\.defaultAddrPool.*--default-addr-pool/);
  });

  it('an explicit pool is honoured as given, with a notice for each network seen that it overlaps', () => {
    const r = chooseAddrPool({
      given: ['10.0.0.0/8', '192.168.50.0/24'],
      subnetSize: 26,
      seen: seen('10.1.0.0/16', '172.31.0.0/16'),
    });
    expect(r.pool).toEqual({ pool: ['10.0.0.0/8', '192.168.50.0/24'], subnetSize: 26, source: 'given' });
    expect(r.notices).toEqual([
      'swarm.defaultAddrPool: 10.0.0.0/8 overlaps 10.1.0.0/16 (test 10.1.0.0/16); kept as given',
    ]);
  });

  it('an explicit pool is kept even when every private block is taken', () => {
    const r = chooseAddrPool({ given: ['10.9.0.0/16'], seen: seen('10.0.0.0/8', '172.16.0.0/12') });
    expect(r.pool.pool).toEqual(['10.9.0.0/16']);
    expect(r.notices).toHaveLength(1);
  });

  it('a pool chosen by an earlier run is kept while it overlaps nothing, chosen anew once it does', () => {
    expect(chooseAddrPool({ recorded: ['10.7.0.0/16'], seen: seen('10.0.0.0/16') }).pool).toEqual({
      pool: ['10.7.0.0/16'],
      subnetSize: 24,
      source: 'recorded',
    });
    expect(chooseAddrPool({ recorded: ['10.7.0.0/16'], seen: seen('10.7.0.0/24') }).pool).toEqual({
      pool: ['10.0.0.0/16'],
      subnetSize: 24,
      source: 'chosen',
    });
  });

  it('poolOverlaps tells whether a pool meets any network that counts', () => {
    expect(poolOverlaps(['10.3.0.0/16'], seen('10.3.4.0/24'))).toBe(true);
    expect(poolOverlaps(['10.3.0.0/16'], seen('10.4.0.0/16', '0.0.0.0/0'))).toBe(false);
  });
});

describe('reading what is seen and what a swarm was made with', () => {
  it('parseRoutes reads `ip -4 route` (default route skipped, /32 hosts and typed routes kept)', () => {
    const out = [
      'default via 192.0.2.1 dev eth0 ',
      '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown ',
      '192.168.192.0/20 dev br-ef86 proto kernel scope link src 192.168.192.1 ',
      '10.8.0.5 dev tun0 scope link',
      'unreachable 10.99.0.0/16',
      '',
    ].join('\n');
    expect(parseRoutes('m1', out)).toEqual([
      { cidr: '172.17.0.0/16', where: 'route on m1' },
      { cidr: '192.168.192.0/20', where: 'route on m1' },
      { cidr: '10.8.0.5/32', where: 'route on m1' },
      { cidr: '10.99.0.0/16', where: 'route on m1' },
    ]);
  });

  it("a manager's GET /info gives the swarm's pool, subnet size and data path port back; a worker's none", () => {
    const manager = parseInfo('m1', '10.0.0.1', {
      Name: 'm1',
      ServerVersion: '27.3.1',
      Swarm: {
        NodeID: 'n1',
        LocalNodeState: 'active',
        ControlAvailable: true,
        Cluster: { ID: 'C1', DefaultAddrPool: ['10.20.0.0/16'], SubnetSize: 26, DataPathPort: 4790 },
      },
    });
    expect(manager.initSettings).toEqual({
      defaultAddrPool: ['10.20.0.0/16'],
      subnetSize: 26,
      dataPathPort: 4790,
    });
    const worker = parseInfo('w1', '10.0.0.2', {
      Swarm: { NodeID: 'n2', LocalNodeState: 'active', ControlAvailable: false, Cluster: null },
    });
    expect(worker.initSettings).toBeUndefined();
  });

  it("an engine that reports zeros (older answers) reads as Docker's defaults", () => {
    expect(parseInitSettings({ ID: 'C1', DefaultAddrPool: null, SubnetSize: 0, DataPathPort: 0 })).toEqual({
      defaultAddrPool: ['10.0.0.0/8'],
      subnetSize: 24,
      dataPathPort: 4789,
    });
  });

  it('a setting the config gives differently from the swarm is a notice; the same one spelled otherwise is not', () => {
    const swarm = { defaultAddrPool: ['10.20.0.0/16'], subnetSize: 24, dataPathPort: 4789 };
    expect(initSettingNotices({ defaultAddrPool: ['10.20.0.0/16'], subnetSize: 24 }, swarm)).toEqual([]);
    expect(initSettingNotices({ defaultAddrPool: ['10.20.5.0/16'] }, swarm)).toEqual([]);
    expect(initSettingNotices({}, swarm)).toEqual([]);
    const n = initSettingNotices({ defaultAddrPool: ['10.30.0.0/16'], dataPathPort: 4790 }, swarm);
    expect(n).toEqual([
      'swarm.defaultAddrPool: the swarm has 10.20.0.0/16, the config asks 10.30.0.0/16; set at init: recreating the swarm is the only way (left as it is)',
      'swarm.dataPathPort: the swarm has 4789, the config asks 4790; set at init: recreating the swarm is the only way (left as it is)',
    ]);
  });
});

describe('the cluster plan carries the init settings', () => {
  const hosts = [
    { name: 'm1', role: 'manager' as const },
    { name: 'w1', role: 'worker' as const },
  ];
  const freshFacts = (host: string, routes: SeenNetwork[] = []): HostFacts => ({
    host,
    advertiseAddress: '',
    hostname: host,
    engineVersion: '27.3.1',
    state: 'inactive',
    nodeId: '',
    isManager: false,
    routes,
  });
  const input = (over: Partial<ClusterFacts>): ClusterFacts => ({
    hosts,
    createsMachines: false,
    listing: hosts.map((h) => ({ name: h.name, role: h.role, state: 'running' as const })),
    facts: [freshFacts('m1'), freshFacts('w1')],
    engines: [],
    managers: 1,
    ...over,
  });
  const actions = (p: { phases: Array<{ actions: Action[] }> }) => p.phases.flatMap((ph) => ph.actions);

  it("a new swarm's init gets a pool clear of the provider's networks and every host's routes", () => {
    const plan = planCluster(
      input({
        seenNetworks: seen('10.0.0.0/16'),
        facts: [freshFacts('m1', seen('10.1.0.0/16')), freshFacts('w1', seen('10.2.3.0/24'))],
        initSettings: { dataPathPort: 4790, dataPathAddr: 'eth1' },
      }),
    );
    const init = actions(plan).find((a) => a.kind === 'init');
    expect(init).toEqual({
      kind: 'init',
      host: 'm1',
      defaultAddrPool: ['10.3.0.0/16'],
      subnetSize: 24,
      dataPathPort: 4790,
      dataPathAddr: 'eth1',
    });
    expect(actions(plan).find((a) => a.kind === 'join')).toEqual({
      kind: 'join',
      host: 'w1',
      role: 'worker',
      dataPathAddr: 'eth1',
    });
    expect(plan.addrPool).toMatchObject({ pool: ['10.3.0.0/16'], source: 'chosen', seen: 3 });
    expect(plan.addrPool!.description).toBe(
      'address pool 10.3.0.0/16 (/24 subnets): chosen, overlaps none of the 3 networks seen',
    );
    expect(describeAction(init!)).toBe(
      'm1: init swarm (address pool 10.3.0.0/16, /24 subnets, data path port 4790, data path address eth1)',
    );
    // What `plan --json` prints is what the published schema accepts.
    expect(() => planEventSchema.parse({ event: 'plan', ...planEvent(plan) })).not.toThrow();
  });

  it('an existing swarm: no init, its own pool reported, a differing configured pool is a notice only', () => {
    const m1: HostFacts = {
      ...freshFacts('m1'),
      state: 'active',
      nodeId: 'n1',
      clusterId: 'C1',
      isManager: true,
      initSettings: { defaultAddrPool: ['10.20.0.0/16'], subnetSize: 24, dataPathPort: 4789 },
      nodes: [
        {
          id: 'n1',
          hostname: 'm1',
          role: 'manager',
          state: 'ready',
          availability: 'active',
          leader: true,
          reachability: 'reachable',
          addr: '',
          engineVersion: '27.3.1',
        },
      ],
    };
    const plan = planCluster(
      input({
        knownClusterId: 'C1',
        facts: [m1, freshFacts('w1')],
        initSettings: { defaultAddrPool: ['172.20.0.0/16'] },
      }),
    );
    expect(actions(plan).some((a) => a.kind === 'init')).toBe(false);
    expect(plan.addrPool).toMatchObject({ pool: ['10.20.0.0/16'], source: 'swarm' });
    expect(plan.notices).toEqual([
      expect.stringMatching(/set at init: recreating the swarm is the only way/),
    ]);
    expect(plan.problems).toEqual([]);
    expect(() => planEventSchema.parse({ event: 'plan', ...planEvent(plan) })).not.toThrow();
  });
});

describe('the Engine API body and the pre-flight', () => {
  it('initBody carries only what is given, in the Engine API names', () => {
    expect(initBody({})).toEqual({});
    expect(
      initBody({
        defaultAddrPool: ['10.5.0.0/16'],
        subnetSize: 26,
        dataPathPort: 4790,
        dataPathAddr: 'eth1',
      }),
    ).toEqual({ DefaultAddrPool: ['10.5.0.0/16'], SubnetSize: 26, DataPathPort: 4790, DataPathAddr: 'eth1' });
  });

  it("EC2's security group opens the configured data path port between members instead of 4789", () => {
    const udp = (port?: number) =>
      wantedIngress('sg-1', [], false, port)
        .filter((r) => r.IpProtocol === 'udp')
        .map((r) => r.FromPort);
    expect(udp()).toEqual([7946, 4789]);
    expect(udp(4790)).toEqual([7946, 4790]);
  });

  it('the port probe checks the data path port the swarm uses', () => {
    expect(swarmPorts('worker')).toEqual(['tcp:7946', 'udp:7946', 'udp:4789']);
    expect(swarmPorts('manager', 4790)).toEqual(['tcp:2377', 'tcp:7946', 'udp:7946', 'udp:4790']);
  });
});
