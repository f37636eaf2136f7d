import { X509Certificate } from 'node:crypto';

/**
 * The swarm's root CA as the Engine API shows it, and how far a root rotation (`docker swarm ca --rotate`) has got.
 * Pure: parsed from GET /swarm and GET /nodes answers.
 *
 * What a real engine shows (Docker 20.10, test/fixtures/ca/): while a rotation runs, the swarm's TLSInfo already
 * names the new issuer (CertIssuerPublicKey) but its TrustRoot is still the old root; a node whose certificate the
 * new CA issued reports the new issuer. Once every node has such a certificate (a node that is down counts: swarmkit
 * waits for it), RootRotationInProgress turns false, TrustRoot becomes the new root, and the nodes report it as
 * their trust root. That is also when the docker CLI's `swarm ca --rotate` says it converged.
 */

/** TLSInfo of the swarm or of one node: the trusted root (PEM) and the issuer of the node certificates. */
export interface TlsInfo {
  trustRoot: string;
  /** Base64 of the issuer's subject (DER). */
  issuerSubject: string;
  /** Base64 of the issuer's public key (DER). */
  issuerPublicKey: string;
}

export interface CaState {
  swarm: TlsInfo;
  rotating: boolean;
  /** ForceRotate of the swarm's CAConfig: a rotation without an external CA increments it. */
  forceRotate: number;
  nodes: Array<{ id: string; hostname: string; state: string; tls: TlsInfo }>;
}

interface TlsJson {
  TrustRoot?: string;
  CertIssuerSubject?: string;
  CertIssuerPublicKey?: string;
}

function tlsInfo(j: TlsJson | undefined): TlsInfo {
  return {
    trustRoot: j?.TrustRoot ?? '',
    issuerSubject: j?.CertIssuerSubject ?? '',
    issuerPublicKey: j?.CertIssuerPublicKey ?? '',
  };
}

/** The CA state from GET /swarm and GET /nodes of a manager. */
export function parseCaState(swarm: unknown, nodes: unknown): CaState {
  const s = (swarm ?? {}) as {
    TLSInfo?: TlsJson;
    RootRotationInProgress?: boolean;
    Spec?: { CAConfig?: { ForceRotate?: number } };
  };
  const ns = (nodes ?? []) as Array<{
    ID?: string;
    Description?: { Hostname?: string; TLSInfo?: TlsJson };
    Status?: { State?: string };
  }>;
  return {
    swarm: tlsInfo(s.TLSInfo),
    rotating: s.RootRotationInProgress === true,
    forceRotate: s.Spec?.CAConfig?.ForceRotate ?? 0,
    nodes: ns.map((n) => ({
      id: n.ID ?? '',
      hostname: n.Description?.Hostname ?? '',
      state: n.Status?.State ?? 'unknown',
      tls: tlsInfo(n.Description?.TLSInfo),
    })),
  };
}

export interface CaLag {
  id: string;
  hostname: string;
  state: string;
  /** certificate: not yet issued by the current CA; trust root: its certificate is new, its trusted root not yet. */
  lags: 'certificate' | 'trust root';
}

export interface CaProgress {
  /** Every node has a certificate of the current CA and trusts the current root, and no rotation runs. */
  converged: boolean;
  total: number;
  /** Nodes whose certificate the current CA issued. */
  certificates: number;
  lagging: CaLag[];
}

/** How far the nodes are with the swarm's current CA (the docker CLI's two progress bars, and who lags). */
export function caProgress(s: CaState): CaProgress {
  const lagging: CaLag[] = [];
  let certificates = 0;
  for (const n of s.nodes) {
    const issued =
      n.tls.issuerPublicKey === s.swarm.issuerPublicKey && n.tls.issuerSubject === s.swarm.issuerSubject;
    if (issued) certificates++;
    // While the rotation runs the swarm's trust root is still the old one: only certificates count then.
    const trusts = !s.rotating && n.tls.trustRoot === s.swarm.trustRoot;
    if (!issued || (!s.rotating && !trusts))
      lagging.push({
        id: n.id,
        hostname: n.hostname,
        state: n.state,
        lags: issued ? 'trust root' : 'certificate',
      });
  }
  return { converged: !s.rotating && lagging.length === 0, total: s.nodes.length, certificates, lagging };
}

/** A root CA's fingerprint as swarm's join tokens carry it: sha256 of the certificate's DER, `sha256:<hex>`. */
export function caFingerprint(pem: string): string {
  return 'sha256:' + new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

/** One line of progress: "2/5 nodes have a certificate of the new CA; waiting for worker-1 (down), ...". */
export function describeProgress(p: CaProgress, nameOf: (id: string, hostname: string) => string): string {
  const waiting = p.lagging.map(
    (l) => `${nameOf(l.id, l.hostname)} (${l.state}${l.lags === 'trust root' ? ', trust root' : ''})`,
  );
  return (
    `${p.certificates}/${p.total} nodes have a certificate of the new CA` +
    (waiting.length > 0
      ? `; waiting for ${waiting.join(', ')}`
      : p.converged
        ? ''
        : '; waiting for the swarm to end the rotation')
  );
}

/**
 * status: a rotation under way (or a node behind the swarm's CA) is named per node, with what brings it back; none
 * when every node has the current CA.
 */
export function caLagWarnings(
  s: CaState,
  nameOf: (id: string, hostname: string) => string,
): Array<{ check: 'ca'; node?: string; message: string }> {
  const p = caProgress(s);
  if (p.converged) return [];
  const lagging = p.lagging.map((l) => ({
    check: 'ca' as const,
    node: nameOf(l.id, l.hostname),
    message:
      l.lags === 'certificate'
        ? `has no certificate of the swarm's new root CA yet (${l.state}; a root CA rotation is under way): it gets ` +
          'one by itself once it runs and reaches a manager ("swarmup up" starts a stopped machine and waits for it)'
        : `does not trust the swarm's new root CA yet (${l.state}): it follows within seconds while it runs`,
  }));
  return lagging.length > 0
    ? lagging
    : [
        {
          check: 'ca',
          message: 'a root CA rotation is under way: every node has a certificate of the new CA',
        },
      ];
}
