import { createPrivateKey } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { errorMessage, InputError } from '../errors.ts';
import {
  archiveProblem,
  METADATA_ENTRY,
  readMetadataJson,
  type BackupMetadata,
} from '../swarm/backup-plan.ts';
import { TarReader } from '../tar.ts';

/** A backup archive's file: its destination made ready before anything stops, and the archive read back. */

export function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // a file system gone read-only: the temporary file's name says what it is
  }
}

/**
 * The archive's temporary file (`.<name>.partial` beside it, 0600), made before anything is stopped: a destination
 * that cannot be written (read-only, not a folder, full, the archive already there) is bad input, exit 2, naming
 * the path. The archive gets its final name only once it is complete and verified.
 */
export function openDestination(file: string): string {
  const dir = dirname(file);
  const partial = join(dir, `.${basename(file)}.partial`);
  const refuse = (why: string) => {
    throw new InputError(`backup: cannot write the archive to ${dir}: ${why}; nothing was changed`);
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (err) {
    refuse(errorMessage(err));
  }
  if (existsSync(file)) refuse(`${basename(file)} exists already`);
  try {
    closeSync(openSync(partial, 'wx', 0o600));
  } catch (err) {
    refuse(errorMessage(err));
  }
  try {
    const fs = statfsSync(dir);
    if (fs.bavail * fs.bsize < MIN_FREE_BYTES)
      throw new Error(`only ${fs.bavail * fs.bsize} bytes free (at least ${MIN_FREE_BYTES} wanted)`);
  } catch (err) {
    removeQuietly(partial);
    refuse(errorMessage(err));
  }
  return partial;
}

/** Below this much free space the copy is not even started (a swarm folder's archive is rarely smaller). */
const MIN_FREE_BYTES = 16 * 1024;

/**
 * Read a backup archive to its end (streamed: gunzip, then tar headers): complete gzip and tar, the members a
 * swarmup backup must have, its metadata; `problem` says why it cannot be restored. The node key is kept (in
 * memory) to check an unlock key against.
 */
export async function verifyArchive(
  file: string,
): Promise<{ problem?: string; meta?: BackupMetadata; nodeKey?: string }> {
  const reader = new TarReader((n) => n === METADATA_ENTRY || n === 'swarm/certificates/swarm-node.key');
  let gzipError: string | undefined;
  try {
    await pipeline(createReadStream(file), createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) reader.push(c);
    });
  } catch (err) {
    gzipError = errorMessage(err);
  }
  if (gzipError && !reader.ended)
    return {
      problem: /unexpected end/i.test(gzipError)
        ? archiveProblem({ names: [], complete: false })!
        : `not a gzip archive (${gzipError})`,
    };
  const names = reader.entries.map((e) => e.name.replace(/^\.\//, ''));
  const problem = archiveProblem({
    names,
    complete: reader.ended && !gzipError,
    ...(reader.problem ? { problem: reader.problem } : {}),
  });
  let meta: BackupMetadata | undefined;
  try {
    const m = reader.kept.get(METADATA_ENTRY);
    if (m) meta = readMetadataJson(m.toString('utf8'));
  } catch {
    return { problem: `its ${METADATA_ENTRY} is not JSON` };
  }
  const key = reader.kept.get('swarm/certificates/swarm-node.key');
  return {
    ...(problem ? { problem } : {}),
    ...(meta ? { meta } : {}),
    ...(key ? { nodeKey: key.toString('utf8') } : {}),
  };
}

/**
 * Whether an unlock key opens a backup's node key (which holds the raft data's key): swarmkit encrypts it with the
 * unlock key's bytes (base64 after `SWMKEY-1-`) as passphrase, as PKCS#8 (`ENCRYPTED PRIVATE KEY`, current
 * engines) or as a legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`). undefined: the node key is not encrypted.
 */
export function keyUnlocks(nodeKeyPem: string, unlockKey: string): boolean | undefined {
  const m = /^SWMKEY-1-([A-Za-z0-9+/]+)=*$/.exec(unlockKey.trim());
  if (!m) return false;
  if (!/ENCRYPTED/.test(nodeKeyPem)) return undefined;
  // Only the headers OpenSSL reads: swarmkit adds its own (kek-version, raft-dek) that OpenSSL does not expect.
  const pem = nodeKeyPem.replace(
    /^(-----BEGIN [^\n]+\n)([\s\S]*?)\n\n/,
    (_all, begin: string, headers: string) => {
      const kept = headers.split('\n').filter((h) => /^(Proc-Type|DEK-Info):/.test(h));
      return begin + (kept.length > 0 ? kept.join('\n') + '\n\n' : '');
    },
  );
  try {
    createPrivateKey({ key: pem, format: 'pem', passphrase: Buffer.from(m[1]!, 'base64') });
    return true;
  } catch {
    return false;
  }
}
