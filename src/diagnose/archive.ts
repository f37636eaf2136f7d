/**
 * The `swarmup diagnose` archive, pure: files per node (one folder each) and a few at the top, packed as one tar.gz.
 * Nothing reaches it unredacted: engine objects are given as data (`{ json }`) and pass `redactEngineData` (names
 * kept, values of environment variables, driver options, secret data and secret-shaped keys dropped); every text
 * passes `redactText` (join tokens, unlock keys, `password=...`, URL passwords).
 */
import { gzipSync } from 'node:zlib';
import { redactEngineData, redactText } from '../redact.ts';
import { tarDir, tarEnd, tarEntry } from '../tar.ts';

/** A file of the archive: text, or engine data written as JSON. */
export type DiagnoseEntry = string | { json: unknown };

export interface DiagnoseFiles {
  /** Top-level files: name -> content. */
  top: Record<string, DiagnoseEntry>;
  /** One folder per node: node -> (file name -> content). */
  nodes: Record<string, Record<string, DiagnoseEntry>>;
}

/** The bytes of one entry, redacted. Pure. */
export function entryText(entry: DiagnoseEntry): string {
  return typeof entry === 'string'
    ? redactText(entry)
    : JSON.stringify(redactEngineData(entry.json), null, 2) + '\n';
}

/** A name safe as one path part of the archive. */
export function safePart(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s.slice(0, 60) || '_';
}

export function diagnoseArchive(files: DiagnoseFiles, root: string, now = new Date()): Buffer {
  const base = safePart(root);
  const parts: Buffer[] = [tarDir(base, now)];
  for (const [name, text] of Object.entries(files.top))
    parts.push(tarEntry(`${base}/${safePart(name)}`, entryText(text), { mtime: now }));
  for (const [node, entries] of Object.entries(files.nodes)) {
    const dir = `${base}/${safePart(node)}`;
    parts.push(tarDir(dir, now));
    for (const [name, text] of Object.entries(entries))
      parts.push(tarEntry(`${dir}/${safePart(name)}`, entryText(text), { mtime: now }));
  }
  parts.push(tarEnd());
  return gzipSync(Buffer.concat(parts));
}

/** The engine's log: the systemd journal where systemd runs it, else the file the engine was started with. */
export const engineLogScript = [
  'if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then journalctl -u docker -n 2000 --no-pager 2>&1',
  'elif [ -f /var/log/dockerd.log ]; then tail -n 2000 /var/log/dockerd.log',
  'else echo "no engine log found (no systemd, no /var/log/dockerd.log)"; fi',
].join('\n');
