import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HostKeyChangedError } from '../errors.ts';

/** The name a host key is filed under, as OpenSSH writes it: "host" for port 22, "[host]:port" otherwise. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type is the first string inside an SSH wire-format public key blob. */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

export interface KnownHost {
  pattern: string;
  type: string;
  key: string; // base64 blob
}

export function parseKnownHosts(text: string): KnownHost[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((p) => p.length >= 3)
    .flatMap(([patterns, type, key]) =>
      patterns!.split(',').map((pattern) => ({ pattern, type: type!, key: key! })),
    );
}

/** The 1-based lines of a known_hosts text that file keys under `pattern`. */
export function linesOf(text: string, pattern: string): number[] {
  return text
    .split('\n')
    .flatMap((l, i) =>
      !l.trim().startsWith('#') && (l.trim().split(/\s+/)[0] ?? '').split(',').includes(pattern)
        ? [i + 1]
        : [],
    );
}

export type HostKeyCheck = 'match' | 'unknown' | 'changed';

/** Trust on first use, then pin: a known pattern with a different key of the same type is refused. */
export function checkHostKey(entries: KnownHost[], pattern: string, blob: Buffer): HostKeyCheck {
  const type = keyType(blob);
  const key = blob.toString('base64');
  const mine = entries.filter((e) => e.pattern === pattern);
  if (mine.some((e) => e.type === type && e.key === key)) return 'match';
  if (mine.length > 0) return 'changed';
  return 'unknown';
}

export function formatKnownHost(pattern: string, blob: Buffer): string {
  return `${pattern} ${keyType(blob)} ${blob.toString('base64')}\n`;
}

/** swarmup's own known_hosts file (in the cluster's state folder, mode 0600). */
export class KnownHostsFile {
  private entries: KnownHost[];
  constructor(readonly path: string) {
    this.entries = existsSync(path) ? parseKnownHosts(readFileSync(path, 'utf8')) : [];
  }

  /**
   * Returns true to accept the key; records it on first use; throws on a changed key. `formerly`: the pattern an
   * older swarmup pinned this host under (its address:port, before it was pinned by name): a key pinned there is
   * not trusted anew, it is checked, and on a match pinned under `pattern` too.
   */
  verify(host: string, pattern: string, blob: Buffer, formerly?: string): void {
    // Read again: another part of the run may have forgotten a key (a machine made anew).
    this.entries = existsSync(this.path) ? parseKnownHosts(readFileSync(this.path, 'utf8')) : [];
    let check = checkHostKey(this.entries, pattern, blob);
    if (check === 'unknown' && formerly && formerly !== pattern) {
      const before = checkHostKey(this.entries, formerly, blob);
      if (before === 'changed') pattern = formerly;
      check = before;
      if (before === 'match') check = 'unknown'; // the same key: pinned under the name from now on
    }
    if (check === 'match') return;
    if (check === 'changed') {
      throw new HostKeyChangedError(
        `${host}: the SSH host key of ${pattern} has changed since it was first trusted (${this.path}); ` +
          `refusing to connect. If the machine was rebuilt on purpose, remove its line from that file.`,
        this.path,
        pattern,
        linesOf(readFileSync(this.path, 'utf8'), pattern),
      );
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, formatKnownHost(pattern, blob), { mode: 0o600 });
    this.entries.push({ pattern, type: keyType(blob), key: blob.toString('base64') });
  }

  /** Whether a key is pinned under `pattern` (swarmup has connected there before). */
  has(pattern: string): boolean {
    return this.entries.some((e) => e.pattern === pattern);
  }

  /** Forget a host's pinned keys: its machine is being made anew (new host keys). */
  forget(pattern: string): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && line.split(' ')[0] !== pattern);
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, this.path);
    this.entries = this.entries.filter((e) => e.pattern !== pattern);
  }
}
