import { describe, expect, it } from 'vitest';
import { planEngine } from '../../src/engine/install-plan.ts';
import { listenerCommand, proberScript } from '../../src/engine/port-probe.ts';
import { facts, osRelease } from '../support/engine-facts.ts';

/**
 * Every value a command builder puts into a remote shell script is quoted: builders are given a hostile value and
 * the script is scanned, the way a shell reads it, for any place where that value stands outside single quotes
 * (where `$(...)`, `;` or a space in it would be the shell's). Validation refuses such values before they get here;
 * this is the second line.
 */
const HOSTILE = "x$(touch /tmp/swarmup-pwned);'y `id` z";

/** Start offsets of `needle` that a POSIX shell would read outside single quotes. */
function unquoted(script: string, needle: string): number[] {
  const out: number[] = [];
  let state: 'none' | 'single' | 'double' = 'none';
  for (let i = 0; i < script.length; i++) {
    if (state !== 'single' && script.startsWith(needle, i)) out.push(i);
    const c = script[i];
    if (state === 'single') {
      if (c === "'") state = 'none';
    } else if (c === '\\') {
      i++; // the next character is taken literally (in double quotes, for the ones it escapes)
    } else if (state === 'double') {
      if (c === '"') state = 'none';
    } else if (c === "'") state = 'single';
    else if (c === '"') state = 'double';
  }
  return out;
}

/** The hostile value's own first character marks it: look for its start, "x$(touch". */
const mark = 'x$(touch';

/** A non-root user with passwordless sudo: every install step goes through sudo. */
const user = { uid: 1000, user: 'deploy', sudo: 'nopasswd' as const };

describe('command builders quote every value they are given', () => {
  it('the scanner itself: finds an unquoted value, and not a single-quoted one', () => {
    expect(unquoted(`echo ${HOSTILE}`, mark)).toEqual([5]);
    expect(unquoted(`echo "${HOSTILE}"`, mark)).toEqual([6]);
    expect(unquoted(`echo 'x$(touch /tmp/a)'`, mark)).toEqual([]);
  });

  it('port probe: the listener and the prober take advertise addresses', () => {
    expect(unquoted(listenerCommand(HOSTILE, 5, ['tcp:2377', 'udp:4789']), mark)).toEqual([]);
    expect(unquoted(proberScript([{ addr: HOSTILE, specs: ['tcp:2377', 'udp:7946'] }]), mark)).toEqual([]);
  });

  it('engine install: every source and OS family takes the version pin', () => {
    for (const [os, source] of [
      [osRelease.debian12, 'docker-ce'],
      [osRelease.debian12, 'distro'],
      [osRelease.debian12, 'script'],
      [osRelease.rocky9, 'docker-ce'],
    ] as const) {
      const plan = planEngine(facts(user, os), { source, version: HOSTILE });
      expect(plan.steps.length, `${source}: ${plan.problem ?? ''}`).toBeGreaterThan(0);
      for (const step of plan.steps)
        expect(unquoted(step.script, mark), `${source}: ${step.title}`).toEqual([]);
    }
  });
});
