import { X509Certificate } from 'node:crypto';
import type { HealthWarning } from './health-warning.ts';

/**
 * Certificate warnings of `swarmup status` (pure, over PEM text read from the nodes and the swarm).
 *
 * A node's certificate is read from the node itself (<DockerRootDir>/swarm/certificates/swarm-node.crt), not
 * computed from the swarm's CAConfig.NodeCertExpiry: that setting applies only to certificates issued after it was
 * set, and the API does not say when a node's certificate was issued (a node's UpdatedAt moves with every status
 * change). The file is what the node presents in every TLS handshake, so its NotBefore/NotAfter are the truth.
 * The CA certificate is the swarm's TLSInfo.TrustRoot (20 years by default).
 */

/** A node certificate with less than this part of its life left gets a warning (issue #19). */
export const NODE_CERT_WARN_FRACTION = 1 / 3;
/** The root CA gets a warning this long before it expires. */
export const CA_WARN_MS = 90 * 24 * 3600 * 1000;

export interface CertificatesInput {
  /** Each node's certificate (the first PEM block is the node's own; an intermediate may follow it). */
  nodes: Array<{ name: string; pem: string }>;
  /** The swarm's root CA certificate (TLSInfo.TrustRoot). */
  ca?: string;
  now: number;
}

const DAY_MS = 24 * 3600 * 1000;
const days = (ms: number) => Math.floor(ms / DAY_MS);

/** The first certificate of a PEM text (swarm-node.crt holds the node's certificate, then any intermediate). */
export function firstCertificate(pem: string): X509Certificate {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('no PEM certificate');
  return new X509Certificate(m[0]);
}

/** NotBefore and NotAfter (ms); undefined for a text that is no certificate (no warning then, either way). */
function lifetime(pem: string): { from: number; to: number } | undefined {
  try {
    const c = firstCertificate(pem);
    return { from: Date.parse(c.validFrom), to: Date.parse(c.validTo) };
  } catch {
    return undefined;
  }
}

function inDays(ms: number): string {
  return ms <= 0 ? `expired ${days(-ms)} days ago` : `expires in ${days(ms)} days`;
}

export function certificateWarnings(input: CertificatesInput): HealthWarning[] {
  const out: HealthWarning[] = [];
  for (const n of input.nodes) {
    const t = lifetime(n.pem);
    if (!t) continue;
    const { from, to } = t;
    const life = to - from;
    const left = to - input.now;
    if (left >= life * NODE_CERT_WARN_FRACTION) continue;
    out.push({
      check: 'certificate',
      node: n.name,
      message:
        `its swarm certificate ${inDays(left)} (${new Date(to).toISOString()}, less than a third of its ` +
        `${days(life)}-day life left): a node renews it only while it reaches a manager, and one whose ` +
        'certificate expired cannot rejoin; check that the node is up and reaches the managers (swarmup status)' +
        (left <= 0 ? ', else remove it and add it again (swarmup up)' : ''),
    });
  }
  if (input.ca) {
    const to = lifetime(input.ca)?.to;
    const left = to === undefined ? Infinity : to - input.now;
    if (to !== undefined && left < CA_WARN_MS)
      out.push({
        check: 'ca',
        message:
          `the swarm's root CA certificate ${inDays(left)} (${new Date(to).toISOString()}): ` +
          'no node can be trusted after that; rotate it now with "swarmup rotate-ca"',
      });
  }
  return out;
}
