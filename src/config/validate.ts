import { isIP } from 'node:net';

/** A DNS name (RFC 1123 labels) or an interface-like name: letters, digits and hyphens between dots. */
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address a host is reached or advertised at: an IPv4/IPv6 address or a DNS name, nothing a shell could read. */
export function isHostAddress(value: string): boolean {
  return isIP(value) !== 0 || DNS_NAME.test(value);
}

export const HOST_ADDRESS_RULE = 'an IP address or a DNS name';

/** An engine version pin as package managers write them (20.10, 27.3.1, 5:27.3.1-1~ubuntu.24.04~noble). */
export function isEngineVersion(value: string): boolean {
  return /^[0-9][0-9A-Za-z.:~+-]{0,63}$/.test(value);
}

export const ENGINE_VERSION_RULE = 'a version like 27.3 or 27.3.1 (digits, letters, ".", ":", "~", "+", "-")';
