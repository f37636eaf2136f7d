import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/errors.ts';
import { JsonReporter } from '../../src/playbook/events.ts';

const fakeToken = ['SWMTKN', '1', 'a'.repeat(50), 'b'.repeat(25)].join('-');

describe('JSON events', () => {
  it('one object per line, and a secret in any message is redacted on the way out', () => {
    const lines: string[] = [];
    const r = new JsonReporter((l) => lines.push(l));
    r.info(`joining with ${fakeToken}`);
    r.emit({ event: 'problem', host: 'node1', message: `token ${fakeToken}` });
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: 'log', message: 'joining with SWMTKN-<redacted>' },
      { event: 'problem', host: 'node1', message: 'token SWMTKN-<redacted>' },
    ]);
    expect(lines.join('\n')).not.toContain('a'.repeat(50));
  });

  it('a parallel step runs every task, reports each failure, then throws them all', async () => {
    const lines: string[] = [];
    const r = new JsonReporter((l) => lines.push(l));
    const ran: string[] = [];
    const err = await r
      .tasks(
        'join workers',
        ['w1', 'w2', 'w3'].map((t) => ({
          title: t,
          run: async () => {
            ran.push(t);
            if (t !== 'w2') throw new StepError(t, 'join', `refused with ${fakeToken}`);
          },
        })),
        { concurrent: true },
      )
      .then(
        () => ({ message: 'did not throw', exitCode: 0 }),
        (e: unknown) => e as Error & { exitCode: number },
      );
    expect(ran.sort()).toEqual(['w1', 'w2', 'w3']);
    expect(err.message.split('\n').sort()).toEqual([
      `w1: join: refused with ${fakeToken}`,
      `w3: join: refused with ${fakeToken}`,
    ]);
    expect(err.exitCode).toBe(1);
    const events = lines.map((l) => JSON.parse(l) as { event: string; status?: string; error?: string });
    expect(events.filter((e) => e.status === 'failed' && e.event === 'task').map((e) => e.error)).toEqual([
      'w1: join: refused with SWMTKN-<redacted>',
      'w3: join: refused with SWMTKN-<redacted>',
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'step', step: 'join workers', status: 'failed' });
  });

  it('a serial step stops at the first failure', async () => {
    const r = new JsonReporter(() => undefined);
    const ran: string[] = [];
    await expect(
      r.tasks(
        'add managers one at a time',
        ['m2', 'm3'].map((t) => ({
          title: t,
          run: async () => {
            ran.push(t);
            throw new Error(`${t} failed`);
          },
        })),
        { concurrent: false },
      ),
    ).rejects.toThrow('m2 failed');
    expect(ran).toEqual(['m2']);
  });
});
