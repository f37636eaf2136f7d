import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { completionScript, describeProgram } from '../../src/cli/completion.ts';
import { buildProgram } from '../../src/cli/main.ts';

/**
 * The bash completion run by a real bash over data someone else may have named: a state home folder and a recorded
 * node whose names are command substitutions. TAB must offer the names, quoted, and run nothing.
 */
const BIN = resolve(import.meta.dirname, '../../bin/swarmup.mjs');

describe('bash completion never expands a name', () => {
  it('a cluster folder and a node named $(touch ...): no command runs, the literal names are offered', async () => {
    const work = mkdtempSync(join(tmpdir(), 'swarmup-compl-q-'));
    const home = join(work, 'home');
    const folder = '$(touch pwned-cluster)';
    const node = '$(touch pwned-node)';
    for (const [dir, state] of [
      [folder, {}],
      ['inv', { name: 'inv', provider: 'ssh', managers: 1, hosts: [{ name: node }, { name: 'node1' }] }],
    ] as const) {
      mkdirSync(join(home, dir), { recursive: true });
      writeFileSync(join(home, dir, 'state.json'), JSON.stringify(state));
    }
    // `swarmup complete-nodes` as the completion calls it: the real command line, found on PATH.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'swarmup'), `#!/bin/sh\nexec node ${BIN} "$@"\n`);
    chmodSync(join(bin, 'swarmup'), 0o755);

    const spec = describeProgram(buildProgram(() => undefined));
    // As bash calls it on TAB: COMP_WORDS/COMP_CWORD set, the function called; each candidate on a line, then what
    // bash makes of it as a word of the command line.
    const script = `${completionScript('bash', spec)}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _swarmup
  local c; for c in "\${COMPREPLY[@]}"; do eval "set -- $c"; printf '%s => %s\\n' "$c" "$1"; done; echo --; }
t swarmup status --name ''
t swarmup status --name '$'
t swarmup ssh --name inv ''
t swarmup ssh --name inv '$(t'
`;
    const r = await execa('bash', ['-c', script], {
      cwd: work,
      env: { SWARMUP_HOME: home, PATH: `${bin}:${process.env.PATH!}`, HOME: work },
    });
    expect(existsSync(join(work, 'pwned-cluster'))).toBe(false);
    expect(existsSync(join(work, 'pwned-node'))).toBe(false);
    expect(String(r.stdout).split('\n')).toEqual([
      `\\$\\(touch\\ pwned-cluster\\) => ${folder}`,
      'inv => inv',
      '--',
      `\\$\\(touch\\ pwned-cluster\\) => ${folder}`,
      '--',
      ...['--name', '--config', '-c', '--tty', '-t'].map((f) => `${f} => ${f}`),
      `\\$\\(touch\\ pwned-node\\) => ${node}`,
      'node1 => node1',
      '--',
      `\\$\\(touch\\ pwned-node\\) => ${node}`,
      '--',
    ]);
  });
});
