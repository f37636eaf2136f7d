import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cluster/render-plan.ts';
import type { ClusterPlan } from '../../src/cluster/plan.ts';

const plan = (phases: ClusterPlan['phases'], entry = 'node-1'): ClusterPlan => ({
  phases,
  swarm: { entry, roles: {} } as ClusterPlan['swarm'],
  problems: [],
  later: [],
  deferred: false,
  notices: [],
});

describe('plan as printed: by phase, each saying what it touches', () => {
  it('engines over SSH on their hosts; joins on the joining engines with tokens from the entry manager', () => {
    const text = renderPlan(
      plan([
        {
          stage: 'engine',
          title: 'install engines',
          mode: 'parallel',
          actions: [
            { kind: 'engine', host: 'node-1', steps: ['install docker.io'] },
            { kind: 'engine', host: 'node-2', steps: ['install docker.io'] },
          ],
        },
        {
          stage: 'swarm',
          title: 'initialise the swarm',
          mode: 'serial',
          actions: [{ kind: 'init', host: 'node-1' }],
        },
        {
          stage: 'swarm',
          title: 'join workers',
          mode: 'parallel',
          actions: [{ kind: 'join', host: 'node-2', role: 'worker' }],
        },
      ]),
      undefined,
      { provider: 'ssh' },
    );
    expect(text.split('\n')).toEqual([
      'engines, by commands over SSH:',
      '  install engines, in parallel, on node-1, node-2:',
      '    node-1: engine: install docker.io',
      '    node-2: engine: install docker.io',
      'swarm, through the Docker Engine API over SSH:',
      '  initialise the swarm, one at a time, on the engine of node-1:',
      '    node-1: init swarm',
      '  join workers, in parallel, on the engine of node-2 (join tokens from manager node-1):',
      '    node-2: join as worker',
      'then verify: every node Ready and Active, one Leader, every other manager Reachable',
    ]);
  });

  it('machines through the provider and where it looks; node-list changes through the entry manager; --until cuts', () => {
    const phases: ClusterPlan['phases'] = [
      {
        stage: 'swarm',
        title: 'drain and demote surplus nodes',
        mode: 'serial',
        actions: [
          { kind: 'drain', host: 'lab-worker-9', nodeId: 'w9' },
          {
            kind: 'remove-node',
            nodeId: 'abcdef0123456789',
            hostname: 'lab-worker-9',
            demoteFirst: false,
            reason: 'surplus',
          },
        ],
      },
      {
        stage: 'provision',
        title: 'remove surplus machines',
        mode: 'parallel',
        actions: [{ kind: 'remove-machine', host: 'lab-worker-9' }],
      },
    ];
    const where = { provider: 'ec2', location: 'EC2 region eu-west-1' };
    const text = renderPlan(plan(phases, 'lab-manager-1'), undefined, where);
    expect(text).toContain('  drain and demote surplus nodes, one at a time, through manager lab-manager-1:');
    expect(text).toContain(
      'machines, through the ec2 provider (EC2 region eu-west-1):\n  remove surplus machines, in parallel:',
    );
    const cut = renderPlan(plan([phases[1]!], 'lab-manager-1'), 'provision', where);
    expect(cut).not.toContain('then verify');
  });
});
