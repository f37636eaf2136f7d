import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import type { SwarmActionContext } from '../swarm/apply-action.ts';

/** Record the cluster (and its swarm, once there is one), so later commands know it even after a failure. */
export function recordCluster(ctx: PlaybookContext, clusterId?: string): void {
  ctx.state.write({
    name: ctx.cluster.name,
    provider: ctx.cluster.provider,
    managers: ctx.cluster.managers,
    workers: ctx.cluster.workers,
    ...(clusterId ? { clusterId } : {}),
  });
}

export async function readClusterId(ctx: PlaybookContext, host: Machine): Promise<string | undefined> {
  try {
    const info = (await (await ctx.connection(host)).docker.info()) as {
      Swarm?: { Cluster?: { ID?: string } };
    };
    return info.Swarm?.Cluster?.ID || undefined;
  } catch {
    return undefined;
  }
}

/** The state folder's unlock key file, as the swarm applier keeps it. */
export function unlockKeysOf(ctx: PlaybookContext): NonNullable<SwarmActionContext['unlockKeys']> {
  return { read: () => ctx.state.readUnlockKey(), write: (key) => ctx.state.writeUnlockKey(key) };
}
