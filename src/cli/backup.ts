import { createWriteStream, existsSync, readFileSync, renameSync, statSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  type KeySource,
} from '../swarm/backup-plan.ts';
import { KEPT_UNLOCK_KEY } from '../state/kept-backups.ts';
import { StateStore } from '../state/store.ts';
import { chooseSwarm } from '../swarm/choose-swarm.ts';
import { waitForNode } from '../swarm/engine.ts';
import { raftManagers } from '../swarm/facts.ts';
import { readSwarmFacts } from '../swarm/read-facts.ts';
import { unlockManager } from '../swarm/autolock.ts';
import { tarEntry } from '../tar.ts';
import { withDeadline } from '../transport/deadline.ts';
import { keyUnlocks, openDestination, removeQuietly, verifyArchive } from './backup-archive.ts';
import { asRootScript } from '../transport/quote.ts';
import { setTimeout as sleep } from 'node:timers/promises';

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
  const autolock = existsSync(unlockKeyFile(ctx));
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
    // The unlock key itself is never written here: it would decrypt the raft data beside it.
    ...(autolock ? { autolock: true } : {}),
  };

  const file = join(ctx.state.dir, 'backups', backupFileName(now, choice.host));
  // Before any engine is stopped: the archive's temporary file is made (0600), or the run ends here, exit 2.
  const partial = openDestination(file);
  ctx.log(`${choice.host}: stopping its engine to copy ${meta.dockerRootDir}/swarm (one manager at a time)`);

  // The node's tar.gz is unpacked and packed again behind a first entry of our own: one archive, metadata first.
  const input = new PassThrough();
  const gzip = createGzip();
  gzip.write(tarEntry(METADATA_ENTRY, JSON.stringify(meta, null, 2) + '\n', { mtime: now }));
  let writeError: unknown;
  const written = pipeline(input, createGunzip(), gzip, createWriteStream(partial, { flags: 'r+' })).catch(
    (err: unknown) => {
      writeError = err;
    },
  );
  let result;
  try {
    // A write error (disk full, the file system gone read-only) destroys `input`: the SSH channel is closed at
    // once, the node's tar fails on its broken pipe, and its script starts the engine again.
    result = await conn.execToSink(asRootScript(backupScript(meta.dockerRootDir)), input, COPY_DEADLINE_MS);
  } catch (err) {
    result = { code: 255, stderr: errorMessage(err), stdout: '', command: '' };
  } finally {
    input.end();
  }
  await written;
  const leaderHost = facts.find((f) => f.nodeId === swarm.nodes.find((n) => n.leader)?.id)?.host;
  const from = hosts.find((m) => m.name === leaderHost && m.name !== host.name) ?? host;
  let problem: string | undefined;
  if (writeError) problem = `writing ${partial}: ${errorMessage(writeError)}`;
  else if (result.code !== 0)
    problem = result.stderr.trim().split('\n').slice(-3).join('; ') || `exited ${result.code}`;
  else problem = (await verifyArchive(partial)).problem;
  if (problem) {
    removeQuietly(partial);
    // The script stopped nothing (no swarm folder, the engine would not stop): a failed step, nothing changed.
    if (!writeError && (result.code === 90 || result.code === 91))
      throw new StepError(choice.host, 'backup', `${problem}; nothing was changed`);
    // Its engine was stopped: it is brought back (and waited for) before the failure is told.
    const back = await backOnline(ctx, host, from, choice.nodeId, autolock).then(
      () => 'its engine is running again and the node is a Reachable manager',
      (err: unknown) => `and it is not back: ${errorMessage(err)}`,
    );
    throw new BackupFault(
      choice.host,
      'backup: copying the swarm data',
      `${problem}; no archive was kept; ${back}`,
    );
  }
  renameSync(partial, file);
  chmodSync(file, 0o600);

  await backOnline(ctx, host, from, choice.nodeId, autolock);
  return { node: choice.host, file, bytes: statSync(file).size, autolock };
}

/** A failure after the node's engine was stopped: exit 3 (something changed), naming the host, the step and why. */
class BackupFault extends Error {
  override name = 'BackupFault';
  readonly exitCode = ExitCode.partlyApplied;
  constructor(host: string, step: string, cause: string) {
    super(`${host}: ${step}: ${cause}`);
  }
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

/**
 * `backup --restore FILE [--unlock-key-file F]`: the manual steps, printed only for an archive read to its end and
 * complete (nothing is changed; a restore makes a new swarm). An autolocked backup holds no key: it comes from the
 * state home (the cluster's `unlock-key`) or the file given, is checked against the archive, and is never printed.
 */
export async function printRestore(file: string, opts: { unlockKeyFile?: string } = {}): Promise<number> {
  const bad = (why: string) => {
    process.stderr.write(`swarmup: --restore: ${why}; nothing was changed\n`);
    return ExitCode.badInput;
  };
  if (!existsSync(file)) return bad(`${file}: no such file`);
  const read = await verifyArchive(file);
  if (read.problem || !read.meta)
    return bad(`${file} is not a complete swarmup backup: ${read.problem ?? 'no metadata'}`);
  const meta = read.meta;
  let key: KeySource | undefined;
  if (meta.autolock) {
    // Where the key is looked for: the file given; else the one `down` kept beside the archive (its cluster is
    // gone, or another of that name was made since, whose key is not this archive's); else the state home's.
    const store = new StateStore(meta.cluster);
    const given = opts.unlockKeyFile ? resolve(opts.unlockKeyFile) : undefined;
    const beside = join(dirname(resolve(file)), KEPT_UNLOCK_KEY);
    const keyFile = given ?? (existsSync(beside) ? beside : store.unlockKeyPath());
    const text = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
    if (!text)
      return bad(
        `${file} is a backup of an autolocked swarm, and the archive does not hold its unlock key: ` +
          (given
            ? `${given} holds no key`
            : `no unlock key of cluster "${meta.cluster}" is kept in this state home (${keyFile})`) +
          `; restoring needs the key that was in force when it was taken (${meta.createdAt}): give it in a file ` +
          'with --unlock-key-file FILE',
      );
    const matches = read.nodeKey ? keyUnlocks(read.nodeKey, text) : undefined;
    if (matches === false)
      return bad(
        `the unlock key in ${keyFile} does not unlock ${file} (it was rotated since ${meta.createdAt}?): ` +
          'give the key in force then with --unlock-key-file FILE',
      );
    key =
      given || keyFile === beside
        ? { kind: 'file', file: keyFile, matches }
        : { kind: 'state', file: keyFile, cluster: meta.cluster, matches };
  }
  process.stdout.write(restoreSteps(file, meta, key).join('\n') + '\n');
  return ExitCode.ok;
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
      `the swarm is autolocked: the archive does not hold its unlock key, which restoring needs; it is kept in ` +
        `${unlockKeyFile(ctx)} ("swarmup unlock-key" prints it): keep a copy apart from the archive, and the ` +
        'old key too if you rotate it (this archive needs the key in force now)\n',
    );
  process.stdout.write(`to restore: swarmup backup --restore ${r.file}\n`);
}
