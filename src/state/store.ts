import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../config/cluster.ts';
import { KnownHostsFile } from '../transport/known-hosts.ts';
import { errorMessage, InputError } from '../errors.ts';
import { generateEd25519, publicKeyOf } from './cluster-key.ts';
import { backupFiles, keepBackups } from './kept-backups.ts';
import { createWith } from './create-file.ts';

/** What swarmup remembers about a cluster between runs. Never a token or an unlock key. */
export interface ClusterState {
  name: string;
  provider: string;
  /** Machines the provider creates (docker): remembered so status and down need no flags. */
  managers?: number;
  workers?: number;
  clusterId?: string;
  /** EC2: one life of the cluster (part of every launch's idempotency token); EC2 region. */
  generation?: string;
  region?: string;
  /** EC2: the account the cluster was made in (STS), so down refuses credentials of another one. */
  account?: string;
  /** docker provider: the engine the node containers were made on (as the docker CLI found it), and its context. */
  endpoint?: string;
  dockerContext?: string;
  /** EC2: the life of each node (part of its launch token), raised when its instance died or was terminated. */
  lives?: Record<string, number>;
  /** NodeID of each machine as it last joined: a node of the swarm listed here and reported by no host is stale. */
  nodeIds?: Record<string, string>;
  /** docker provider: what the nodes are made from (the Debian suite of the node image, or an image of your own). */
  engineSuite?: string;
  nodeImage?: string;
  /** docker provider: the fixed address of each node container on the cluster network (by its slot). */
  addresses?: Record<string, string>;
  /** When `swarmup stop` stopped the cluster's machines (or engines); cleared when they are started again. */
  stoppedAt?: string;
  /** The swarm's default address pool as swarmup chose it, so a run that did not get to init keeps its choice. */
  addrPool?: string[];
  /** NodeIDs of a swarm that existed before swarmup adopted it: down never makes them leave. */
  preexisting?: string[];
  /** multipass provider: the VMs launched for the cluster (a stopped VM's owner marker cannot be read back). */
  machines?: string[];
  /** The node labels swarmup set, per host: `up` removes a label only when it is recorded here (never one set by hand). */
  labels?: Record<string, Record<string, string>>;
  /** Hosts joining drained (to get their labels first), until they are made active: a later up activates them. */
  joinedDrained?: string[];
  /** ssh provider: the hosts of the last run, so a host taken out of the inventory can still be made to leave. */
  hosts?: HostSpec[];
  updatedAt: string;
}

/** What became of a removed cluster's backups: kept in a folder, or deleted (`down --delete-backups`). */
export interface BackupsOutcome {
  files: number;
  keptIn?: string;
  deleted?: true;
}

export function swarmupHome(): string {
  return process.env.SWARMUP_HOME || join(homedir(), '.swarmup');
}

/** `$SWARMUP_HOME/<cluster>/`: folder 0700, every file 0600. */
export class StateStore {
  readonly dir: string;
  constructor(readonly cluster: string) {
    this.dir = join(swarmupHome(), cluster);
  }

  exists(): boolean {
    return existsSync(join(this.dir, 'state.json'));
  }

  ensure(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  read(): ClusterState | undefined {
    const file = join(this.dir, 'state.json');
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  }

  /** Record what is known; fields not given keep their recorded value. */
  write(state: Omit<ClusterState, 'updatedAt'>): void {
    this.ensure();
    const merged = { ...this.read(), ...state, updatedAt: new Date().toISOString() };
    this.writeFile('state.json', JSON.stringify(merged, null, 2) + '\n');
  }

  knownHosts(): KnownHostsFile {
    return new KnownHostsFile(join(this.dir, 'known_hosts'));
  }

  /** Where the cluster's own private key is (or will be); looking creates nothing. */
  clusterKeyPath(): string {
    return join(this.dir, 'id_ed25519');
  }

  /**
   * The cluster's own SSH key pair: made once (by the commands that create machines), private key 0600. The
   * machines trust only that private key, so it is never replaced: a missing public key is derived from it again,
   * and a private key that cannot be read is an error naming its file (exit 2), never a reason for a new pair.
   */
  clusterKey(): { privateKeyPath: string; publicKey: string } {
    this.ensure();
    const priv = this.clusterKeyPath();
    const pub = join(this.dir, 'id_ed25519.pub');
    const comment = `swarmup-${this.cluster}`;
    if (!existsSync(priv)) {
      const pair = generateEd25519(comment);
      // Created only where no private key is, even one another run wrote meanwhile (then its public key is used).
      if (this.createFile('id_ed25519', pair.private)) this.writeFile('id_ed25519.pub', pair.public + '\n');
    }
    if (!existsSync(pub)) {
      let derived: string;
      try {
        derived = publicKeyOf(readFileSync(priv, 'utf8'), comment);
      } catch (err) {
        throw new InputError(
          `${priv}: the cluster's private key cannot be read (${errorMessage(err)}) and its public key ` +
            `${pub} is missing; the cluster's machines trust only this key, so no new one is made: put back a ` +
            'readable copy of it (or its .pub file)',
        );
      }
      this.writeFile('id_ed25519.pub', derived + '\n');
    }
    return { privateKeyPath: priv, publicKey: readFileSync(pub, 'utf8').trim() };
  }

  /**
   * The swarm's unlock key (autolock), in a file of its own (0600, written whole), never in state.json: `ls` and
   * every other reader of the state leave it alone; only `swarmup unlock-key` prints it.
   */
  unlockKeyPath(): string {
    return join(this.dir, 'unlock-key');
  }

  readUnlockKey(): string | undefined {
    const file = this.unlockKeyPath();
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8').trim() || undefined;
  }

  /** Keep the current key; undefined (autolock turned off) removes the file. */
  writeUnlockKey(key: string | undefined): void {
    if (key === undefined) {
      rmSync(this.unlockKeyPath(), { force: true });
      return;
    }
    this.ensure();
    this.writeFile('unlock-key', key + '\n');
  }

  /** The cluster's backup archives (`backups/` in its state folder), by name. */
  backupFiles(): string[] {
    return backupFiles(join(this.dir, 'backups'));
  }

  /**
   * The state folder goes; its backups are kept (moved beside the state home, see kept-backups.ts) unless
   * `deleteBackups`. Says what became of them (undefined: there were none).
   */
  remove(opts: { deleteBackups?: boolean } = {}): BackupsOutcome | undefined {
    const files = this.backupFiles().length;
    const keptIn = opts.deleteBackups
      ? undefined
      : keepBackups(join(this.dir, 'backups'), swarmupHome(), this.cluster, new Date(), this.unlockKeyPath());
    rmSync(this.dir, { recursive: true, force: true });
    if (files === 0) return undefined;
    return keptIn ? { files, keptIn } : { files, deleted: true };
  }

  /** Created whole, only when no file of that name exists (false then). */
  private createFile(name: string, content: string): boolean {
    return createWith(join(this.dir, name), content);
  }

  /** Written whole or not at all: a temporary file beside it, then renamed over it. */
  private writeFile(name: string, content: string): void {
    const file = join(this.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, content, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }
}
