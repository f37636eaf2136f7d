import type { HostSpec, Role } from '../config/cluster.ts';
import type { SeenNetwork } from '../net/networks.ts';
import type { PermissionCheck } from './permission-report.ts';

/** A machine ready to be reached over SSH: where, as whom, and the address the swarm should use for it. */
export type Machine = HostSpec;

export interface ProgressSink {
  (message: string): void;
}

/** A machine the cluster should have: `<cluster>-manager-N`, `<cluster>-worker-N` for created machines. */
export interface NodeWanted {
  name: string;
  role: Role;
}

/**
 * A machine of the cluster as the provider sees it, in any state. `running` machines can be reached (once `reach`
 * has their SSH target); `stopped` ones can be started; `failed` ones are gone for good (an EC2 instance that died
 * while pending) and are replaced.
 */
export interface MachineListing {
  name: string;
  role: Role;
  state: 'running' | 'starting' | 'stopped' | 'failed';
  /** Why a machine is failed or stopped, as the provider says it (EC2's StateReason). */
  reason?: string;
}

/**
 * Where machines come from: a per-machine driver (docker-machine's Driver). Creating and removing machines are
 * actions of the cluster plan, so a provider only lists, creates one, starts one, removes one, and removes all;
 * configuring the machine (engine, swarm) is done over SSH by the plan's other parts.
 */
export interface Provider {
  readonly name: string;
  /** Whether the machines are created (docker, ec2) or taken as given (ssh). */
  readonly createsMachines: boolean;
  /** Machines come with an engine that starts by itself (worth waiting for rather than installing). */
  readonly enginePreinstalled: boolean;
  /** The machines the cluster should have, in inventory order (managers first for created machines). */
  wanted(): NodeWanted[];
  /** The cluster's machines as they are now, in any state; changes nothing (and creates nothing locally). */
  list(): Promise<MachineListing[]>;
  /**
   * SSH targets of the named machines (default: every running one), in `wanted()` order then the rest. Waits,
   * bounded, for machines that were just created or started to run and have their addresses.
   */
  reach(names?: string[], progress?: ProgressSink): Promise<Machine[]>;
  /**
   * Shared resources every new machine needs (node image and network; key pair and security group), made where
   * missing. Called before the first create or start of a run. Returns what it created, one line each.
   */
  prepare(progress: ProgressSink): Promise<string[]>;
  /**
   * Optional (providers whose cloud can say so): whether the credentials may make every change the provider makes,
   * asked without changing anything, here or remotely. `plan` reports it; `up` refuses (exit 2) on a denial
   * before its first change.
   */
  checkPermissions?(): Promise<PermissionCheck[]>;
  /**
   * Optional: the IPv4 networks the machines live among, as the provider sees them (EC2: the VPC's blocks; docker:
   * the local engine's networks), so the swarm's address pool overlaps none. Changes nothing.
   */
  seenNetworks?(): Promise<SeenNetwork[]>;
  /** Create one machine (it starts running). */
  create(node: NodeWanted, progress: ProgressSink): Promise<void>;
  /** Start one stopped machine. */
  start(name: string, progress: ProgressSink): Promise<void>;
  /**
   * Optional (providers that make machines): stop one machine, its disk kept, and wait until it is stopped
   * (`swarmup stop`). A machine that is stopped already is left as it is.
   */
  stop?(name: string, progress: ProgressSink): Promise<void>;
  /** Destroy one machine and what belongs to it alone (its disk), and wait until it is gone. */
  remove(name: string, progress: ProgressSink): Promise<void>;
  /** Where the provider looks for the cluster's machines (an engine endpoint; a region), for messages. */
  location(): Promise<string>;
  /** docker: the endpoint of the engine the machines run on (what the cluster's record names). */
  readonly endpoint?: string;
  /**
   * Optional (providers that create resources): what removeAll would remove now, one line per kind
   * (`containers: lab-manager-1, lab-worker-1`), found as removeAll finds it, changing nothing. `down` shows it.
   */
  removable?(): Promise<string[]>;
  /** Remove everything the provider created for the cluster, and nothing else. */
  removeAll(progress: ProgressSink): Promise<{ removed: string[] }>;
}
