import { describe, expect, it, vi } from 'vitest';
import { StepError } from '../../src/errors.ts';
import {
  colourWanted,
  finishedStep,
  fit,
  liveLines,
  liveWanted,
  plainLine,
  seconds,
  type StepState,
} from '../../src/playbook/progress-format.ts';
import { PlainReporter, QuietReporter } from '../../src/playbook/progress-lines.ts';
import { TerminalReporter } from '../../src/playbook/progress-terminal.ts';
import { humanReporter } from '../../src/playbook/progress.ts';
import { traceOfCommand } from '../../src/transport/trace.ts';
import { readdirSync } from 'node:fs';
import { swarmup, tempHome } from '../support/cli.ts';

const token = ['SWMTKN', '1', 'a'.repeat(50), 'b'.repeat(25)].join('-');
const unlockKey = ['SWMKEY', '1', 'c'.repeat(43)].join('-');
const ESC = '\x1b';
/** A colour or attribute code (SGR), what NO_COLOR forbids. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);
const SGR_ALL = new RegExp(SGR.source, 'g');
const CSI = new RegExp(`^${ESC}\\[([0-9;]*)([A-Za-z])`);

/** A clock that moves only when told. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/**
 * What a terminal would show after `output`: printable text, newlines, carriage returns and the two escapes the
 * live region uses (cursor up one line, erase the line); colour codes are dropped.
 */
function screenAfter(output: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  for (let i = 0; i < output.length; i++) {
    const rest = output.slice(i);
    const esc = CSI.exec(rest);
    if (esc) {
      if (esc[2] === 'A') row = Math.max(0, row - Number(esc[1] || 1));
      else if (esc[2] === 'K') rows[row] = '';
      else if (esc[2] !== 'm') throw new Error(`unexpected escape ${JSON.stringify(esc[0])}`);
      i += esc[0].length - 1;
    } else if (output[i] === '\n') {
      row++;
      rows[row] ??= '';
    } else if (output[i] !== '\r') rows[row] = (rows[row] ?? '') + output[i]!;
  }
  return rows.filter((r) => r !== '');
}

const step = (over: Partial<StepState> = {}): StepState => ({
  title: 'join workers',
  startedAt: 0,
  endedAt: 2_140,
  tasks: [{ title: 'lab-worker-1' }, { title: 'lab-worker-2' }],
  ...over,
});

