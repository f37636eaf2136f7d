import { describe, expect, it } from 'vitest';
import { hostStates, repairCommand } from '../../src/cluster/host-states.ts';
import { planCluster, type ClusterFacts } from '../../src/cluster/plan.ts';
import { startBatches, stopBatches } from '../../src/cluster/stop-order.ts';
import { judgeUnread, movedSilent } from '../../src/cluster/unread.ts';
import { facts as engineFacts } from '../support/engine-facts.ts';
import { chooseNodeSubnet, gatewayOf, slotAddress } from '../../src/providers/docker/addresses.ts';
import { wantedNodes } from '../../src/providers/node-names.ts';
import { leaderState } from '../../src/swarm/leader-wait.ts';
import { loadFixture } from '../support/engine-fixtures.ts';
import { movedAddress, waitingForLeader, type HostFacts } from '../../src/swarm/facts.ts';

/** Pure parts of durable clusters: fixed addresses, the stop and start order, and how broken states are told. */

const member = (over: Partial<HostFacts>): HostFacts => ({
  host: 'h',
  advertiseAddress: '10.0.0.1',
  hostname: 'h',
  engineVersion: '20.10.24',
  state: 'active',
  nodeId: 'n1',
  isManager: false,
  ...over,
});

describe('fixed addresses of node containers', () => {
  it('the subnet is a /22 clear of every network seen, in Docker bridge ranges first', () => {
    expect(chooseNodeSubnet([])).toBe('172.16.0.0/22');
    expect(
      chooseNodeSubnet([
        { cidr: '172.16.0.0/16', where: 'a' },
        { cidr: '172.17.0.0/16', where: 'docker0' },
      ]),
    ).toBe('172.18.0.0/22');
    // A network seen anywhere in the /22 counts, however small.
    expect(chooseNodeSubnet([{ cidr: '172.16.3.7/32', where: 'host' }])).toBe('172.16.4.0/22');
  });

  it('every node has the address of its slot: gateway .1, managers from .2, workers from .10', () => {
    const nodes = wantedNodes('lab', 7, 3);
    const addresses = nodes.map((n) => slotAddress('172.16.0.0/22', n));
    expect(addresses).toEqual([
      '172.16.0.2',
      '172.16.0.3',
      '172.16.0.4',
      '172.16.0.5',
      '172.16.0.6',
      '172.16.0.7',
      '172.16.0.8',
      '172.16.0.10',
      '172.16.0.11',
      '172.16.0.12',
    ]);
    expect(gatewayOf('172.16.0.0/22')).toBe('172.16.0.1');
    // Beyond .255 within the /22; a slot past its end is refused by name.
    expect(slotAddress('172.16.0.0/22', { name: 'lab-worker-300', role: 'worker' })).toBe('172.16.1.53');
    expect(() => slotAddress('172.16.0.0/22', { name: 'lab-worker-1014', role: 'worker' })).toThrow(
      /lab-worker-1014: no slot left in 172.16.0.0\/22/,
    );
  });
});

describe('stop and start order', () => {
  it('stop: workers, then the managers that do not lead, the leader last', () => {
    expect(
      stopBatches([
        { name: 'm1', role: 'manager', leader: false },
        { name: 'm2', role: 'manager', leader: true },
        { name: 'm3', role: 'manager', leader: false },
        { name: 'w1', role: 'worker', leader: false },
      ]),
    ).toEqual([
      { title: 'stop workers', hosts: ['w1'] },
      { title: 'stop managers', hosts: ['m1', 'm3'] },
      { title: 'stop the leader', hosts: ['m2'] },
    ]);
    // A single manager: no empty batch.
    expect(stopBatches([{ name: 'm1', role: 'manager', leader: true }])).toEqual([
      { title: 'stop the leader', hosts: ['m1'] },
    ]);
  });

  it('start: managers first, then workers', () => {
    expect(
      startBatches([
        { name: 'w1', role: 'worker' },
        { name: 'm1', role: 'manager' },
      ]),
    ).toEqual([
      { role: 'manager', hosts: ['m1'] },
      { role: 'worker', hosts: ['w1'] },
    ]);
  });
});

