/** One warning of `swarmup status` (src/swarm/health.ts and the rules it gathers, e.g. cert-expiry.ts). */
export interface HealthWarning {
  check: 'clock' | 'version' | 'hostname' | 'down' | 'mtu' | 'certificate' | 'ca';
  /** The node or host concerned, when there is one. */
  node?: string;
  message: string;
}
