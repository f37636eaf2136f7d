import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keptRow, renderKept } from '../../src/cli/ls.ts';
import { keepBackups, keptFolderName, listKeptBackups, removedAtOf } from '../../src/state/kept-backups.ts';
import { StateStore } from '../../src/state/store.ts';
import { tempHome } from '../support/cli.ts';

/** The backups of a removed cluster, kept beside the state home: on a real file system. */
describe('kept backups', () => {
  const now = new Date('2026-03-04T05:06:07.890Z');

  it('names each down by its time and reads that time back', () => {
    expect(keptFolderName(now, 1)).toBe('2026-03-04T050607Z');
    expect(keptFolderName(now, 3)).toBe('2026-03-04T050607Z-3');
    expect(removedAtOf('2026-03-04T050607Z-3')).toBe('2026-03-04T05:06:07.000Z');
    expect(removedAtOf('by-hand')).toBeNull();
  });

  it('a folder of that name already holding backups is never written into: the next name is taken', () => {
    const home = tempHome();
    const taken = join(home, '_backups', 'lab', keptFolderName(now, 1));
    mkdirSync(taken, { recursive: true });
    writeFileSync(join(taken, 'a.tar.gz'), 'earlier life');
    const from = join(home, 'lab', 'backups');
    mkdirSync(from, { recursive: true });
    writeFileSync(join(from, 'a.tar.gz'), 'later life', { mode: 0o644 });
    const to = keepBackups(from, home, 'lab', now);
    expect(to).toBe(join(home, '_backups', 'lab', keptFolderName(now, 2)));
    expect(readFileSync(join(taken, 'a.tar.gz'), 'utf8')).toBe('earlier life');
    expect(readFileSync(join(to!, 'a.tar.gz'), 'utf8')).toBe('later life');
    expect(statSync(join(to!, 'a.tar.gz')).mode & 0o777).toBe(0o600);
    expect(statSync(to!).mode & 0o777).toBe(0o700);

    const rows = listKeptBackups(home).map(keptRow);
    expect(rows.map((r) => [r.removedCluster, r.removedAt, r.backupsDir, r.backups.length])).toEqual([
      ['lab', '2026-03-04T05:06:07.000Z', taken, 1],
      ['lab', '2026-03-04T05:06:07.000Z', to, 1],
    ]);
    expect(renderKept(rows).split('\n')).toEqual([
      'backups kept by down (restore: swarmup backup --restore FILE):',
      `REMOVED CLUSTER   REMOVED            BACKUPS   FOLDER`,
      `lab               2026-03-04 05:06   1         ${taken}`,
      `lab               2026-03-04 05:06   1         ${to}`,
    ]);
    expect(renderKept([])).toBe('');
  });

  it('StateStore.remove keeps the backups by default (nothing to keep: nothing made) and deletes them when asked', () => {
    process.env.SWARMUP_HOME = tempHome();
    const store = new StateStore('lab');
    store.write({ name: 'lab', provider: 'docker' });
    expect(store.remove()).toBeUndefined();
    expect(readdirSync(process.env.SWARMUP_HOME)).toEqual([]);

    for (const deleteBackups of [false, true]) {
      store.write({ name: 'lab', provider: 'docker' });
      mkdirSync(join(store.dir, 'backups'));
      writeFileSync(join(store.dir, 'backups', 'x.tar.gz'), 'x');
      const outcome = store.remove({ deleteBackups });
      expect(readdirSync(process.env.SWARMUP_HOME)).toEqual(['_backups']);
      if (deleteBackups) expect(outcome).toEqual({ files: 1, deleted: true });
      else expect(readdirSync(outcome!.keptIn!)).toEqual(['x.tar.gz']);
    }
    expect(listKeptBackups(process.env.SWARMUP_HOME)).toHaveLength(1);
  });

  it("the cluster's unlock key goes with its kept archives (0600), and is not listed as an archive", () => {
    const home = tempHome();
    const from = join(home, 'lab', 'backups');
    mkdirSync(from, { recursive: true });
    writeFileSync(join(from, 'a.tar.gz'), 'archive');
    writeFileSync(join(home, 'lab', 'unlock-key'), 'SWMKEY-1-stand-in\n', { mode: 0o644 });
    const to = keepBackups(from, home, 'lab', now, join(home, 'lab', 'unlock-key'))!;
    expect(readFileSync(join(to, 'unlock-key'), 'utf8')).toBe('SWMKEY-1-stand-in\n');
    expect(statSync(join(to, 'unlock-key')).mode & 0o777).toBe(0o600);
    expect(listKeptBackups(home).flatMap((k) => k.files.map((f) => f.file))).toEqual([join(to, 'a.tar.gz')]);
  });
});