describe('states a fact read tells apart', () => {
  it('a manager waiting for a leader, whether its engine says pending or active with "no leader"', () => {
    expect(waitingForLeader(member({ isManager: true, state: 'pending' }))).toBe(true);
    expect(
      waitingForLeader(
        member({
          isManager: true,
          swarmError: 'rpc error: code = Unknown desc = The swarm does not have a leader.',
        }),
      ),
    ).toBe(true);
    expect(waitingForLeader(member({ isManager: true, nodes: [] }))).toBe(false);
    expect(waitingForLeader(member({ state: 'pending' }))).toBe(false);
  });

  it('an address moved: only between IPs, never for a host that is in no swarm', () => {
    expect(movedAddress(member({ nodeAddr: '10.0.0.9' }))).toEqual({ from: '10.0.0.9', to: '10.0.0.1' });
    expect(movedAddress(member({ nodeAddr: '10.0.0.1' }))).toBeUndefined();
    expect(movedAddress(member({ nodeAddr: '10.0.0.9', advertiseAddress: 'node1.lan' }))).toBeUndefined();
    expect(movedAddress(member({ nodeAddr: '10.0.0.9', state: 'inactive' }))).toBeUndefined();
  });

  it('waiting for a leader ends with a manager that lists one, or with no manager at all', () => {
    const leader = {
      id: 'n1',
      hostname: 'm1',
      role: 'manager' as const,
      leader: true,
      reachability: 'reachable',
    } as never;
    expect(leaderState([member({ isManager: true, nodes: [leader] })])).toBe('leader');
    expect(leaderState([member({ isManager: true, state: 'pending' })])).toBe('waiting');
    expect(leaderState([member({ state: 'inactive', nodeId: '' })])).toBe('none');
  });

  it('a leader whose other managers just stopped (captured: it still names itself Leader) is no leader yet', () => {
    expect(leaderState(loadFixture('engines-stopped').facts)).toBe('waiting');
    expect(leaderState(loadFixture('converged').facts)).toBe('leader');
    expect(leaderState(loadFixture('manager-gone').facts)).toBe('leader');
  });
});

describe('status of a cluster that cannot be listed', () => {
  const hosts = wantedNodes('lab', 3, 1);
  it('every machine stopped: swarmup start', () => {
    const rows = hostStates({
      hosts,
      listing: hosts.map((h) => ({ ...h, state: 'stopped' as const })),
      facts: [],
      unread: [],
    });
    expect(rows.map((r) => [r.name, r.machine, r.engine, r.swarm])).toEqual([
      ['lab-manager-1', 'stopped', '-', '-'],
      ['lab-manager-2', 'stopped', '-', '-'],
      ['lab-manager-3', 'stopped', '-', '-'],
      ['lab-worker-1', 'stopped', '-', '-'],
    ]);
    expect(repairCommand(rows, true)).toBe('swarmup start');
  });

  it('some machines or engines stopped: swarmup up (it starts them), never recover', () => {
    const rows = hostStates({
      hosts,
      listing: hosts.map((h, i) => ({ ...h, state: i === 1 ? ('stopped' as const) : ('running' as const) })),
      facts: [member({ host: 'lab-manager-1', isManager: true, state: 'pending' })],
      unread: [{ host: 'lab-manager-3', engine: 'down', reason: 'Cannot connect to the Docker daemon' }],
    });
    expect(rows.map((r) => [r.machine, r.engine, r.swarm])).toEqual([
      ['running', '20.10.24', 'waiting for a leader'],
      ['stopped', '-', '-'],
      ['running', 'not answering', '-'],
      ['running', '-', '-'],
    ]);
    expect(repairCommand(rows, true)).toBe('swarmup up');
  });

  it('every engine of an inventory stopped (what swarmup stop leaves): swarmup start', () => {
    const rows = hostStates({
      hosts: [{ name: 'node-1' }, { name: 'node-2' }],
      facts: [],
      unread: ['node-1', 'node-2'].map((host) => ({ host, engine: 'down' as const, reason: 'gone' })),
    });
    expect(rows.map((r) => [r.machine, r.engine])).toEqual([
      ['-', 'not answering'],
      ['-', 'not answering'],
    ]);
    expect(repairCommand(rows, false)).toBe('swarmup start');
  });

  it('managers whose addresses moved, everything running: recover --yes', () => {
    const rows = hostStates({
      hosts: [{ name: 'lab-manager-1' }],
      listing: [{ name: 'lab-manager-1', role: 'manager', state: 'running' }],
      facts: [member({ host: 'lab-manager-1', isManager: true, state: 'pending', nodeAddr: '10.0.0.7' })],
      unread: [],
    });
    expect(rows[0]!.swarm).toBe('address moved (10.0.0.7 -> 10.0.0.1)');
    expect(repairCommand(rows, true)).toBe('swarmup recover --yes');
  });
});

