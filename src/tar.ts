/**
 * The few bytes of the POSIX tar (ustar) format swarmup writes itself: a regular file entry and the end of an
 * archive. Enough for `diagnose` (text files in one folder per node) and for the metadata entry `backup` puts in
 * front of the archive a node streams. Pure: bytes in, bytes out.
 */

const BLOCK = 512;

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, length, 'utf8');
}

/** A number as the octal digits tar expects, `length - 1` digits and a NUL. */
function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

/** The 512-byte header of a regular file (or, with `dir`, a folder). */
export function tarHeader(
  name: string,
  size: number,
  opts: { mode?: number; mtime?: Date; dir?: boolean } = {},
): Buffer {
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK, 0);
  field(h, 0, 100, name);
  field(h, 100, 8, octal(opts.mode ?? (opts.dir ? 0o700 : 0o600), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(opts.dir ? 0 : size, 12));
  field(h, 136, 12, octal(Math.floor((opts.mtime ?? new Date()).getTime() / 1000), 12));
  field(h, 148, 8, '        '); // the checksum counts its own field as spaces
  field(h, 156, 1, opts.dir ? '5' : '0');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 265, 32, 'root');
  field(h, 297, 32, 'root');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** One file: its header, its bytes, and zeros up to the next block. */
export function tarEntry(
  name: string,
  data: Buffer | string,
  opts: { mode?: number; mtime?: Date } = {},
): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return Buffer.concat([tarHeader(name, body.length, opts), body, Buffer.alloc(pad, 0)]);
}

/** A folder entry (so an archive lists its folders, as tar does). */
export function tarDir(name: string, mtime?: Date): Buffer {
  return tarHeader(name.endsWith('/') ? name : `${name}/`, 0, { dir: true, ...(mtime ? { mtime } : {}) });
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK, 0);
}

/** One entry as read back: its name, type flag ('0' file, '5' folder, ...) and size. */
export interface TarListed {
  name: string;
  type: string;
  size: number;
}

/**
 * Reads a tar stream incrementally (chunks as they come out of gunzip, never the whole archive in memory): the
 * entries' names, types and sizes, the data of the entries asked for (`keep`, small ones), whether each header's
 * checksum holds, and whether the archive's end (a zero block) was reached. GNU long names ('L') and pax `path`
 * records ('x') are followed. Pure: bytes in, facts out.
 */
export class TarReader {
  readonly entries: TarListed[] = [];
  readonly kept = new Map<string, Buffer>();
  problem: string | undefined;
  ended = false;
  private buffered: Buffer[] = [];
  private length = 0;
  /** Bytes of the current entry's data (and padding) still to come; `collect` when they are kept. */
  private skip = 0;
  private collect:
    { name: string; size: number; parts: Buffer[]; kind: 'keep' | 'longname' | 'pax' } | undefined;
  private nextName: string | undefined;

  constructor(private readonly keep: (name: string) => boolean = () => false) {}

  push(chunk: Buffer): void {
    if (this.ended || this.problem) return;
    this.buffered.push(chunk);
    this.length += chunk.length;
    for (;;) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, this.length);
        if (take === 0) return;
        const bytes = this.consume(take);
        if (this.collect) this.collect.parts.push(bytes);
        this.skip -= take;
        if (this.skip === 0 && this.collect) this.finishData();
        continue;
      }
      if (this.length < BLOCK) return;
      const h = this.consume(BLOCK);
      if (h.every((b) => b === 0)) {
        this.ended = true;
        return;
      }
      const text = (from: number, to: number) => h.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
      if (parseInt(text(148, 156).trim(), 8) !== sum) {
        this.problem = `a damaged tar header after ${this.entries.length} entries`;
        return;
      }
      const size = parseInt(text(124, 136).trim() || '0', 8);
      const type = text(156, 157) || '0';
      const prefix = text(257, 263).startsWith('ustar') ? text(345, 500) : '';
      const name = this.nextName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'L' || type === 'x') {
        this.collect = { name, size, parts: [], kind: type === 'L' ? 'longname' : 'pax' };
      } else {
        this.nextName = undefined;
        this.entries.push({ name, type, size });
        this.collect =
          this.keep(name) && size <= 1 << 20 ? { name, size, parts: [], kind: 'keep' } : undefined;
      }
      this.skip = padded;
      if (padded === 0 && this.collect) this.finishData();
    }
  }

  private finishData(): void {
    const c = this.collect!;
    this.collect = undefined;
    const data = Buffer.concat(c.parts).subarray(0, c.size);
    if (c.kind === 'keep') this.kept.set(c.name, data);
    else if (c.kind === 'longname') this.nextName = data.toString('utf8').replace(/\0.*$/s, '');
    else {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (path) this.nextName = path[1];
    }
  }

  private consume(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}
