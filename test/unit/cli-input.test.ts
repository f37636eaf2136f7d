import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { swarmup, tempHome } from '../support/cli.ts';

/** Bad input through the real binary: exit code 2, a message naming the field, and no change anywhere. */
describe('command line: bad input', () => {
  const home = tempHome();
  const state = join(home, 'state');
  const env = { SWARMUP_HOME: state };

  it.each([
    [
      ['up', '--managers', '4'],
      /--managers: managers must be 1, 3, 5 or 7, not 4: Swarm's raft needs a majority/,
    ],
    [['up', '--managers', '9', '--workers', '1'], /--managers: managers must be 1, 3, 5 or 7, not 9/],
    [['up', '--workers', 'many'], /--workers: expected a whole number, got "many"/],
    // The limit says why (src/config/policy.ts, MAX_WORKERS): what was tested, and what Swarm itself has run.
    [
      ['up', '--provider', 'ec2', '--workers', '1001'],
      /--workers: at most 1000: the count swarmup was tested at/,
    ],
    [['up', '--name', 'Not_Valid'], /--name: "Not_Valid"/],
    [['up', '--until', 'later'], /--until: "later" is not a stage/],
    [['up', '--provider', 'gcp'], /--provider.*gcp/],
    [['up', '--config', '/nonexistent/lab.yaml'], /\/nonexistent\/lab\.yaml: cannot read config file/],
    [['up', '--timeout', 'soon'], /--timeout: expected whole seconds from 1 to 3600, got "soon"/],
    [['scale', '--managers', 'three'], /--managers: expected a whole number, got "three"/],
    // --detailed-exitcode keeps 2 for bad input (4 is changes pending).
    [['plan', '--detailed-exitcode', '--managers', '4'], /--managers: managers must be 1, 3, 5 or 7, not 4/],
  ])('swarmup %j exits 2', async (args, message) => {
    const r = await swarmup(args as string[], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(existsSync(state)).toBe(false);
  });

  it('a config file with an unknown key names the file and the line', async () => {
    const file = join(home, 'lab.yaml');
    writeFileSync(
      file,
      'name: lab\nprovider: ssh\nhosts:\n  - name: a\n    address: 127.0.0.1\n    rolle: manager\n',
    );
    const r = await swarmup(['up', '--config', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:6: hosts[0].rolle`);
    expect(existsSync(state)).toBe(false);
  });

  it.each([
    [
      'malformed YAML, with the line',
      'name: lab\nprovider: docker\nmanagers: [3\n',
      /lab\.yaml:4: not valid YAML/,
    ],
    [
      'more workers than the tested limit',
      'name: lab\nprovider: docker\nmanagers: 3\nworkers: 1001\n',
      /lab\.yaml:4: workers: at most 1000: the count swarmup was tested at .*Swarm2k: 2,384 nodes under 3 managers/,
    ],
    [
      'more managers than nodes',
      'name: lab\nprovider: ssh\nmanagers: 3\nhosts:\n  - name: a\n    address: 127.0.0.1\n',
      /lab\.yaml: managers: managers is 3, more than the 1 node there is/,
    ],
    [
      'a private key file that is not there',
      'name: lab\nprovider: ssh\nhosts:\n  - name: a\n    address: 127.0.0.1\n    privateKey: /nonexistent/id_ed25519\n',
      /lab\.yaml: host a: private key \/nonexistent\/id_ed25519: no such file/,
    ],
  ])('a config file with %s: exit 2, named, nothing changed', async (_what, text, message) => {
    const file = join(home, 'lab.yaml');
    writeFileSync(file, text);
    const r = await swarmup(['up', '--config', file], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(state)).toBe(false);
  });

  it.each([
    [
      'hosts.ini',
      '[managers]\nnode0 ansible_host=127.0.0.1\nnode1 ansible_host=127.0.0.1 ansible_port=70000\n',
      'hosts.ini:3: ansible_port=70000: a port number from 1 to 65535',
    ],
    [
      'hosts.yml',
      'all:\n  children:\n    managers:\n      hosts:\n        node[1:x]:\n',
      'hosts.yml:5: "node[1:x]": a range is numbers',
    ],
  ])(
    'an Ansible inventory %s with a bad line: exit 2 naming file:line, nothing changed',
    async (name, text, message) => {
      const file = join(home, name);
      writeFileSync(file, text);
      for (const command of ['up', 'plan']) {
        const r = await swarmup([command, '--inventory', file], env);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`${home}/${message}`);
      }
      expect(existsSync(state)).toBe(false);
    },
  );

  it('down without --yes and without a terminal refuses', async () => {
    const r = await swarmup(['down', '--name', 'nothing-here'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --yes');
  });
});
