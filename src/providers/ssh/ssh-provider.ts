import type { ClusterSpec } from '../../config/cluster.ts';
import type { Machine, MachineListing, NodeWanted, Provider } from '../provider.ts';

/** Machines the user already has, listed in the config file. Nothing is created or destroyed. */
export class SshProvider implements Provider {
  readonly name = 'ssh';
  readonly enginePreinstalled = false;
  readonly createsMachines = false;
  constructor(private readonly spec: ClusterSpec) {}

  wanted(): NodeWanted[] {
    return this.spec.hosts.map((h) => ({ name: h.name, role: h.role === 'manager' ? 'manager' : 'worker' }));
  }

  /** The inventory's hosts are taken as running: whether they answer is found out by connecting. */
  async list(): Promise<MachineListing[]> {
    return this.wanted().map((n) => ({ ...n, state: 'running' }));
  }

  async reach(names?: string[]): Promise<Machine[]> {
    return this.spec.hosts.filter((h) => !names || names.includes(h.name));
  }

  async prepare(): Promise<string[]> {
    return [];
  }

  create(node: NodeWanted): Promise<void> {
    return Promise.reject(new Error(`${node.name}: the ssh provider creates no machines`));
  }

  start(name: string): Promise<void> {
    return Promise.reject(new Error(`${name}: the ssh provider starts no machines`));
  }

  /** A host taken out of the inventory is the user's machine: it leaves the swarm, and is otherwise kept. */
  async remove(): Promise<void> {}

  async location(): Promise<string> {
    return `the hosts of ${this.spec.configFile ?? 'the inventory'}`;
  }

  async removeAll(): Promise<{ removed: string[] }> {
    return { removed: [] };
  }
}