describe('the plan waits for what it starts', () => {
  const base = (over: Partial<ClusterFacts>): ClusterFacts => ({
    hosts: wantedNodes('lab', 3, 2),
    createsMachines: true,
    listing: wantedNodes('lab', 3, 2).map((h) => ({ ...h, state: 'stopped' as const })),
    facts: [],
    engines: [],
    managers: 3,
    knownClusterId: 'c1',
    ...over,
  });

  it('every machine stopped: start them, the swarm planned once they answer; nothing about the swarm refused', () => {
    const plan = planCluster(base({ later: wantedNodes('lab', 3, 2).map((h) => h.name) }));
    expect(plan.deferred).toBe(true);
    expect(plan.phases.map((p) => [p.stage, p.actions.map((a) => a.kind)])).toEqual([
      ['provision', ['start-machine', 'start-machine', 'start-machine', 'start-machine', 'start-machine']],
    ]);
    expect(plan.notices[0]).toMatch(/the swarm is planned once lab-manager-1, .* answer/);
  });

  it('a host whose engine runs but whose swarm cannot be read is refused, with nothing planned around it', () => {
    expect(() =>
      planCluster(
        base({
          listing: wantedNodes('lab', 3, 2).map((h) => ({ ...h, state: 'running' as const })),
          refused: [{ host: 'lab-manager-1', reason: 'its engine answers only through sudo' }],
        }),
      ),
    ).toThrow(
      /lab-manager-1: its engine answers only through sudo[\s\S]*neither joined, demoted nor removed/,
    );
  });
});

describe('a silent host the swarm lists elsewhere has moved', () => {
  it('read as the swarm sees it; another silent host stays unread', () => {
    const lister = member({
      host: 'm1',
      isManager: true,
      clusterId: 'c1',
      nodes: [
        {
          id: 'n2',
          hostname: 'm2',
          role: 'manager',
          state: 'down',
          availability: 'active',
          leader: false,
          reachability: 'unreachable',
          addr: '10.0.0.2',
          managerAddr: '10.0.0.2:2377',
          engineVersion: '20.10.24',
        },
      ],
    });
    const r = movedSilent(
      [
        { host: 'm2', engine: 'silent', reason: 'no answer within 10 s' },
        { host: 'm3', engine: 'silent', reason: 'no answer within 10 s' },
      ],
      [lister],
      { m2: 'n2', m3: 'n3' },
      (h) => ({ m2: '10.0.0.50', m3: '10.0.0.3' })[h],
    );
    expect(r.facts).toEqual([
      expect.objectContaining({ host: 'm2', nodeId: 'n2', isManager: true, nodeAddr: '10.0.0.2' }),
    ]);
    expect(movedAddress(r.facts[0]!)).toEqual({ from: '10.0.0.2', to: '10.0.0.50' });
    expect(r.unread.map((u) => u.host)).toEqual(['m3']);
  });
});

