import { isIPv4, isIPv6 } from 'node:net';

/**
 * CIDR blocks as numbers, to tell how much of the internet a set of blocks opens. Pure: no I/O.
 * Addresses are validated with node:net; the prefix arithmetic is done here (BigInt, so IPv6 fits).
 */
export interface Cidr {
  family: 4 | 6;
  /** The first address of the block (host bits cleared). */
  start: bigint;
  prefix: number;
  /** As written. */
  text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

/** The widest block (and the most addresses in all) SSH may be opened to without --allow-ssh-from-anywhere. */
export const WIDEST_PREFIX = { 4: 16, 6: 48 } as const;

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const groups: number[] = [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two 16-bit groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4) {
    const n = Number(ipv4ToBigInt(v4[1]!));
    tail = [n >>> 16, n & 0xffff];
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, rest] = text.split('::') as [string, string | undefined];
  if (rest === undefined) {
    groups.push(...parse(head), ...tail);
  } else {
    const before = parse(head);
    const after = [...parse(rest), ...tail];
    groups.push(...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after);
  }
  return groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/** A CIDR block like 203.0.113.7/32 or 2001:db8::/48; undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const address = m[1]!;
  const prefix = Number(m[2]);
  let family: 4 | 6;
  let value: bigint;
  if (isIPv4(address)) {
    family = 4;
    value = ipv4ToBigInt(address);
  } else if (isIPv6(address) && !address.includes('%')) {
    family = 6;
    value = ipv6ToBigInt(address);
  } else {
    return undefined;
  }
  const bits = BITS[family];
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { family, start: (value >> hostBits) << hostBits, prefix, text };
}

/** How many addresses the block covers. */
export function blockSize(c: Pick<Cidr, 'family' | 'prefix'>): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

/** How many distinct addresses the blocks cover together (overlaps counted once); all of one family. */
export function unionSize(blocks: Cidr[]): bigint {
  const spans = blocks
    .map((b) => [b.start, b.start + blockSize(b)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let total = 0n;
  let end = -1n;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - (s > end ? s : end);
    end = e;
  }
  return total;
}

/** The block in one spelling (lower case, host bits cleared, IPv6 compressed), to compare what AWS echoes back. */
export function canonicalCidr(text: string): string {
  const c = parseCidr(text);
  if (!c) return text;
  if (c.family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((s) => String((c.start >> s) & 0xffn));
    return `${octets.join('.')}/${c.prefix}`;
  }
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => (c.start >> s) & 0xffffn);
  // The longest run of two or more zero groups becomes '::' (RFC 5952).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const address =
    best.at < 0
      ? hex.join(':')
      : `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
  return `${address}/${c.prefix}`;
}

/** Of one address family, what the blocks open together, and whether that is more than one /16 (IPv4) or /48 (IPv6). */
export interface Exposure {
  family: 4 | 6;
  blocks: string[];
  addresses: bigint;
  /** The whole address space of the family (refused unless asked: 0.0.0.0/0, ::/0, or blocks adding up to it). */
  everything: boolean;
  tooWide: boolean;
}

/** Per family present, how much the (valid) blocks open. */
export function exposure(blocks: Cidr[]): Exposure[] {
  return ([4, 6] as const).flatMap((family) => {
    const mine = blocks.filter((b) => b.family === family);
    if (mine.length === 0) return [];
    const addresses = unionSize(mine);
    return [
      {
        family,
        blocks: mine.map((b) => b.text),
        addresses,
        everything: addresses === 1n << BigInt(BITS[family]),
        tooWide: addresses > blockSize({ family, prefix: WIDEST_PREFIX[family] }),
      },
    ];
  });
}
