import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { common, configToRead, managersOption, normalise, workersOption } from '../../src/cli/options.ts';
import { parseConfig } from '../../src/config/load.ts';
import { regionFromEnv } from '../../src/providers/ec2/aws.ts';
import { swarmup, tempHome } from '../support/cli.ts';

/** What `up` would resolve from these flags, this environment and this config file text (no I/O but the parse). */
function resolved(argv: string[], env: Record<string, string>, fileText?: string) {
  const cmd = common(new Command('up'))
    .addOption(managersOption('managers'))
    .addOption(workersOption('workers'))
    .exitOverride();
  // commander reads the variables from process.env while it parses.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    cmd.parse(argv, { from: 'user' });
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const opts = normalise(cmd.opts(), (f) => f === 'swarmup.yaml' && fileText !== undefined);
  const file = opts.config && fileText !== undefined ? parseConfig(fileText, opts.config) : undefined;
  return { opts, spec: resolveCluster(file, opts, opts.config) };
}

describe('flag > SWARMUP_* variable > config file > default', () => {
  const file = 'name: fromfile\nprovider: docker\nmanagers: 1\nworkers: 1\n';

  it('the defaults, with nothing given', () => {
    const { spec } = resolved([], {});
    expect([spec.name, spec.provider, spec.managers, spec.workers]).toEqual(['local', 'docker', 3, 2]);
  });

  it('./swarmup.yaml over the defaults, when nothing names a file', () => {
    const { spec, opts } = resolved([], {}, file);
    expect(opts).toMatchObject({ config: 'swarmup.yaml', configFound: true });
    expect([spec.name, spec.managers, spec.workers]).toEqual(['fromfile', 1, 1]);
  });

  it('the variables over the file', () => {
    const env = { SWARMUP_NAME: 'fromenv', SWARMUP_MANAGERS: '3', SWARMUP_WORKERS: '0' };
    const { spec } = resolved([], env, file);
    expect([spec.name, spec.managers, spec.workers]).toEqual(['fromenv', 3, 0]);
  });

  it('the flags over the variables', () => {
    const env = { SWARMUP_NAME: 'fromenv', SWARMUP_MANAGERS: '3', SWARMUP_WORKERS: '0' };
    const { spec } = resolved(['--name', 'fromflag', '--managers', '5', '--workers', '4'], env, file);
    expect([spec.name, spec.managers, spec.workers]).toEqual(['fromflag', 5, 4]);
  });

  it('SWARMUP_PROVIDER over the file, --provider over it (and its choices hold for the variable too)', () => {
    const ssh = resolved([], { SWARMUP_PROVIDER: 'multipass' }, file).spec;
    expect(ssh.provider).toBe('multipass');
    expect(resolved(['--provider', 'docker'], { SWARMUP_PROVIDER: 'multipass' }).spec.provider).toBe(
      'docker',
    );
    expect(() => resolved([], { SWARMUP_PROVIDER: 'gcp' })).toThrow(
      /SWARMUP_PROVIDER.*gcp|gcp.*SWARMUP_PROVIDER/,
    );
  });

  it('SWARMUP_CONFIG names the file (./swarmup.yaml is then not read); --config wins over it', () => {
    expect(resolved([], { SWARMUP_CONFIG: 'lab.yaml' }, file).opts).toMatchObject({ config: 'lab.yaml' });
    expect(resolved([], { SWARMUP_CONFIG: 'lab.yaml' }, file).opts.configFound).toBeUndefined();
    expect(resolved(['-c', 'x.yaml'], { SWARMUP_CONFIG: 'lab.yaml' }, file).opts.config).toBe('x.yaml');
    expect(resolved(['--no-config'], {}, file).opts.config).toBeUndefined();
  });

  it('configToRead: named, absent, found, refused', () => {
    expect(configToRead('a.yaml', () => true)).toEqual({ config: 'a.yaml' });
    expect(configToRead(undefined, () => false)).toEqual({});
    expect(configToRead(undefined, () => true)).toEqual({ config: 'swarmup.yaml', found: true });
    expect(configToRead(false, () => true)).toEqual({});
  });
});

describe('the AWS region as the AWS CLI reads the environment', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' }, 'eu-west-1'],
    [{ AWS_DEFAULT_REGION: 'us-east-1' }, 'us-east-1'],
    [{ AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1' }, 'us-east-1'],
    [{}, undefined],
  ])('%j: %s', (env, region) => {
    expect(regionFromEnv(env)).toBe(region);
  });
});

describe('through the command line', () => {
  const home = tempHome();
  const env = { SWARMUP_HOME: join(home, 'state') };

  it('--help names each variable', async () => {
    const r = await swarmup(['up', '--help'], env);
    for (const v of [
      'SWARMUP_NAME',
      'SWARMUP_PROVIDER',
      'SWARMUP_CONFIG',
      'SWARMUP_MANAGERS',
      'SWARMUP_WORKERS',
    ])
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(`env: ${v})`);
  });

  it.each([
    // The message names the variable the value came from: the flag was never typed.
    [{ SWARMUP_MANAGERS: '4' }, /^swarmup: SWARMUP_MANAGERS: managers must be 1, 3, 5 or 7, not 4/],
    [{ SWARMUP_WORKERS: 'many' }, /^swarmup: SWARMUP_WORKERS: expected a whole number, got "many"/],
    [{ SWARMUP_NAME: 'Not_Valid' }, /^swarmup: SWARMUP_NAME: "Not_Valid"/],
    [{ SWARMUP_PROVIDER: 'ssh' }, /provider ssh needs a config file with hosts/],
    [{ SWARMUP_CONFIG: '/nonexistent/lab.yaml' }, /\/nonexistent\/lab\.yaml: cannot read config file/],
  ])('plan with %j is read as its flag (exit 2 here, nothing made)', async (vars, message) => {
    const r = await swarmup(['plan'], { ...env, ...vars });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('./swarmup.yaml of the current folder is read when no config is named, and said so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-cwd-'));
    writeFileSync(join(dir, 'swarmup.yaml'), 'name: lab\nprovider: docker\nmanagers: 4\n');
    const r = await swarmup(['plan'], env, dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('swarmup: reading ./swarmup.yaml (found in this folder');
    expect(r.stderr).toContain('swarmup.yaml: managers: managers must be 1, 3, 5 or 7, not 4');
    // A flag names another file: that one is read, and nothing is said of ./swarmup.yaml.
    writeFileSync(join(dir, 'other.yaml'), 'name: lab\nprovider: docker\nworkers: many\n');
    const other = await swarmup(['plan', '-c', 'other.yaml'], env, dir);
    expect(other.code).toBe(2);
    expect(other.stderr).not.toContain('reading ./swarmup.yaml');
    expect(other.stderr).toContain('other.yaml');
  });
});
