import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { errorMessage, ExitCode, InputError, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import {
  backupFileName,
  backupScript,
  chooseBackupNode,
  METADATA_ENTRY,
  restoreSteps,
  type BackupMetadata,
} from '../swarm/backup-plan.ts';
import { chooseSwarm } from '../swarm/choose-swarm.ts';
import { waitForNode } from '../swarm/engine.ts';
import { raftManagers } from '../swarm/facts.ts';
import { readSwarmFacts } from '../swarm/read-facts.ts';
import { unlockManager } from '../swarm/autolock.ts';
import { tarEntry } from '../tar.ts';
import { withDeadline } from '../transport/deadline.ts';
import { asRootScript } from '../transport/quote.ts';
import { sleep } from '../transport/ssh-connection.ts';

/** The copy (stop, tar, start) may take this long; a node that does not come back Reachable, this long. */
const COPY_DEADLINE_MS = 10 * 60_000;
const REACHABLE_WAIT_MS = 120_000;

export interface BackupResult {
  node: string;
  file: string;
  bytes: number;
  autolock: boolean;
}

/** The unlock key file another command keeps in the cluster's state folder (autolock); never printed. */
export function unlockKeyFile(ctx: PlaybookContext): string {
  return join(ctx.state.dir, 'unlock-key');
}

/**
 * `swarmup backup`: one non-leader manager's engine is stopped, its swarm folder streamed over the SSH connection
 * into `backups/<timestamp>-<node>.tar.gz` in the state folder (0600), the engine started again, and the node
 * waited for until it is Reachable again. The quorum guard is asked first; a one-manager swarm only with consent.
 */
export async function backup(
  ctx: PlaybookContext,
  confirm: (q: string) => Promise<boolean>,
): Promise<BackupResult | undefined> {
  if (!ctx.state.exists())
    throw new InputError(`no cluster "${ctx.cluster.name}" recorded (swarmup ls lists them)`);
  const hosts = await ctx.provider.reach();
  if (hosts.length === 0)
    throw new StepError(ctx.cluster.name, 'backup', 'no machines found for this cluster');
  const here = ctx.withHosts(hosts);
  const facts = await readSwarmFacts(here, {
    tolerateNoEngine: true,
    engineWaitMs: 2_000,
    settleMs: 0,
    electionWaitMs: 5_000,
    deadlineMs: 15_000,
  });
  const swarm = chooseSwarm(facts, ctx.state.read()?.clusterId);
  const choice = chooseBackupNode(
    swarm.nodes,
    facts.map((f) => ({ name: f.host, nodeId: f.nodeId })),
  );
  if (!choice.ok) throw new StepError(ctx.cluster.name, 'backup', `${choice.why}; ${choice.todo}`);
  if (choice.single) {
    const q =
      `${choice.host} is the only manager: its engine will be stopped for the copy (seconds) and the swarm is ` +
      'unavailable meanwhile (services keep running, nothing can be changed)';
    if (!ctx.options.yes) {
      if (!process.stdin.isTTY)
        throw new InputError(`${q}: pass --yes to go ahead (stdin is not a terminal)`);
      if (!(await confirm(`${q}. Go ahead?`))) return undefined;
    }
  }
  const host = hosts.find((h) => h.name === choice.host)!;
  const conn = await ctx.connection(host);
  const info = (await conn.docker.info()) as { DockerRootDir?: string; ServerVersion?: string };
  const keyFile = unlockKeyFile(ctx);
  const autolock = existsSync(keyFile);
  const now = new Date();
  const meta: BackupMetadata = {
    cluster: ctx.cluster.name,
    node: choice.host,
    nodeId: choice.nodeId,
    ...(swarm.clusterId ? { clusterId: swarm.clusterId } : {}),
    engineVersion: info.ServerVersion ?? '',
    dockerRootDir: info.DockerRootDir || '/var/lib/docker',
    createdAt: now.toISOString(),
    managers: raftManagers(swarm.nodes).total,
    ...(autolock ? { unlockKey: readFileSync(keyFile, 'utf8').trim() } : {}),
  };

  const dir = join(ctx.state.dir, 'backups');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, backupFileName(now, choice.host));
  ctx.log(`${choice.host}: stopping its engine to copy ${meta.dockerRootDir}/swarm (one manager at a time)`);

  // The node's tar.gz is unpacked and packed again behind a first entry of our own: one archive, metadata first.
  const input = new PassThrough();
  const gzip = createGzip();
  gzip.write(tarEntry(METADATA_ENTRY, JSON.stringify(meta, null, 2) + '\n', { mtime: now }));
  const written = pipeline(
    input,
    createGunzip(),
    gzip,
    createWriteStream(file, { mode: 0o600, flags: 'wx' }),
  );
  written.catch(() => undefined);
  let result;
  try {
    result = await conn.execToSink(asRootScript(backupScript(meta.dockerRootDir)), input, COPY_DEADLINE_MS);
  } finally {
    input.end();
  }
  let writeError: unknown;
  await written.catch((err) => (writeError = err));
  if (result.code !== 0 || writeError) {
    rmSync(file, { force: true });
    const why = result.stderr.trim().split('\n').slice(-3).join('; ') || `exited ${result.code}`;
    throw new StepError(
      choice.host,
      'backup',
      writeError && result.code === 0 ? `archive: ${errorMessage(writeError)}` : why,
    );
  }
  chmodSync(file, 0o600);

  const leaderHost = facts.find((f) => f.nodeId === swarm.nodes.find((n) => n.leader)?.id)?.host;
  const from = hosts.find((m) => m.name === leaderHost && m.name !== host.name) ?? host;
  await backOnline(ctx, host, from, choice.nodeId, autolock);
  return { node: choice.host, file, bytes: statSync(file).size, autolock };
}

