import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  caFingerprint,
  caLagWarnings,
  caProgress,
  describeProgress,
  parseCaState,
} from '../../src/swarm/ca.ts';
import {
  CA_WARN_MS,
  certificateWarnings,
  firstCertificate,
  NODE_CERT_WARN_FRACTION,
} from '../../src/swarm/cert-expiry.ts';

/**
 * Root CA rotation and certificate expiry over what a real engine answered (test/fixtures/ca/rotation.json:
 * Docker 20.10, a 1+1 swarm of node containers, before, during and after `docker swarm ca --rotate` while the
 * worker's container was stopped). Times are moved, the certificates never.
 */
interface Snapshot {
  swarm: { TLSInfo: { TrustRoot: string } };
  nodes: unknown[];
  certificates?: Record<string, string>;
}
const fx = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/ca/rotation.json'), 'utf8'),
) as Record<'before' | 'during' | 'after', Snapshot>;
const state = (s: Snapshot) => parseCaState(s.swarm, s.nodes);
const DAY = 24 * 3600 * 1000;

describe('root CA rotation progress', () => {
  it('before a rotation every node has the current CA: converged', () => {
    const p = caProgress(state(fx.before));
    expect(p).toEqual({ converged: true, total: 2, certificates: 2, lagging: [] });
  });

  it('during it, the stopped worker still has the old CA: named as lagging, not converged', () => {
    const s = state(fx.during);
    expect(s.rotating).toBe(true);
    expect(s.forceRotate).toBe(1);
    const p = caProgress(s);
    expect(p.converged).toBe(false);
    expect(p.certificates).toBe(1);
    expect(p.lagging).toEqual([
      expect.objectContaining({ hostname: 'dexp-worker-1', state: 'down', lags: 'certificate' }),
    ]);
    expect(describeProgress(p, (_id, h) => h)).toBe(
      '1/2 nodes have a certificate of the new CA; waiting for dexp-worker-1 (down)',
    );
  });

  it('the new CA is not the swarm trust root while the rotation runs; after it, every node trusts it', () => {
    expect(fx.during.swarm.TLSInfo.TrustRoot).toBe(fx.before.swarm.TLSInfo.TrustRoot);
    expect(fx.after.swarm.TLSInfo.TrustRoot).not.toBe(fx.before.swarm.TLSInfo.TrustRoot);
    expect(caProgress(state(fx.after))).toMatchObject({ converged: true, certificates: 2, lagging: [] });
  });

  it('a node with the new certificate but the old trust root lags on its trust root', () => {
    // The "after" swarm with the worker's TLS info of "during" for the manager (new issuer, old root).
    const s = state(fx.after);
    const during = state(fx.during);
    s.nodes[0]!.tls = during.nodes.find((n) => n.hostname === 'dexp-manager-1')!.tls;
    const p = caProgress(s);
    expect(p.converged).toBe(false);
    expect(p.lagging).toEqual([expect.objectContaining({ lags: 'trust root' })]);
  });

  it('status names the node that lags during a rotation, and says nothing before or after it', () => {
    const name = (_id: string, h: string) => h.replace('dexp-', '');
    expect(caLagWarnings(state(fx.before), name)).toEqual([]);
    expect(caLagWarnings(state(fx.after), name)).toEqual([]);
    const [w, ...more] = caLagWarnings(state(fx.during), name);
    expect(more).toEqual([]);
    expect(w).toMatchObject({ check: 'ca', node: 'worker-1' });
    expect(w!.message).toMatch(
      /no certificate of the swarm's new root CA yet \(down; a root CA rotation is under way\)/,
    );
  });

  it('the fingerprint is sha256 of the root certificate DER (what openssl x509 -fingerprint -sha256 prints)', () => {
    const pem = fx.after.swarm.TLSInfo.TrustRoot;
    expect(caFingerprint(pem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caFingerprint(pem)).toBe(
      'sha256:' + firstCertificate(pem).fingerprint256.replaceAll(':', '').toLowerCase(),
    );
    expect(caFingerprint(pem)).not.toBe(caFingerprint(fx.before.swarm.TLSInfo.TrustRoot));
  });
});

describe('certificate expiry warnings (status)', () => {
  const nodeCert = fx.after.certificates!['dexp-worker-1']!;
  const leaf = firstCertificate(nodeCert);
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  const life = to - from;
  const nodes = [{ name: 'worker-1', pem: nodeCert }];

  it('the node certificate file holds the node certificate first, then the intermediate of the rotation', () => {
    expect(nodeCert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(leaf.subject).toContain('OU=swarm-worker');
    expect(Math.round(life / DAY)).toBe(90);
  });

  it('no warning while more than a third of the life is left', () => {
    const now = to - life * NODE_CERT_WARN_FRACTION - 60_000;
    expect(certificateWarnings({ nodes, now })).toEqual([]);
  });

  it('a warning naming the node when less than a third is left, and when it expired', () => {
    const now = to - life * NODE_CERT_WARN_FRACTION + 60_000;
    const [w] = certificateWarnings({ nodes, now });
    expect(w).toMatchObject({ check: 'certificate', node: 'worker-1' });
    expect(w!.message).toMatch(/expires in 30 days .*less than a third of its 90-day life left/);
    const [gone] = certificateWarnings({ nodes, now: to + 2 * DAY });
    expect(gone!.message).toMatch(/expired 2 days ago.*cannot rejoin.*swarmup up/);
  });

  it('the CA warns within 90 days of its end (20 years after the swarm was made), not before', () => {
    const ca = fx.after.swarm.TLSInfo.TrustRoot;
    const end = Date.parse(firstCertificate(ca).validTo);
    expect(Math.round((end - Date.parse(firstCertificate(ca).validFrom)) / (365 * DAY))).toBe(20);
    expect(certificateWarnings({ nodes: [], ca, now: end - CA_WARN_MS - DAY })).toEqual([]);
    const [w] = certificateWarnings({ nodes: [], ca, now: end - 10 * DAY });
    expect(w).toMatchObject({ check: 'ca' });
    expect(w!.message).toMatch(/root CA certificate expires in 10 days.*swarmup rotate-ca/);
    expect(certificateWarnings({ nodes: [], ca, now: from })).toEqual([]);
  });
});
