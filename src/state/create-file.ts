import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Create `file` (0600) with `content` already in it, unless it exists (false then): the content goes to a
 * temporary file beside it first and is hard-linked into place, and a hard link never replaces a file, so no reader
 * ever sees it empty and of two runs only one creates it.
 */
export function createWith(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}
