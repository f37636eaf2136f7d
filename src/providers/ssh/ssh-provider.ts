import type { ClusterSpec } from '../../config/cluster.ts';
import type { Machine, Provider } from '../provider.ts';

/** Machines the user already has, listed in the config file. Nothing is created or destroyed. */
export class SshProvider implements Provider {
  readonly name = 'ssh';
  readonly enginePreinstalled = false;
  readonly createsMachines = false;
  constructor(private readonly spec: ClusterSpec) {}

  async provision(): Promise<{ machines: Machine[]; created: number }> {
    return { machines: this.spec.hosts, created: 0 };
  }

  async plannedMachines(): Promise<{ existing: Machine[]; missing: [] }> {
    return { existing: this.spec.hosts, missing: [] };
  }

  async machines(): Promise<Machine[]> {
    return this.spec.hosts;
  }

  async destroy(): Promise<{ removed: string[] }> {
    return { removed: [] };
  }
}
