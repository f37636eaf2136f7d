import type Docker from 'dockerode';
import { errorMessage, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import {
  initSwarm,
  joinSwarm,
  leaveSwarm,
  readJoinTokens,
  removeNode,
  rotateJoinTokens,
  setNodeRole,
  waitForNode,
  type JoinTokens,
} from './engine.ts';
import type { Action, SwarmPlan } from './plan.ts';

const MANAGER_READY_TIMEOUT_MS = 90_000;

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'leave':
      return `${a.host}: leave (${a.reason})`;
    case 'init':
      return `${a.host}: init swarm, advertise ${a.advertiseAddress}`;
    case 'remove-node':
      return `remove stale node ${a.hostname} (${a.nodeId.slice(0, 12)})${a.demoteFirst ? ', demoted first' : ''}`;
    case 'join':
      return `${a.host}: join as ${a.role}`;
    case 'promote':
      return `${a.host}: promote to manager`;
    case 'demote':
      return `${a.host}: demote to worker`;
    case 'rotate-tokens':
      return 'rotate worker and manager join tokens';
  }
}

/**
 * Carry out a plan, phase by phase. Join tokens are read from the entry manager once, kept in this closure only,
 * and rotated after the last join. Returns the NodeID of every host that joined (or left: ''), so verification
 * needs no second read of every host.
 */
export async function applySwarmPlan(ctx: PlaybookContext, plan: SwarmPlan): Promise<Map<string, string>> {
  const nodeIds = new Map<string, string>();
  const hostOf = (name: string): Machine => ctx.hosts.find((h) => h.name === name)!;
  const dockerOf = async (name: string): Promise<Docker> => (await ctx.connection(hostOf(name))).docker;
  const entry = hostOf(plan.entry);
  const entryAddr = `${entry.advertiseAddress}:2377`;
  let tokens: JoinTokens | undefined;

  const apply = async (a: Action): Promise<void> => {
    const entryDocker = await dockerOf(plan.entry);
    switch (a.kind) {
      case 'leave':
        await leaveSwarm(await dockerOf(a.host));
        nodeIds.set(a.host, '');
        return;
      case 'init': {
        const docker = await dockerOf(a.host);
        await initSwarm(docker, a.advertiseAddress);
        nodeIds.set(a.host, await nodeIdOf(docker));
        return;
      }
      case 'remove-node':
        if (a.demoteFirst) {
          await setNodeRole(entryDocker, a.nodeId, 'worker');
          await waitForNode(
            entryDocker,
            a.nodeId,
            (n) => n.role === 'worker',
            'demoted',
            MANAGER_READY_TIMEOUT_MS,
          );
        }
        return removeNode(entryDocker, a.nodeId);
      case 'join': {
        tokens ??= await readJoinTokens(entryDocker);
        const docker = await dockerOf(a.host);
        await joinSwarm(
          docker,
          a.role === 'manager' ? tokens.manager : tokens.worker,
          a.advertiseAddress,
          entryAddr,
        );
        const nodeId = await nodeIdOf(docker);
        nodeIds.set(a.host, nodeId);
        if (a.role === 'manager') {
          await waitForNode(
            entryDocker,
            nodeId,
            (n) => n.state === 'ready' && n.reachability === 'reachable',
            'ready and reachable',
            MANAGER_READY_TIMEOUT_MS,
          );
        }
        return;
      }
      case 'promote':
        await setNodeRole(entryDocker, a.nodeId, 'manager');
        return waitForNode(
          entryDocker,
          a.nodeId,
          (n) => n.role === 'manager' && n.reachability === 'reachable',
          'reachable',
          MANAGER_READY_TIMEOUT_MS,
        );
      case 'demote':
        await setNodeRole(entryDocker, a.nodeId, 'worker');
        return waitForNode(
          entryDocker,
          a.nodeId,
          (n) => n.role === 'worker',
          'demoted',
          MANAGER_READY_TIMEOUT_MS,
        );
      case 'rotate-tokens':
        await rotateJoinTokens(entryDocker);
        tokens = undefined;
        return;
    }
  };

  for (const phase of plan.phases) {
    await ctx.tasks(
      phase.title,
      phase.actions.map((a) => ({
        title: describeAction(a),
        run: async () => {
          try {
            await apply(a);
          } catch (err) {
            const host = 'host' in a ? a.host : plan.entry;
            throw new StepError(host, describeAction(a), errorMessage(err));
          }
          ctx.changes++;
        },
      })),
      { concurrent: phase.mode === 'parallel' },
    );
  }
  return nodeIds;
}

async function nodeIdOf(docker: Docker): Promise<string> {
  return ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
}
