import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { METADATA_ENTRY } from '../../src/swarm/backup-plan.ts';
import { tarEntry, tarEnd } from '../../src/tar.ts';
import { childEnv, labelled, swarmup, tempHome } from '../support/cli.ts';
import { inTerminal } from '../support/terminal.ts';

/**
 * `down` keeps a cluster's backups: the real command on a docker-provider cluster whose machines are already gone
 * (what is left of it: its state folder with two backups, and one labelled network, so that down finds something
 * to remove). No node container is made: the state home is the subject here.
 */
const NAME = `e2e-keep-${process.pid}`;
const home = tempHome();
const env = { SWARMUP_HOME: home, DOCKER_CONFIG: childEnv({}).DOCKER_CONFIG! };
const kept = join(home, '_backups', NAME);
const ARCHIVE = '2026-01-02T030405Z-lab-manager-2.tar.gz';

/** One life of the cluster: its record, a network labelled for it, and backups named as `backup` names them. */
async function lifeOf(archives: Record<string, string>): Promise<void> {
  const dir = join(home, NAME);
  mkdirSync(join(dir, 'backups'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, 'state.json'),
    JSON.stringify({
      name: NAME,
      provider: 'docker',
      managers: 1,
      workers: 0,
      updatedAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  for (const [name, node] of Object.entries(archives)) {
    const meta = {
      cluster: NAME,
      node,
      nodeId: 'n1',
      engineVersion: '20.10.24',
      dockerRootDir: '/var/lib/docker',
    };
    // The members every swarmup backup has (--restore checks them); their content is not read here.
    const members = [
      'swarm/docker-state.json',
      'swarm/state.json',
      'swarm/certificates/swarm-node.key',
      'swarm/certificates/swarm-node.crt',
      'swarm/certificates/swarm-root-ca.crt',
      'swarm/raft/wal-v3/0000000000000000-0000000000000000.wal',
    ].map((m) => tarEntry(m, '{}\n'));
    const tar = Buffer.concat([tarEntry(METADATA_ENTRY, JSON.stringify(meta) + '\n'), ...members, tarEnd()]);
    writeFileSync(join(dir, 'backups', name), gzipSync(tar), { mode: 0o600 });
  }
  // Made by this home, as down selects only its own: the cluster's label and this home's owner id.
  if (!existsSync(join(home, 'owner')))
    writeFileSync(join(home, 'owner'), `keep${process.pid}\n`, { mode: 0o600 });
  const owner = readFileSync(join(home, 'owner'), 'utf8').trim();
  await execa('docker', [
    'network',
    'create',
    '--label',
    `swarmup.cluster=${NAME}`,
    '--label',
    `swarmup.owner=${owner}`,
    `swarmup-${NAME}`,
  ]);
}

const keptFolders = () => (existsSync(kept) ? readdirSync(kept).sort() : []);

describe('down keeps the backups of the cluster it removes', () => {
  afterAll(async () => {
    for (const id of await labelled('network ls', NAME))
      await execa('docker', ['network', 'rm', id], { reject: false });
  });

  it('on a terminal it says where they go; then they are moved beside the state home, 0700/0600, and listed', async () => {
    await lifeOf({ [ARCHIVE]: 'lab-manager-2', '2026-01-03T000000Z-lab-manager-3.tar.gz': 'lab-manager-3' });
    const r = await inTerminal(`down --name ${NAME}`, 'y', env);
    expect(r.asked).toContain(`network: swarmup-${NAME}`);
    expect(r.asked).toContain(
      `backups: 2 archives in ${join(home, NAME, 'backups')}: kept, moved to ${kept}/`,
    );
    expect(r.exit, r.screen).toBe(0);
    const [folder, ...more] = keptFolders();
    expect(more).toEqual([]);
    const dir = join(kept, folder!);
    expect(r.screen).toContain(`2 backups of ${NAME} kept in ${dir}`);
    expect(existsSync(join(home, NAME))).toBe(false);
    expect(await labelled('network ls', NAME)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual([
      '2026-01-02T030405Z-lab-manager-2.tar.gz',
      '2026-01-03T000000Z-lab-manager-3.tar.gz',
    ]);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect([mode(join(home, '_backups')), mode(kept), mode(dir), mode(join(dir, ARCHIVE))]).toEqual([
      0o700, 0o700, 0o700, 0o600,
    ]);

    // ls lists them (text and --json, one line of their own after the clusters'), and restore reads them there.
    const ls = await swarmup(['ls'], env);
    expect(ls.stdout).toContain('no clusters');
    expect(ls.stdout).toMatch(new RegExp(`^${NAME} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +2 +${dir}$`, 'm'));
    const json = await swarmup(['ls', '--json'], env);
    expect(json.events).toEqual([
      {
        removedCluster: NAME,
        removedAt: expect.stringMatching(/^\d{4}-/),
        backupsDir: dir,
        backups: [
          { file: join(dir, ARCHIVE), bytes: expect.any(Number), createdAt: expect.any(String) },
          expect.objectContaining({ file: join(dir, '2026-01-03T000000Z-lab-manager-3.tar.gz') }),
        ],
      },
    ]);
    const restore = await swarmup(['backup', '--restore', join(dir, ARCHIVE)], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`Restoring ${join(dir, ARCHIVE)} (taken from lab-manager-2)`);
  });

  it('a later cluster of the same name keeps its own (same file name, nothing overwritten); --delete-backups deletes', async () => {
    const earlier = keptFolders();
    const before = readFileSync(join(kept, earlier[0]!, ARCHIVE));
    await lifeOf({ [ARCHIVE]: 'lab-manager-1' });
    const again = await swarmup(['down', '--yes', '--json', '--name', NAME], env);
    expect(again.code, again.stderr).toBe(0);
    const folders = keptFolders();
    expect(folders.length).toBe(2);
    const second = join(
      kept,
      folders.find((f) => !earlier.includes(f))!,
    );
    expect(again.events).toContainEqual({ event: 'backups', files: 1, keptIn: second });
    expect(readFileSync(join(kept, earlier[0]!, ARCHIVE))).toEqual(before);
    expect(readFileSync(join(second, ARCHIVE))).not.toEqual(before);

    await lifeOf({ [ARCHIVE]: 'lab-manager-1' });
    const gone = await swarmup(['down', '--yes', '--delete-backups', '--name', NAME], env);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain(`1 backup of ${NAME} deleted (--delete-backups)`);
    expect(existsSync(join(home, NAME))).toBe(false);
    expect(keptFolders()).toEqual(folders);
  });
});