describe('progress lines (pure)', () => {
  it('a finished step is one line with its task count and elapsed time, like kind', () => {
    expect(seconds(2_140)).toBe('2.1s');
    expect(finishedStep({ color: false }, step())).toEqual([' ✓ join workers (2)  2.1s']);
    expect(finishedStep({ color: false }, step({ tasks: [{ title: 'one' }] }))).toEqual([
      ' ✓ join workers  2.1s',
    ]);
  });

  it('a failed task is a ✗ line naming host, step and cause, its output indented, secrets redacted', () => {
    const lines = finishedStep(
      { color: false },
      step({
        failed: true,
        tasks: [
          { title: 'lab-worker-1', startedAt: 0, endedAt: 100 },
          {
            title: 'lab-worker-2',
            startedAt: 0,
            endedAt: 200,
            error: `lab-worker-2: join as worker: refused ${token}\nlast line of output`,
          },
        ],
      }),
    );
    expect(lines).toEqual([
      ' ✗ join workers (2)  2.1s',
      '   ✗ lab-worker-2: join as worker: refused SWMTKN-<redacted>',
      '       last line of output',
    ]);
  });

  it('colour only when asked: the same lines with and without SGR codes', () => {
    const coloured = finishedStep({ color: true }, step()).join('\n');
    expect(coloured).toMatch(SGR);
    expect(coloured.replace(SGR_ALL, '')).toBe(finishedStep({ color: false }, step())[0]);
  });

  it('the live region: running steps and their tasks with spinners and times, within the screen', () => {
    const running = step({
      endedAt: undefined,
      tasks: [
        { title: 'lab-worker-1', startedAt: 0, endedAt: 800 },
        { title: 'lab-worker-2', startedAt: 100 },
        { title: 'lab-worker-3' }, // not started (a serial step)
      ],
    });
    expect(liveLines({ color: false }, [running], 1_500, 0, { columns: 80, rows: 24 })).toEqual([
      ' ⠋ join workers (3)  1.5s',
      '   ✓ lab-worker-1  0.8s',
      '   ⠋ lab-worker-2  1.4s',
    ]);
    const many = step({
      endedAt: undefined,
      tasks: Array.from({ length: 30 }, (_, i) => ({ title: `node-${i}`, startedAt: 0 })),
    });
    const lines = liveLines({ color: false }, [many], 1_000, 3, { columns: 30, rows: 10 });
    expect(lines).toHaveLength(9);
    expect(lines.at(-1)).toBe('   … 23 more');
    for (const l of lines) expect([...l].length).toBeLessThan(30);
    expect(fit('abcdefghij', 5)).toBe('abcd…');
  });

  it('plain lines start with the time since the command started and carry no escape', () => {
    expect(plainLine(12_345, `token ${token}`)).toBe('  12.3s  token SWMTKN-<redacted>');
  });

  it('NO_COLOR (set, not empty) and --no-color turn colour off; no terminal or CI: no live region', () => {
    expect(colourWanted({}, true, undefined)).toBe(true);
    expect(colourWanted({ NO_COLOR: '1' }, true, undefined)).toBe(false);
    expect(colourWanted({ NO_COLOR: '' }, true, undefined)).toBe(true);
    expect(colourWanted({}, true, false)).toBe(false);
    expect(colourWanted({}, false, true)).toBe(false);
    expect(colourWanted({ TERM: 'dumb' }, true, undefined)).toBe(false);
    expect(liveWanted({}, true)).toBe(true);
    expect(liveWanted({ CI: 'true' }, true)).toBe(false);
    expect(liveWanted({ CI: '' }, true)).toBe(true);
    expect(liveWanted({}, false)).toBe(false);
    expect(humanReporter({}, {}, false)).toBeInstanceOf(PlainReporter);
    expect(humanReporter({}, { CI: '1' }, true)).toBeInstanceOf(PlainReporter);
    expect(humanReporter({}, {}, true)).toBeInstanceOf(TerminalReporter);
    expect(humanReporter({ quiet: true }, {}, true)).toBeInstanceOf(QuietReporter);
  });

  it('--verbose shows a command by its first line and the size of its input, never the input', () => {
    expect(traceOfCommand('docker info')).toBe('$ docker info');
    expect(traceOfCommand('set -e\napt-get update\napt-get install -y docker.io')).toBe(
      '$ set -e (+2 lines)',
    );
    expect(traceOfCommand(`docker swarm join --token ${token} 10.0.0.1:2377`, unlockKey)).toBe(
      '$ docker swarm join --token SWMTKN-<redacted> 10.0.0.1:2377 < input (52 bytes)',
    );
  });
});

