import type { Command } from 'commander';
import type { CliFlags, ClusterSpec } from '../config/cluster.ts';
import type { ConfigFile, ProviderName } from '../config/schema.ts';
import type { StateStore } from '../state/store.ts';
import type { Provider } from './provider.ts';

/** One cluster's resources found by `cleanup`, and whether they are to be deleted. */
export interface CleanupFound {
  where: string;
  cluster: string;
  summary: string;
  /** The resources' owner id (`swarmup.owner` / `swarmup:owner`); absent: no owner label (an older swarmup). */
  owner?: string;
  /** EC2: the region they are in; docker: the engine they are on (what a cluster's record is compared with). */
  region?: string;
  endpoint?: string;
  selected: boolean;
}

export interface CleanupRequest {
  /** Only this cluster (this state home's); else every cluster with no local state. */
  name?: string;
  /** Every owner's (and none's), not only this state home's: the orphans, or the cluster named. */
  anyOwner?: boolean;
  /** This state home's owner id; undefined when none was made yet (read, never made, by cleanup). */
  owner?: string;
  dryRun: boolean;
  region?: string;
  allRegions?: boolean;
  profile?: string;
  /** docker: `--docker-context`, the engine to look on (else as the docker CLI finds it). */
  dockerContext?: string;
  hasLocalState(cluster: string): boolean;
  progress(message: string): void;
  /** Asked once with what is selected, before anything is deleted; false stops. */
  confirm(selected: CleanupFound[]): Promise<boolean>;
}

/**
 * Everything swarmup knows of one provider, in one place (docker-machine's driver registration): its flags, its
 * part of the cluster spec, how to open its machine driver, and how to find its orphans. A new provider is one
 * folder with one descriptor, plus one line in registry.ts.
 */
export interface ProviderDescriptor {
  readonly name: ProviderName;
  /** Machines are made (and surplus ones destroyed) by swarmup; else they are the inventory's hosts. */
  readonly createsMachines: boolean;
  /** How long a first SSH connection may be retried (a machine that is still booting). */
  readonly sshRetryMs: number;
  /** Flags this provider adds: `all` for up, plan and scale; else the ones that find an existing cluster. */
  flags?(cmd: Command, all: boolean): void;
  /** This provider's part of the spec, from the file and the flags; throws InputError naming the field. */
  resolve?(
    file: ConfigFile | undefined,
    flags: CliFlags,
    where: (field: string) => string,
  ): Partial<ClusterSpec>;
  /** The machine driver; its modules (an SDK, a client) are loaded only here. */
  open(spec: ClusterSpec, state: StateStore, options: ProviderOptions): Promise<Provider>;
  /** `cleanup`: what this provider made for clusters, grouped by cluster; the selected ones deleted. */
  cleanup?(request: CleanupRequest): Promise<{ found: CleanupFound[]; removed: string[] }>;
}

/** Test hooks a provider may take (never set by the command line). */
export interface ProviderOptions {
  ec2?: import('./ec2/ec2-provider.ts').Ec2ProviderOptions;
}
