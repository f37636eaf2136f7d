import type { HostSpec } from '../config/cluster.ts';

/** A machine ready to be reached over SSH: where, as whom, and the address the swarm should use for it. */
export type Machine = HostSpec;

export interface ProgressSink {
  (message: string): void;
}

/**
 * Where machines come from. Creating machines is kept apart from configuring them (docker-machine's Driver vs
 * Provisioner): a provider only creates, lists and destroys; SSH steps do the rest.
 */
export interface Provider {
  readonly name: string;
  /** Whether `up` creates the machines (docker, ec2) or takes them as given (ssh). */
  readonly createsMachines: boolean;
  /** Machines come with an engine that starts by itself (worth waiting for rather than installing). */
  readonly enginePreinstalled: boolean;
  /** Make sure every wanted machine exists and runs; idempotent. Returns them in inventory order. */
  provision(progress: ProgressSink): Promise<{ machines: Machine[]; created: number }>;
  /** For `plan`: the machines that exist and those `provision` would create; changes nothing. */
  plannedMachines(): Promise<{
    existing: Machine[];
    missing: Array<{ name: string; role: 'manager' | 'worker' }>;
  }>;
  /** The machines as they are now; changes nothing. */
  machines(): Promise<Machine[]>;
  /** Remove everything the provider created for the cluster, and nothing else. */
  destroy(progress: ProgressSink): Promise<{ removed: string[] }>;
}
