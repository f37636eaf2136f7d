import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swarmup, type CliResult } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';
import { Terminal } from '../support/terminal.ts';

/**
 * What a person sees while `up` runs, on one small docker cluster (1 manager + workers): plain timed lines without
 * a terminal, kind-like step lines in a real terminal (tmux), NO_COLOR, --verbose without secrets, --quiet.
 */
const { name: NAME, home, env } = clusterFixture('e2e-progress');
const terminals: Terminal[] = [];
const ESC = '\x1b';
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);
/** A progress line without a terminal: the time since the start, then the event. */
const TIMED = /^ *\d+\.\ds {2,}\S/;
const SECRET = /SWMTKN-|SWMKEY-/;

/** The lines before the node table: the progress. */
const progressOf = (r: CliResult) => r.stdout.split('\n\nNAME ')[0]!.split('\n');

/** A real terminal (live output wanted: not CI, a real TERM) running `swarmup ARGS --name NAME`. */
async function inTerminal(args: string, extra: Record<string, string> = {}) {
  const term = new Terminal(home, { ...env, CI: '', NO_COLOR: '', TERM: 'screen', ...extra });
  terminals.push(term);
  await term.start(`${args} --name ${NAME}`);
  const { code, screen } = await term.exit();
  return { code, screen, coloured: await term.screen({ escapes: true }) };
}

describe('progress output of up', () => {
  beforeAll(async () => {
    await swarmup(['down', '--yes', '--name', NAME], env);
  });
  afterAll(async () => {
    for (const t of terminals) await t.close();
    await swarmup(['down', '--yes', '--name', NAME], env);
  });

  it('without a terminal: one plain line per event, each with its time, no escape code', async () => {
    const r = await swarmup(['up', '--name', NAME, '--managers', '1', '--workers', '0'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(ESC);
    const lines = progressOf(r);
    for (const l of lines) expect(l).toMatch(TIMED);
    // A step: its start, then its end with the elapsed time (a one-task step has no task line).
    expect(lines).toContainEqual(expect.stringMatching(/^ *\d+\.\ds {2}create and start machines \.\.\.$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^ *\d+\.\ds {3}✓ create and start machines {2}\d+\.\ds$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/✓ initialise the swarm {2}\d+\.\ds$/));
    expect(r.stdout).toMatch(
      new RegExp(`${NAME}: 1 nodes, 1 managers, verified; \\d+ changes; ready after \\d+\\.\\d s$`),
    );
  });

  it('--verbose: the commands run on each host and the Engine API calls, and never a token or key', async () => {
    const r = await swarmup(['up', '--name', NAME, '--managers', '1', '--workers', '1', '--verbose'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(SECRET);
    expect(out).not.toContain(ESC);
    const worker = `${NAME}-worker-1`;
    const manager = `${NAME}-manager-1`;
    // A command line run over SSH, and the API calls that joined the worker and rotated the tokens.
    expect(out).toMatch(new RegExp(`^ *\\d+\\.\\ds {2}${worker} \\$ \\S`, 'm'));
    expect(out).toMatch(new RegExp(`^ *\\d+\\.\\ds {2}${worker} > POST /swarm/join$`, 'm'));
    expect(out).toMatch(new RegExp(`^ *\\d+\\.\\ds {2}${manager} > POST /swarm/update$`, 'm'));
    expect(out).toMatch(/✓ join workers {2}\d+\.\ds/);
  });

  it('in a terminal: one line per step with its elapsed time, then the table and "ready after"', async () => {
    const { code, screen, coloured } = await inTerminal('scale --workers 2');
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/^ ✓ create and start machines {2}\d+\.\ds$/m);
    expect(screen).toMatch(/^ ✓ join workers {2}\d+\.\ds$/m);
    expect(screen).toMatch(/^ ✓ rotate join tokens {2}\d+\.\ds$/m);
    // The running tasks were shown only while they ran: no spinner and no per-node line is left.
    expect(screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(screen).not.toMatch(/^ {3}✓ /m);
    expect(screen).toMatch(new RegExp(`${NAME}-worker-2 +worker +Ready`));
    expect(screen).toMatch(
      new RegExp(`${NAME}: 3 nodes, 1 managers, verified; \\d+ changes?; ready after \\d+\\.\\d s`),
    );
    expect(coloured).toMatch(SGR); // colour by default: the NO_COLOR check below means something
  });

  it('NO_COLOR=1 in a terminal: no colour code on the screen', async () => {
    const { code, screen, coloured } = await inTerminal('scale --workers 1', { NO_COLOR: '1' });
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/^ ✓ take nodes out one at a time( \(\d+\))? {2}\d+\.\ds$/m);
    expect(screen).toMatch(/^ ✓ remove their machines {2}\d+\.\ds$/m);
    expect(coloured).not.toMatch(SGR);
  });

  it('--quiet: only the result, the table and its line', async () => {
    const r = await swarmup(['up', '--name', NAME, '--quiet'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]).toMatch(/^NAME +ROLE +STATUS/);
    expect(lines.slice(1, -1)).toHaveLength(2);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^${NAME}: 2 nodes, 1 managers, verified; 0 changes; ready after`),
    );
  });
});
