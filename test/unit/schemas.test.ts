// The JSON Schemas `swarmup schema` prints, generated from the zod schemas, checked as a user's tooling reads them:
// with an off-the-shelf JSON Schema validator (ajv), not with zod. The shipped files (schema/) are the same bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { schemaPath } from '../../scripts/docs-schemas.ts';
import { renderJsonSchema, shippedSchemas } from '../../src/cli/schemas.ts';
import { packageVersion } from '../../src/cli/version.ts';
import type { ConfigFile } from '../../src/config/schema.ts';
import { describeAction } from '../../src/swarm/actions.ts';
import { renderConfig } from '../../src/wizard/render.ts';
import { swarmup, tempHome } from '../support/cli.ts';

const env = { SWARMUP_HOME: join(tempHome(), 'state') };

/** A validator of `swarmup schema KIND` as the command prints it (the real binary). */
async function validatorOf(kind: string) {
  const r = await swarmup(['schema', kind], env);
  expect(r.code, r.stderr).toBe(0);
  const validate = new Ajv({ allErrors: true }).compile(JSON.parse(r.stdout) as object);
  return (value: unknown) => (validate(value) ? 'valid' : JSON.stringify(validate.errors));
}

describe('swarmup schema config', () => {
  it('validates the repository inventories and the files the wizard writes; refuses unknown keys and bad values', async () => {
    const valid = await validatorOf('config');
    const dir = resolve(import.meta.dirname, '../../inventories');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(valid(parse(readFileSync(join(dir, f), 'utf8'))), f).toBe('valid');

    const written: ConfigFile[] = [
      { name: 'local', provider: 'docker', managers: 3, workers: 2, docker: { engineSuite: 'sid' } },
      {
        name: 'lab',
        provider: 'ssh',
        managers: 1,
        ssh: { user: 'root', port: 22, privateKey: '~/.ssh/id_ed25519' },
        hosts: [{ name: 'node-1', address: '192.168.1.130', role: 'manager' }],
        engine: { source: 'script', version: '27.3' },
        swarm: { autolock: true, defaultAddrPool: ['10.20.0.0/16'], subnetSize: 24 },
      },
      {
        name: 'aws-lab',
        provider: 'ec2',
        managers: 5,
        workers: 0,
        ec2: { region: 'eu-west-1', instanceType: 't3.small', sshCidr: ['203.0.113.7/32'] },
      },
      { name: 'vms', provider: 'multipass', multipass: { cpus: 2, memory: '2G' } },
    ];
    for (const config of written) {
      const text = renderConfig(config, 'swarmup.yaml');
      expect(valid(parse(text)), config.name).toBe('valid');
    }

    expect(
      valid({ name: 'lab', provider: 'ssh', hosts: [{ name: 'a', address: 'h', rolle: 'manager' }] }),
    ).toMatch(/additionalProperties.*rolle/);
    expect(valid({ provider: 'gcp' })).toMatch(/enum/);
    expect(valid({ name: 'Not_Valid' })).toMatch(/pattern/);
    expect(valid({ workers: 1000 })).toBe('valid');
    expect(valid({ workers: 1001 })).toMatch(/maximum/);
  });

  it('describes each top-level key for editors, as the wizard comments it', async () => {
    const r = await swarmup(['schema', 'config'], env);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, { description?: string }> };
    for (const [key, property] of Object.entries(schema.properties))
      expect(property.description, key).toMatch(/\w/);
    expect(schema.properties.managers!.description).toContain('3 tolerate the loss of 1');
  });

  it('the wizard names the schema of this version for editors, in the YAML language server line', () => {
    const text = renderConfig({ name: 'local', provider: 'docker' }, 'swarmup.yaml');
    expect(text.split('\n')[0]).toBe(
      `# yaml-language-server: $schema=https://unpkg.com/swarmup@${packageVersion()}/schema/config.schema.json`,
    );
  });
});

describe('swarmup schema events', () => {
  it('validates the lines up --json prints, error hints included; refuses a field too many or a wrong type', async () => {
    const valid = await validatorOf('events');
    const join = { kind: 'join', host: 'n2', role: 'worker' } as const;
    expect(valid({ event: 'action', status: 'ok', ...join, description: describeAction(join) })).toBe(
      'valid',
    );
    expect(
      valid({ event: 'error', message: 'n1: ssh: refused', exitCode: 1, hint: 'is sshd running?' }),
    ).toBe('valid');
    expect(valid({ event: 'step', step: 'engine', status: 'start', hosts: ['n1'] })).toBe('valid');
    expect(
      valid({
        event: 'removal',
        cluster: 'lab',
        location: 'x',
        createsMachines: true,
        resources: [],
        leaving: [],
      }),
    ).toBe('valid');
    expect(valid({ event: 'action', status: 'ok', ...join })).not.toBe('valid');
    expect(valid({ event: 'step', step: 'engine', status: 'start', extra: 1 })).not.toBe('valid');
    expect(valid({ event: 'summary', changes: -1, durationMs: 1, nodes: [], ok: true })).not.toBe('valid');
  });
});

describe('schema/*.schema.json (shipped in the package)', () => {
  it.each(shippedSchemas)('%s is what `npm run docs` generates (swarmup schema prints the same)', (kind) => {
    if (readFileSync(schemaPath(kind), 'utf8') !== renderJsonSchema(kind))
      expect.fail(`schema/${kind}.schema.json is stale: run npm run docs (generated from the zod schemas)`);
  });
});
