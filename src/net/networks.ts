import { blockSize, canonicalCidr, parseCidr, type Cidr } from './cidr.ts';

/** Networks seen and the free blocks between them: address arithmetic shared by the swarm's pool and the providers. */

/** A network swarmup saw (a VPC's block, a host's route, a local engine network) and where it saw it. */
export interface SeenNetwork {
  cidr: string;
  where: string;
}

export function v4(text: string): Cidr | undefined {
  const c = parseCidr(text.includes('/') ? text : `${text}/32`);
  return c && c.family === 4 ? c : undefined;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.start < b.start + blockSize(b) && b.start < a.start + blockSize(a);
}

/** The blocks of `block` with prefix `prefix`, in address order (the block itself when it is narrower). */
export function split(block: Cidr, prefix: number): Cidr[] {
  if (block.prefix >= prefix) return [block];
  const step = blockSize({ family: 4, prefix });
  const count = Number(blockSize(block) / step);
  return Array.from({ length: count }, (_, i) => {
    const start = block.start + BigInt(i) * step;
    const text = canonicalCidr(
      `${[24n, 16n, 8n, 0n].map((s) => String((start >> s) & 0xffn)).join('.')}/${prefix}`,
    );
    return { family: 4 as const, start, prefix, text };
  });
}

export /**
 * Networks that count: IPv4 blocks at least a /8 narrow. Wider ones (a VPN's 0.0.0.0/1 + 128.0.0.0/1 "default
 * route", the default route itself) cover every private range and say nothing about which one is in use.
 */
function relevant(seen: SeenNetwork[]): Array<SeenNetwork & { block: Cidr }> {
  return seen.flatMap((s) => {
    const block = v4(s.cidr);
    return block && block.prefix >= 8 ? [{ ...s, block }] : [];
  });
}

/**
 * The first block of `prefix` bits, from the ranges in their order, that overlaps none of the networks seen (those
 * that count: see `relevant`); undefined when every one does. Pure.
 */
export function firstFreeBlock(ranges: string[], prefix: number, seen: SeenNetwork[]): string | undefined {
  const blocks = relevant(seen);
  for (const range of ranges) {
    const found = split(v4(range)!, prefix).find((b) => !blocks.some((s) => overlaps(b, s.block)));
    if (found) return found.text;
  }
  return undefined;
}
