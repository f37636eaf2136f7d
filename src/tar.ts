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
