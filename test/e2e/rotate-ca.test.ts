import { X509Certificate } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNode, summaryOf } from '../support/cli.ts';
import { clusterFixture } from '../support/cluster-fixture.ts';

/**
 * `swarmup rotate-ca` on real engines: one 3+2 cluster of node containers. A rotation with every node running
 * ends with every node trusting the new root; one with a worker's machine stopped (docker stop of its container)
 * names that worker as lagging (exit 1, with what to do), and `up`, which starts the machine, waits until it caught
 * up: every node then reports the new CA. What the nodes report is read inside a manager with the docker CLI, and
 * each node's own root certificate file with openssl: not through swarmup.
 */
const cluster = clusterFixture('e2e-ca');
const { run, node } = cluster;
const M1 = node('manager-1');
const NODES = ['manager-1', 'manager-2', 'manager-3', 'worker-1', 'worker-2'].map(node);
const W2 = node('worker-2');

/** sha256 of a PEM certificate's DER, as `openssl x509 -fingerprint -sha256` prints it (colons removed). */
const fingerprint = (pem: string) =>
  'sha256:' + new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

/** The swarm's root as a manager reports it, and whether a rotation runs. */
async function swarmCa(): Promise<{ fingerprint: string; rotating: boolean }> {
  const root = await inNode(M1, ['docker', 'swarm', 'ca']);
  const rotating = await inNode(M1, [
    'docker',
    'info',
    '--format',
    '{{.Swarm.Cluster.RootRotationInProgress}}',
  ]);
  return { fingerprint: fingerprint(root), rotating: rotating === 'true' };
}

/** The trust root every node reports in the node list (Description.TLSInfo.TrustRoot), by hostname. */
async function nodeTrustRoots(): Promise<Record<string, string>> {
  const ids = (await inNode(M1, ['docker', 'node', 'ls', '-q'])).split('\n');
  const out = await inNode(M1, ['docker', 'node', 'inspect', ...ids, '--format', '{{json .Description}}']);
  return Object.fromEntries(
    out.split('\n').map((l) => {
      const d = JSON.parse(l) as { Hostname: string; TLSInfo: { TrustRoot: string } };
      return [d.Hostname, fingerprint(d.TLSInfo.TrustRoot)];
    }),
  );
}

/** Each node's own root certificate file (what it verifies managers with), by openssl inside the node. */
async function rootFiles(): Promise<string[]> {
  return Promise.all(
    NODES.map(async (n) => {
      const f = await inNode(n, [
        'openssl',
        'x509',
        '-in',
        '/var/lib/docker/swarm/certificates/swarm-root-ca.crt',
        '-noout',
        '-fingerprint',
        '-sha256',
      ]);
      return 'sha256:' + f.replace(/^.*=/, '').replaceAll(':', '').toLowerCase();
    }),
  );
}

const printed = (stdout: string) => /new root CA: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];

describe('rotate-ca on a 3+2 swarm of node containers', () => {
  beforeAll(async () => {
    const up = await run('up', '--json');
    expect(up.code, up.stderr).toBe(0);
  });
  afterAll(async () => {
    await run('down', '--yes');
  });

  it('without --yes and without a terminal: exit 2, no rotation', async () => {
    const before = await swarmCa();
    const r = await run('rotate-ca');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rotate the root CA .*pass --yes/);
    expect(await swarmCa()).toEqual(before);
  });

  it('every node running: the new CA fingerprint is printed, and every node reports it when the command returns', async () => {
    const before = await swarmCa();
    const r = await run('rotate-ca', '--yes');
    expect(r.code, r.stderr).toBe(0);
    const fp = printed(r.stdout);
    expect(fp).toBeDefined();
    expect(fp).not.toBe(before.fingerprint);
    expect(await swarmCa()).toEqual({ fingerprint: fp, rotating: false });
    expect(Object.values(await nodeTrustRoots())).toEqual(NODES.map(() => fp));
    expect(await rootFiles()).toEqual(NODES.map(() => fp));
  });

  it('a worker stopped during the rotation is named as lagging (exit 1); up starts it and waits until it caught up', async () => {
    const before = await swarmCa();
    await execa('docker', ['stop', '-t', '5', W2]);
    const r = await run('rotate-ca', '--yes', '--wait', '15');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('the root CA rotation is not finished after 15 s');
    expect(r.stderr).toMatch(new RegExp(`${W2} \\((down|ready|unknown)\\) has no certificate of the new CA`));
    expect(r.stderr).toContain('swarmup up');
    expect(r.stderr).not.toMatch(new RegExp(`${node('worker-1')} \\(`));
    expect(printed(r.stdout)).toBeUndefined();
    // The swarm keeps the rotation open for the stopped node: the old root is still the trust root.
    expect(await swarmCa()).toEqual({ fingerprint: before.fingerprint, rotating: true });
    // Run again meanwhile: it waits for the rotation under way instead of starting another one.
    const forceRotate = () =>
      inNode(M1, ['docker', 'info', '--format', '{{.Swarm.Cluster.Spec.CAConfig.ForceRotate}}']);
    const sent = await forceRotate();
    const again = await run('rotate-ca', '--yes', '--wait', '2');
    expect(again.code, again.stderr).toBe(1);
    expect(again.stdout).toContain('a root CA rotation is already under way');
    expect(await forceRotate()).toBe(sent);
    // status names it too (and says the machine is stopped).
    const status = await run('status', '--json');
    const seen = JSON.parse(status.stdout) as {
      warnings: Array<{ check: string; node?: string; message: string }>;
    };
    expect(seen.warnings).toContainEqual(
      expect.objectContaining({ check: 'ca', node: W2, message: expect.stringMatching(/new root CA/) }),
    );

    const up = await run('up', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(summaryOf(up).ok).toBe(true);
    expect(up.events).toContainEqual(
      expect.objectContaining({ event: 'action', kind: 'start-machine', host: W2 }),
    );
    // When up returns, every node (the restarted worker too) reports the new CA.
    const after = await swarmCa();
    expect(after.rotating).toBe(false);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(Object.values(await nodeTrustRoots())).toEqual(NODES.map(() => after.fingerprint));
    expect(await rootFiles()).toEqual(NODES.map(() => after.fingerprint));
    const told = up.events.filter((e) => e.event === 'log').map((e) => String(e.message));
    expect(told).toContain(`every node has the new root CA ${after.fingerprint}`);
  });

  it('status reads every node certificate (as root, over SSH) and the root: none near its end, no certificate warning', async () => {
    const r = await run('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    const warnings = (JSON.parse(r.stdout) as { warnings: Array<{ check: string }> }).warnings;
    expect(warnings.filter((w) => w.check === 'certificate' || w.check === 'ca')).toEqual([]);
  });
});