/** Wait until the node is a Reachable manager again, read from another manager; unlock it first if it is locked. */
async function backOnline(
  ctx: PlaybookContext,
  self: Machine,
  from: Machine,
  nodeId: string,
  autolock: boolean,
): Promise<void> {
  const conn = await ctx.connection(self);
  // The first calls after the restart may meet a connection to the engine that stopped: asked again until it answers.
  const deadline = Date.now() + 60_000;
  let info: { Swarm?: { LocalNodeState?: string } };
  for (;;) {
    try {
      info = (await withDeadline(conn.docker.info(), 10_000, 'the Docker engine: info')) as typeof info;
      break;
    } catch (err) {
      if (Date.now() > deadline)
        throw new StepError(self.name, 'backup: engine restarted', `does not answer: ${errorMessage(err)}`);
      await sleep(250);
    }
  }
  if (info.Swarm?.LocalNodeState === 'locked') {
    if (!autolock)
      throw new StepError(
        self.name,
        'backup',
        'the engine restarted locked (autolock) and no unlock-key file is kept: run "docker swarm unlock" on it',
      );
    // The key goes in the request body over the connection, never on a command line.
    await unlockManager(conn.docker, readFileSync(unlockKeyFile(ctx), 'utf8').trim());
  }
  await waitForNode(
    (await ctx.connection(from)).docker,
    nodeId,
    (n) => n.state === 'ready' && n.reachability === 'reachable',
    'a Ready, Reachable manager again',
    REACHABLE_WAIT_MS,
  ).catch((err) => {
    throw new StepError(self.name, 'backup: back in the swarm', errorMessage(err));
  });
}

/** `backup --restore FILE`: the manual steps (nothing is changed; a restore makes a new swarm). */
export async function printRestore(file: string): Promise<number> {
  if (!existsSync(file)) {
    process.stderr.write(`swarmup: --restore: ${file}: no such file\n`);
    return ExitCode.badInput;
  }
  const meta = await readMetadata(file).catch(() => undefined);
  process.stdout.write(restoreSteps(file, meta).join('\n') + '\n');
  return ExitCode.ok;
}

/** The metadata entry at the start of a backup archive: only the first bytes are unpacked. */
async function readMetadata(file: string): Promise<BackupMetadata | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  const gunzip = createGunzip();
  await new Promise<void>((resolve, reject) => {
    const src = createReadStream(file);
    src.pipe(gunzip);
    gunzip.on('data', (d: Buffer) => {
      chunks.push(d);
      length += d.length;
      if (length >= 1 << 16) {
        src.destroy();
        gunzip.destroy();
        resolve();
      }
    });
    gunzip.on('end', resolve);
    gunzip.on('error', reject);
    src.on('error', reject);
  });
  const tar = Buffer.concat(chunks);
  const field = (from: number, to: number) => tar.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
  if (field(0, 100) !== METADATA_ENTRY) return undefined;
  const size = parseInt(field(124, 136), 8);
  return JSON.parse(tar.subarray(512, 512 + size).toString('utf8')) as BackupMetadata;
}

/** What a backup run prints: the archive, and where the unlock key is when the swarm is autolocked. */
export function reportBackup(ctx: PlaybookContext, r: BackupResult): void {
  if (ctx.reporter.json) {
    ctx.reporter.emit({ event: 'backup', node: r.node, file: r.file, bytes: r.bytes, autolock: r.autolock });
    return;
  }
  process.stdout.write(
    `${r.node}: backup saved to ${r.file} (${Math.max(1, Math.round(r.bytes / 1024))} KiB)\n`,
  );
  if (r.autolock)
    process.stdout.write(
      `the swarm is autolocked: restoring needs its unlock key, kept in ${unlockKeyFile(ctx)} (and in the archive's ${METADATA_ENTRY})\n`,
    );
  process.stdout.write(`to restore: swarmup backup --restore ${r.file}\n`);
}
