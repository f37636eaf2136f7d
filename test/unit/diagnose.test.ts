import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { diagnoseArchive, safePart } from '../../src/diagnose/archive.ts';
import { redactEngineData, redactText, secretName } from '../../src/redact.ts';

/** The diagnose archive: one folder per node, and no join token or unlock key in any file, whatever was read. */
describe('diagnose archive', () => {
  it('redacts SWMTKN- and SWMKEY- in every file, at the top and in node folders', async () => {
    const token = `SWMTKN-1-${'0fake'.repeat(10)}-${'0fake'.repeat(5)}`; /* obviously fake: the shape of a join token */
    const key = `SWMKEY-1-${'FakeKey0'.repeat(5)}`; /* obviously fake */
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-diag-'));
    const file = join(dir, 'd.tar.gz');
    writeFileSync(
      file,
      diagnoseArchive(
        {
          top: { 'summary.txt': `token ${token}\n` },
          nodes: {
            'lab-manager-1': {
              'engine.log': `join with ${token} and unlock with${key}\n`,
              'nodes.json': '[]\n',
            },
            'lab-worker-1': { 'docker-info.json': JSON.stringify({ JoinTokens: { Worker: token } }) },
          },
        },
        'swarmup-diagnose-lab',
      ),
    );
    const list = String((await execa('tar', ['-tzf', file])).stdout).split('\n');
    expect(list).toEqual([
      'swarmup-diagnose-lab/',
      'swarmup-diagnose-lab/summary.txt',
      'swarmup-diagnose-lab/lab-manager-1/',
      'swarmup-diagnose-lab/lab-manager-1/engine.log',
      'swarmup-diagnose-lab/lab-manager-1/nodes.json',
      'swarmup-diagnose-lab/lab-worker-1/',
      'swarmup-diagnose-lab/lab-worker-1/docker-info.json',
    ]);
    const text = String((await execa('tar', ['-xzOf', file])).stdout);
    expect(text).not.toMatch(/SWMTKN-1-[0-9a-z]/);
    expect(text).not.toMatch(/SWMKEY-1-[0-9A-Za-z]/);
    expect(text).toContain('join with SWMTKN-<redacted> and unlock withSWMKEY-<redacted>');
  });

  it('node names become one safe path part', () => {
    expect(safePart('../etc')).toBe('__etc');
    expect(safePart('lab-manager-1')).toBe('lab-manager-1');
    expect(safePart('')).toBe('_');
  });
});

describe('engine data redaction (every archive that carries engine data)', () => {
  const secret = () => `v${randomBytes(12).toString('hex')}`;

  it('a service: env values, log driver options, secret-shaped labels and args dropped; names kept', () => {
    const [pw, opt, label, arg, url] = [secret(), secret(), secret(), secret(), secret()];
    const service = {
      ID: 'abc',
      Spec: {
        Name: 'web',
        Labels: { 'db.password': label, tier: 'front' },
        TaskTemplate: {
          ContainerSpec: {
            Image: 'busybox',
            Env: [`PASSWORD=${pw}`, `PLAIN=${pw}`],
            Args: ['--password', arg, `--api-token=${arg}`, 'serve'],
            Secrets: [{ SecretName: 'db', SecretID: 'id1', File: { Name: 'db', UID: '0' } }],
          },
          LogDriver: { Name: 'awslogs', Options: { 'awslogs-region': opt, 'awslogs-secret-key': opt } },
        },
      },
      Endpoint: { Spec: {} },
      Proxy: `http://user:${url}@proxy:3128`,
    };
    const out = JSON.stringify(redactEngineData(service));
    for (const s of [pw, opt, label, arg, url]) expect(out).not.toContain(s);
    const back = JSON.parse(out);
    expect(back.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['PASSWORD=<redacted>', 'PLAIN=<redacted>']);
    expect(back.Spec.TaskTemplate.LogDriver).toEqual({
      Name: 'awslogs',
      Options: { 'awslogs-region': '<redacted>', 'awslogs-secret-key': '<redacted>' },
    });
    expect(back.Spec.TaskTemplate.ContainerSpec.Secrets).toEqual(
      service.Spec.TaskTemplate.ContainerSpec.Secrets,
    );
    expect(back.Spec.Labels.tier).toBe('front');
    expect(back.Spec.TaskTemplate.ContainerSpec.Args).toEqual([
      '--password',
      '<redacted>',
      '--api-token=<redacted>',
      'serve',
    ]);
  });

  it("secret and config data, a network's own options kept but a driver's dropped", () => {
    const d = secret();
    expect(redactEngineData({ Spec: { Name: 's', Data: Buffer.from(d).toString('base64') } })).toEqual({
      Spec: { Name: 's', Data: '<redacted>' },
    });
    expect(
      redactEngineData({
        Options: { 'com.docker.network.driver.mtu': '1450', 'plugin.password': d },
        IPAM: { Options: { foo: d } },
      }),
    ).toEqual({
      Options: { 'com.docker.network.driver.mtu': '1450', 'plugin.password': '<redacted>' },
      IPAM: { Options: { foo: '<redacted>' } },
    });
  });

  it('names: secret-shaped ones are told from names that only look alike', () => {
    for (const n of [
      'PASSWORD',
      'db_passwd',
      'API_KEY',
      'aws.key',
      'SigningCAKey',
      'awslogs-secret',
      'authToken',
    ])
      expect(secretName(n), n).toBe(true);
    for (const n of [
      'monkey',
      'keyboard',
      'SecretName',
      'SecretID',
      'PublicKey',
      'level',
      'AutoLockManagers',
    ])
      expect(secretName(n), n).toBe(false);
    expect(redactText('level=info password=hunter2 monkey=1 SWMTKN-1-abc')).toBe(
      'level=info password=<redacted> monkey=1 SWMTKN-<redacted>',
    );
  });

  it('the archive writes engine data only through the redaction', async () => {
    const pw = secret();
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-diag-'));
    const file = join(dir, 'd.tar.gz');
    writeFileSync(
      file,
      diagnoseArchive(
        { top: {}, nodes: { m1: { 'services.json': { json: [{ Spec: { Env: [`P=${pw}`] } }] } } } },
        'r',
      ),
    );
    const text = String((await execa('tar', ['-xzOf', file])).stdout);
    expect(text).not.toContain(pw);
    expect(JSON.parse(text)).toEqual([{ Spec: { Env: ['P=<redacted>'] } }]);
  });
});
