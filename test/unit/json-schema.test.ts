import { describe, expect, it } from 'vitest';
import { eventSchema, statusSchema } from '../../src/playbook/event-schema.ts';
import { describeAction, type Action } from '../../src/swarm/actions.ts';
import { checkJsonOutput } from '../support/cli.ts';

/** The schemas themselves; every `--json` output the e2e and ec2 tests produce is checked against them too. */
describe('--json schemas', () => {
  const node = {
    name: 'lab-manager-1',
    role: 'manager',
    state: 'ready',
    availability: 'active',
    leader: true,
    reachability: 'reachable',
    engineVersion: '20.10.24',
    labels: { zone: 'a' },
  };

  it('every kind of action, as plan and up print it, matches; a field too many or too few does not', () => {
    const actions: Action[] = [
      { kind: 'create-machine', host: 'a', role: 'worker' },
      { kind: 'start-machine', host: 'a' },
      { kind: 'remove-machine', host: 'a' },
      { kind: 'engine', host: 'a', steps: ['install docker-ce'] },
      { kind: 'leave', host: 'a', reason: 'another swarm' },
      { kind: 'init', host: 'a' },
      { kind: 'remove-node', nodeId: 'x1', hostname: 'a', demoteFirst: true, reason: 'gone' },
      { kind: 'join', host: 'a', role: 'manager' },
      { kind: 'promote', host: 'a', nodeId: 'x1' },
      { kind: 'demote', host: 'a', nodeId: 'x1' },
      { kind: 'drain', host: 'a', nodeId: 'x1' },
      { kind: 'activate', host: 'a', nodeId: 'x1' },
      { kind: 'rotate-tokens' },
      { kind: 'init', host: 'a', labels: { tier: 'control' } },
      { kind: 'join', host: 'a', role: 'worker', labels: { zone: 'a' } },
      { kind: 'label', host: 'a', nodeId: 'x1', set: { zone: 'a' }, remove: ['old'] },
    ];
    for (const a of actions) {
      const line = { event: 'action', status: 'ok', ...a, description: describeAction(a) };
      expect(eventSchema.safeParse(line).success, a.kind).toBe(true);
      expect(eventSchema.safeParse({ ...line, extra: 1 }).success, a.kind).toBe(false);
    }
    const plan = {
      event: 'plan',
      phases: [
        { stage: 'swarm', title: 'join', mode: 'serial', actions: [{ ...actions[7], description: 'x' }] },
      ],
      problems: [],
    };
    expect(eventSchema.safeParse(plan).success).toBe(true);
    expect(eventSchema.safeParse({ ...plan, phases: [{ ...plan.phases[0], stage: 'later' }] }).success).toBe(
      false,
    );
    expect(eventSchema.safeParse({ event: 'action', status: 'ok', kind: 'join', host: 'a' }).success).toBe(
      false,
    );
  });

  it('summary and status carry nodes as docker node ls reads them', () => {
    expect(
      eventSchema.safeParse({ event: 'summary', changes: 3, durationMs: 5, nodes: [node], ok: true }).success,
    ).toBe(true);
    expect(
      eventSchema.safeParse({ event: 'summary', changes: 3, durationMs: 5, nodes: [node] }).success,
    ).toBe(false);
    expect(statusSchema.safeParse({ cluster: 'lab', provider: 'docker', nodes: [node] }).success).toBe(true);
    expect(
      statusSchema.safeParse({ cluster: 'lab', provider: 'docker', nodes: [{ ...node, leader: 'yes' }] })
        .success,
    ).toBe(false);
  });

  it("the tests' check refuses a line that is not JSON, an unknown event, and a status of two objects", () => {
    expect(() => checkJsonOutput(['up', '--json'], '{"event":"log","message":"hi"}\n')).not.toThrow();
    expect(() => checkJsonOutput(['up', '--json'], 'starting\n')).toThrow(/line 1 is not JSON/);
    expect(() => checkJsonOutput(['down', '--json'], '{"event":"progress","message":"hi"}\n')).toThrow(
      /does not match the schema/,
    );
    const status = JSON.stringify({ cluster: 'lab', provider: 'docker', nodes: [node] });
    expect(() => checkJsonOutput(['status', '--json'], `${status}\n`)).not.toThrow();
    expect(() => checkJsonOutput(['status', '--json'], `${status}\n${status}\n`)).toThrow(/not one object/);
  });
});