describe('a running host whose swarm was not read is never planned as fresh', () => {
  const down = (host: string) => ({ host, engine: 'down' as const, reason: 'permission denied' });
  it('an engine that answers only through sudo is refused, naming the user and the socket', () => {
    const f = engineFacts({
      host: 'n1',
      uid: 1000,
      user: 'ops',
      sudo: 'nopasswd',
      dockerd: true,
      serverVersion: '20.10.24',
      inDockerGroup: true,
    });
    const v = judgeUnread([down('n1')], new Map([['n1', f]]), new Set());
    expect(v.later).toEqual([]);
    expect(v.fresh).toEqual([]);
    expect(v.refused[0]?.reason).toMatch(
      /answers only through sudo: ops cannot open \/var\/run\/docker\.sock/,
    );
  });
  it('a user the engine step adds to the docker group is read again after it; no engine at all is a fresh host', () => {
    const grouped = engineFacts({
      host: 'n1',
      uid: 1000,
      user: 'ops',
      sudo: 'nopasswd',
      dockerd: true,
      serverVersion: '20.10.24',
    });
    const bare = engineFacts({ host: 'n2' });
    const v = judgeUnread(
      [down('n1'), down('n2')],
      new Map([
        ['n1', grouped],
        ['n2', bare],
      ]),
      new Set(['n1', 'n2']),
    );
    expect(v).toEqual({ later: ['n1'], fresh: ['n2'], refused: [] });
  });
  it('a silent engine (its swarm holds the read) is read again later, whatever its engine facts', () => {
    const v = judgeUnread([{ host: 'n1', engine: 'silent', reason: 'no answer' }], new Map(), new Set());
    expect(v.later).toEqual(['n1']);
  });
});

describe('--new-swarm: only in place of a recorded swarm that is gone', () => {
  const hosts = wantedNodes('lab', 1, 1);
  const input = (over: Partial<ClusterFacts>): ClusterFacts => ({
    hosts,
    createsMachines: true,
    listing: hosts.map((h) => ({ ...h, state: 'running' as const })),
    facts: hosts.map((h) => member({ host: h.name, state: 'inactive', nodeId: '' })),
    engines: [],
    managers: 1,
    knownClusterId: 'gone',
    ...over,
  });

  it('without it: refused, saying no host is a member and naming --new-swarm, never down', () => {
    expect(() => planCluster(input({}))).toThrow(
      /swarm gone was recorded .*in no swarm.*swarmup up --new-swarm/s,
    );
    expect(() => planCluster(input({}))).not.toThrow(/swarmup down|gone with their data/);
  });

  it('with it: a new swarm is initialised on the first manager', () => {
    const p = planCluster(input({ newSwarm: true }));
    expect(p.phases.flatMap((x) => x.actions).map((a) => a.kind)).toEqual(['init', 'join', 'rotate-tokens']);
  });

  it('a swarm that answers is converged as it is: --new-swarm never makes a second one', () => {
    const manager = member({
      host: 'lab-manager-1',
      isManager: true,
      nodeId: 'n1',
      clusterId: 'gone',
      nodes: [
        {
          id: 'n1',
          hostname: 'lab-manager-1',
          role: 'manager',
          state: 'ready',
          availability: 'active',
          leader: true,
          reachability: 'reachable',
          addr: '10.0.0.1',
          engineVersion: '20.10.24',
        },
      ],
    });
    const p = planCluster(
      input({
        newSwarm: true,
        facts: [manager, member({ host: 'lab-worker-1', state: 'inactive', nodeId: '' })],
      }),
    );
    expect(p.phases.flatMap((x) => x.actions).map((a) => a.kind)).toEqual(['join', 'rotate-tokens']);
    expect(p.swarm.clusterId).toBe('gone');
  });
});
