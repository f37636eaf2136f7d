/**
 * Health warnings of `swarmup status`: what does not stop the cluster today but will hurt it. Pure rules over the
 * facts status reads (engine clocks and versions, the node list, the swarm's certificate lifetime, the MTU of the
 * link each host advertises on). A warning never changes status's exit code.
 */
import { MAX_CLOCK_SKEW_S } from '../engine/preflight.ts';
import type { ClusterNode } from './facts.ts';
import { quote } from '../transport/quote.ts';
import { certificateWarnings, type CertificatesInput } from './cert-expiry.ts';
import type { HealthWarning } from './health-warning.ts';

export type { HealthWarning } from './health-warning.ts';

export interface HealthHost {
  name: string;
  /** Host clock minus this machine's clock (s), from the facts round trip. */
  clockOffset?: number;
  /** The interface that carries the advertise address, and its MTU. */
  link?: { iface: string; mtu: number };
}

export interface HealthInput {
  hosts: HealthHost[];
  /** The node list as the leader reads it. */
  nodes: ClusterNode[];
  /** Host name of each node id (nodes no host is keep their hostname). */
  nameOf: ReadonlyMap<string, string>;
  /** The clock every other clock is compared with (the leader's host). */
  reference?: string;
  /** Swarm's CAConfig.NodeCertExpiry in ms (90 days by default). */
  nodeCertExpiryMs?: number;
  /** Node certificates (as each node holds it) and the swarm's root CA: src/swarm/cert-expiry.ts. */
  certificates?: Omit<CertificatesInput, 'now'>;
  now: number;
}

/** Warn well before Swarm's limit (MAX_CLOCK_SKEW_S breaks certificates): skew only grows. */
export const CLOCK_WARN_S = MAX_CLOCK_SKEW_S / 2;
export const DEFAULT_NODE_CERT_EXPIRY_MS = 90 * 24 * 3600 * 1000;
/** A node Down for this part of the certificate lifetime gets a warning: it cannot renew while down. */
export const DOWN_FRACTION = 1 / 3;
/** VXLAN adds 50 bytes to every overlay packet; overlay networks default to an MTU of 1450. */
export const VXLAN_OVERHEAD = 50;
export const OVERLAY_DEFAULT_MTU = 1450;

const days = (ms: number) => Math.floor(ms / (24 * 3600 * 1000));

/** major.minor of an engine version ("20.10.24+dfsg1" -> "20.10"); the whole string when it has no such form. */
export function majorMinor(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? `${Number(m[1])}.${Number(m[2])}` : version;
}

export function healthWarnings(input: HealthInput): HealthWarning[] {
  return [
    ...clockSkew(input),
    ...versionSkew(input),
    ...duplicateHostnames(input),
    ...downForLong(input),
    ...underlayMtu(input),
    ...(input.certificates ? certificateWarnings({ ...input.certificates, now: input.now }) : []),
  ];
}

function clockSkew(input: HealthInput): HealthWarning[] {
  const withClock = input.hosts.filter((h) => h.clockOffset !== undefined);
  const ref = withClock.find((h) => h.name === input.reference) ?? withClock[0];
  if (!ref) return [];
  return withClock.flatMap((h) => {
    const skew = h.clockOffset! - ref.clockOffset!;
    if (h === ref || Math.abs(skew) <= CLOCK_WARN_S) return [];
    return [
      {
        check: 'clock' as const,
        node: h.name,
        message:
          `clock is ${Math.abs(skew).toFixed(1)} s ${skew > 0 ? 'ahead of' : 'behind'} ${ref.name}; beyond ` +
          `${MAX_CLOCK_SKEW_S} s Swarm's TLS certificates fail: enable NTP (timedatectl set-ntp true)`,
      },
    ];
  });
}

function versionSkew(input: HealthInput): HealthWarning[] {
  const byVersion = new Map<string, string[]>();
  for (const n of input.nodes) {
    if (!n.engineVersion) continue;
    const v = majorMinor(n.engineVersion);
    byVersion.set(v, [...(byVersion.get(v) ?? []), input.nameOf.get(n.id) ?? n.hostname]);
  }
  if (byVersion.size < 2) return [];
  const list = [...byVersion.entries()]
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
    .map(([v, names]) => `${v} on ${names.sort().join(', ')}`)
    .join('; ');
  return [
    {
      check: 'version',
      message: `engine versions differ (${list}): run the same major.minor everywhere (upgrade one node at a time, managers first)`,
    },
  ];
}

function duplicateHostnames(input: HealthInput): HealthWarning[] {
  const byName = new Map<string, ClusterNode[]>();
  for (const n of input.nodes) byName.set(n.hostname, [...(byName.get(n.hostname) ?? []), n]);
  return [...byName.entries()]
    .filter(([name, nodes]) => name !== '' && nodes.length > 1)
    .map(([name, nodes]) => ({
      check: 'hostname' as const,
      node: name,
      message:
        `${nodes.length} nodes have the hostname ${name} (${nodes.map((n) => `${n.id.slice(0, 12)} ${n.state}`).join(', ')}): ` +
        'placement constraints and `docker node` commands by name become ambiguous; remove the stale entry or rename the host',
    }));
}

function downForLong(input: HealthInput): HealthWarning[] {
  const expiry = input.nodeCertExpiryMs ?? DEFAULT_NODE_CERT_EXPIRY_MS;
  const limit = expiry * DOWN_FRACTION;
  return input.nodes.flatMap((n) => {
    if (n.state !== 'down' || n.updatedAt === undefined) return [];
    const down = input.now - n.updatedAt;
    if (down <= limit) return [];
    return [
      {
        check: 'down' as const,
        node: input.nameOf.get(n.id) ?? n.hostname,
        message:
          `down for ${days(down)} days; node certificates expire after ${days(expiry)} days (NodeCertExpiry) and a ` +
          'node cannot renew its certificate while down: bring it back soon, or remove it ("swarmup up" removes stale entries)',
      },
    ];
  });
}

function underlayMtu(input: HealthInput): HealthWarning[] {
  const needed = OVERLAY_DEFAULT_MTU + VXLAN_OVERHEAD;
  return input.hosts.flatMap((h) => {
    if (!h.link || !Number.isFinite(h.link.mtu) || h.link.mtu >= needed) return [];
    return [
      {
        check: 'mtu' as const,
        node: h.name,
        message:
          `${h.link.iface} (the advertise address's interface) has MTU ${h.link.mtu}; overlay networks default to ` +
          `${OVERLAY_DEFAULT_MTU} and VXLAN adds ${VXLAN_OVERHEAD} bytes, so it needs ${needed}: large packets between ` +
          `containers will be lost; create overlays with --opt com.docker.network.driver.mtu=${h.link.mtu - VXLAN_OVERHEAD}`,
      },
    ];
  });
}

/**
 * One command (in the round trip that reads a host) that prints the interface carrying `address` and its MTU:
 * "link=<iface> <mtu>", or nothing when no interface has it.
 */
export function linkScript(address: string): string {
  return (
    `i=$(ip -o addr show 2>/dev/null | awk -v a=${quote(address || 'none')} '{split($4,p,"/"); if (p[1]==a) {print $2; exit}}'); ` +
    '[ -n "$i" ] && echo "link=$i $(cat /sys/class/net/$i/mtu 2>/dev/null)"'
  );
}

export function parseLink(stdout: string): { iface: string; mtu: number } | undefined {
  const m = /^link=(\S+) (\d+)$/m.exec(stdout);
  return m ? { iface: m[1]!.replace(/@.*$/, ''), mtu: Number(m[2]) } : undefined;
}
