import type Docker from 'dockerode';
import type { ClusterSpec, Role } from '../config/cluster.ts';
import { errorMessage, InputError, StepError } from '../errors.ts';
import type { Machine, Provider } from '../providers/provider.ts';
import type { StateStore } from '../state/store.ts';
import type { ConnectionPool } from '../transport/pool.ts';
import type { SshConnection } from '../transport/ssh-connection.ts';
import { CommandError, type ExecResult } from '../transport/ssh-exec.ts';
import { quote } from '../transport/quote.ts';
import type { Reporter, Task } from './events.ts';

/** Which hosts a step runs on: all, by role, by name, or by a test of your own. */
export type HostSelector = 'all' | 'managers' | 'workers' | string[] | ((host: Machine) => boolean);

/** A host as a step sees it: its inventory entry plus the shared connection. */
export interface HostHandle {
  readonly name: string;
  readonly host: Machine;
  /**
   * Run a command; throws (naming host, command and output) on a non-zero exit. Given as an array, every word is
   * shell-quoted; given as a string, it is run as written (build it with the `sh` tag to quote values).
   */
  run(command: string | string[], opts?: { stdin?: string; deadlineMs?: number }): Promise<ExecResult>;
  /** Run a command and return its result whatever the exit code. */
  exec(command: string | string[], opts?: { stdin?: string; deadlineMs?: number }): Promise<ExecResult>;
  /** The host's Docker Engine API over the same SSH connection. */
  docker(): Promise<Docker>;
  log(message: string): void;
}

export interface StepOptions {
  /** One host at a time (a rolling change), instead of all in parallel. */
  serial?: boolean;
}

export interface RunOptions {
  dryRun: boolean;
  until?: 'provision' | 'engine' | 'swarm';
  yes: boolean;
  /** Join the hosts to a swarm that existed before swarmup touched them (ssh inventories). */
  adopt?: boolean;
  /** Make a new swarm where the recorded one is gone (no host is a member of it any more). */
  newSwarm?: boolean;
  /** `down --delete-backups`: the cluster's backups go with its state folder instead of being kept. */
  deleteBackups?: boolean;
}

/** Changes applied so far in one command, shared by every context of that command (the summary's `changes`). */
export interface ChangeLog {
  count: number;
}

/**
 * Everything a playbook works with; passed in, never global. Its hosts are fixed: a step on other hosts works on
 * `withHosts(...)`, a context that shares the connections, the reporter and the count of changes.
 */
export class PlaybookContext {
  constructor(
    readonly cluster: ClusterSpec,
    readonly provider: Provider,
    readonly state: StateStore,
    readonly pool: ConnectionPool,
    readonly reporter: Reporter,
    readonly options: RunOptions,
    private readonly inventory: readonly Machine[] = [],
    readonly changeLog: ChangeLog = { count: 0 },
  ) {}

  get hosts(): readonly Machine[] {
    return this.inventory;
  }

  /** Actions applied so far by the command. */
  get changes(): number {
    return this.changeLog.count;
  }

  /** Count applied changes (a machine created, a step run, a node joined). */
  changed(n = 1): void {
    this.changeLog.count += n;
  }

  withHosts(machines: readonly Machine[]): PlaybookContext {
    return new PlaybookContext(
      this.cluster,
      this.provider,
      this.state,
      this.pool,
      this.reporter,
      this.options,
      machines,
      this.changeLog,
    );
  }

  /** Static roles for selection: explicit roles, then auto hosts fill the manager seats in inventory order. */
  roleOf(host: Machine): Role {
    if (host.role !== 'auto') return host.role;
    const explicit = this.inventory.filter((h) => h.role === 'manager').length;
    const autos = this.inventory.filter((h) => h.role === 'auto');
    return autos.indexOf(host) < this.cluster.managers - explicit ? 'manager' : 'worker';
  }

  select(selector: HostSelector = 'all'): Machine[] {
    if (selector === 'all') return [...this.inventory];
    if (selector === 'managers') return this.inventory.filter((h) => this.roleOf(h) === 'manager');
    if (selector === 'workers') return this.inventory.filter((h) => this.roleOf(h) === 'worker');
    if (typeof selector === 'function') return this.inventory.filter(selector);
    const unknown = selector.filter((n) => !this.inventory.some((h) => h.name === n));
    if (unknown.length > 0) throw new InputError(`no host named ${unknown.join(', ')} in the inventory`);
    return this.inventory.filter((h) => selector.includes(h.name));
  }

  connection(host: Machine): Promise<SshConnection> {
    return this.pool.get(host);
  }

  handle(host: Machine): HostHandle {
    const conn = () => this.connection(host);
    return {
      name: host.name,
      host,
      run: async (command, opts) => (await conn()).run(toShell(command), opts),
      exec: async (command, opts) => (await conn()).exec(toShell(command), opts),
      docker: async () => (await conn()).docker,
      log: (message) => this.reporter.emit({ event: 'log', host: host.name, message }),
    };
  }

  /**
   * Run `fn` on every selected host: in parallel by default, one at a time with `serial`. Every host's failure is
   * reported with the host, the step and the cause; results come back per host name.
   */
  async step<T>(
    title: string,
    selector: HostSelector,
    fn: (h: HostHandle) => Promise<T>,
    opts: StepOptions = {},
  ): Promise<Map<string, T>> {
    const results = new Map<string, T>();
    const tasks: Task[] = this.select(selector).map((host) => ({
      title: host.name,
      run: async () => {
        try {
          results.set(host.name, await fn(this.handle(host)));
        } catch (err) {
          if (err instanceof StepError || err instanceof InputError) throw err;
          throw new StepError(host.name, title, err instanceof CommandError ? err.detail : errorMessage(err));
        }
      },
    }));
    await this.reporter.tasks(title, tasks, { concurrent: !opts.serial });
    return results;
  }

  tasks(title: string, tasks: Task[], opts: { concurrent: boolean }): Promise<void> {
    return this.reporter.tasks(title, tasks, opts);
  }

  log(message: string): void {
    this.reporter.info(message);
  }
}

function toShell(command: string | string[]): string {
  return typeof command === 'string' ? command : command.map(quote).join(' ');
}

export interface Playbook<R = unknown> {
  name: string;
  description?: string;
  run(ctx: PlaybookContext): Promise<R>;
}

/** Declare a playbook: a typed identity, so a playbook file is plain TypeScript with checked types. */
export function definePlaybook<R>(playbook: Playbook<R>): Playbook<R> {
  return playbook;
}