describe('progress reporters', () => {
  const run = (title: string, ms: number, clock: { advance: (ms: number) => void }, fail?: string) => ({
    title,
    run: async () => {
      await Promise.resolve();
      clock.advance(ms);
      if (fail) throw new StepError(title, 'join as worker', fail);
    },
  });

  it('without a terminal: one timed plain line per event, no escape, secrets redacted', async () => {
    const clock = manualClock();
    const out: string[] = [];
    const err: string[] = [];
    const r = new PlainReporter(
      (l) => out.push(l),
      (l) => err.push(l),
      clock.now,
    );
    clock.advance(100);
    await r.tasks('create machines', [run('lab-manager-1', 800, clock), run('lab-worker-1', 400, clock)], {
      concurrent: false,
    });
    r.emit({ event: 'problem', host: 'lab-worker-9', message: 'left alone' });
    r.trace('lab-manager-1', '> POST /swarm/init');
    const failed = await r
      .tasks('join workers', [run('lab-worker-1', 300, clock, `refused ${token}`)], { concurrent: true })
      .catch((e: Error) => e);
    expect(failed).toBeInstanceOf(StepError);
    expect(out).toEqual([
      '   0.1s  create machines (2) ...',
      '   0.9s    ✓ lab-manager-1  0.8s',
      '   1.3s    ✓ lab-worker-1  0.4s',
      '   1.3s   ✓ create machines (2)  1.2s',
      '   1.3s  lab-manager-1 > POST /swarm/init',
      '   1.3s  join workers ...',
      '   1.6s    ✗ lab-worker-1: join as worker: refused SWMTKN-<redacted>',
      '   1.6s   ✗ join workers  0.3s',
    ]);
    expect(err).toEqual(['   1.3s  ! lab-worker-9: left alone']);
    expect(out.join('\n')).not.toContain(ESC);
  });

  it('on a terminal: the finished screen is one line per step (running tasks erased), failures kept', async () => {
    const clock = manualClock();
    let written = '';
    const r = new TerminalReporter(
      { color: false },
      { write: (t) => (written += t), columns: 100, rows: 30 },
      clock.now,
    );
    await r.tasks('create machines', [run('lab-manager-1', 800, clock), run('lab-worker-1', 1300, clock)], {
      concurrent: true,
    });
    r.info('docker context swarmup-lab created');
    r.emit({ event: 'log', host: 'lab-worker-2', message: `joining with ${token}` });
    await r
      .tasks(
        'join workers',
        [run('lab-worker-1', 200, clock), run('lab-worker-2', 500, clock, 'connection refused')],
        { concurrent: true },
      )
      .catch(() => undefined);
    expect(written).toContain('⠋ create machines (2)'); // the live region was drawn meanwhile
    expect(written).not.toMatch(SGR);
    expect(written).not.toContain('a'.repeat(50));
    expect(screenAfter(written)).toEqual([
      ' ✓ create machines (2)  2.1s',
      'docker context swarmup-lab created',
      '   lab-worker-2: joining with SWMTKN-<redacted>',
      ' ✗ join workers (2)  0.7s',
      '   ✗ lab-worker-2: join as worker: connection refused',
    ]);
  });

  it('on a terminal, a failure a nested step showed is not repeated by the step around it', async () => {
    let written = '';
    const r = new TerminalReporter(
      { color: false },
      { write: (t) => (written += t), columns: 100, rows: 30 },
    );
    const inner = () =>
      r.tasks(
        'read swarm facts',
        [{ title: 'n1', run: () => Promise.reject(new StepError('n1', 'read', 'gone')) }],
        {
          concurrent: true,
        },
      );
    await r
      .tasks('pre-flight', [{ title: 'facts', run: inner }], { concurrent: true })
      .catch(() => undefined);
    const screen = screenAfter(written);
    expect(screen.filter((l) => l.includes('n1: read: gone'))).toHaveLength(1);
    expect(screen.map((l) => l.replace(/\d+\.\ds/, 'T'))).toEqual([
      ' ✗ read swarm facts  T',
      '   ✗ n1: read: gone',
      ' ✗ pre-flight  T',
    ]);
  });

  it('--quiet: tasks run and failures are thrown, nothing is printed', async () => {
    const clock = manualClock();
    const r = new QuietReporter();
    const ran: string[] = [];
    const printed: string[] = [];
    // Both streams: "nothing is printed" is about stderr as much as stdout.
    const spies = (['stdout', 'stderr'] as const).map((stream) =>
      vi
        .spyOn(process[stream], 'write')
        .mockImplementation((t) => printed.push(`${stream}: ${String(t)}`) > 0),
    );
    r.info('docker context swarmup-lab created');
    r.emit({ event: 'log', message: 'creating' });
    r.trace('lab-manager-1', '$ docker info');
    const result = expect(
      r.tasks(
        'join workers',
        ['w1', 'w2'].map((t) => ({
          title: t,
          run: async () => {
            ran.push(t);
            clock.advance(1);
            if (t === 'w2') throw new StepError(t, 'join', 'refused');
          },
        })),
        { concurrent: true },
      ),
    ).rejects.toThrow('w2: join: refused');
    await result.finally(() => spies.forEach((s) => s.mockRestore()));
    expect(ran).toEqual(['w1', 'w2']);
    expect(printed).toEqual([]);
  });
});

describe('progress flags', () => {
  it('--quiet with --verbose is bad input: exit 2 naming both, nothing created', async () => {
    const home = tempHome('swarmup-progress-');
    const r = await swarmup(['up', '--quiet', '--verbose', '--name', 'flags'], { SWARMUP_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--quiet and --verbose: give one of them/);
    expect(readdirSync(home)).toEqual([]);
  });
});
