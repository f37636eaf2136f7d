import type { Role } from '../config/cluster.ts';
import type { Labels } from '../config/labels.ts';
import { formatLabels } from '../config/labels.ts';

/**
 * One change the cluster plan makes. Pure data: it names hosts, never addresses (a machine's address is known only
 * once it exists), so `plan` prints exactly what `up` then applies. src/cluster/apply.ts carries each one out.
 */
export type Action =
  // machines (provider)
  | { kind: 'create-machine'; host: string; role: Role }
  | { kind: 'start-machine'; host: string }
  | { kind: 'remove-machine'; host: string }
  // engines (over SSH)
  | { kind: 'engine'; host: string; steps: string[] }
  // swarm (Docker Engine API)
  | { kind: 'leave'; host: string; reason: string }
  /** `labels`: set on the new swarm's first node right after init, before anything can be scheduled. */
  | ({ kind: 'init'; host: string; labels?: Labels } & InitSettings)
  | { kind: 'remove-node'; nodeId: string; hostname: string; demoteFirst: boolean; reason: string }
  /** With `labels`: joins drained, gets its labels and is activated in one node update (no task lands before). */
  | { kind: 'join'; host: string; role: Role; dataPathAddr?: string; labels?: Labels }
  | { kind: 'promote'; host: string; nodeId: string }
  | { kind: 'demote'; host: string; nodeId: string }
  | { kind: 'drain'; host: string; nodeId: string }
  /** Back to active after a drain (`swarmup activate`, `drain --for`): the scheduler may place tasks there again. */
  | { kind: 'activate'; host: string; nodeId: string }
  | { kind: 'autolock'; enable: boolean }
  /**
   * A member's node labels: `set` added or changed, `remove` (labels swarmup set before) taken off; `activate`: a
   * node a run joined drained and stopped before activating is made active in the same update.
   */
  | { kind: 'label'; host: string; nodeId: string; set: Labels; remove: string[]; activate?: true }
  /**
   * What a smoke test killed before its cleanup left (its global service publishes a host-mode port on every node):
   * removed through `manager` (the service, its network) and on each host (task containers, the probe image).
   */
  | { kind: 'remove-smoke'; manager?: string; hosts: string[]; found: string[] }
  /** Both join tokens unless one is named (`swarmup rotate-tokens --worker`). */
  | { kind: 'rotate-tokens'; tokens?: 'worker' | 'manager' }
  // day 2, not planned by up: `swarmup unlock`, `swarmup unlock-key --rotate`
  | { kind: 'unlock'; host: string }
  | { kind: 'rotate-unlock-key' }
  /** `swarmup rotate-ca`: a new root CA made by the swarm (docker swarm ca --rotate). */
  | { kind: 'rotate-ca' }
  // day 2: `swarmup upgrade` (src/cluster/upgrade.ts applies it, one node at a time or a batch of workers)
  | { kind: 'upgrade-engine'; host: string; role: Role; from: string; to: string };

/** What `swarm init` is made with (src/cluster/init-options.ts); absent fields: Docker's defaults. */
export interface InitSettings {
  defaultAddrPool?: string[];
  subnetSize?: number;
  dataPathPort?: number;
  dataPathAddr?: string;
}

/** The stages of `up`, in order; `--until` cuts this list. */
export const stages = ['provision', 'engine', 'swarm'] as const;
export type Stage = (typeof stages)[number];

/** Actions of one phase run one at a time (serial) or all at once (parallel); phases run in order. */
export interface Phase {
  stage: Stage;
  title: string;
  mode: 'serial' | 'parallel';
  actions: Action[];
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'create-machine':
      return `${a.host}: create ${a.role} machine`;
    case 'start-machine':
      return `${a.host}: start machine`;
    case 'remove-machine':
      return `${a.host}: remove machine`;
    case 'engine':
      return `${a.host}: engine: ${a.steps.join('; ')}`;
    case 'leave':
      return `${a.host}: leave (${a.reason})`;
    case 'init': {
      const settings = [
        ...(a.defaultAddrPool ? [`address pool ${a.defaultAddrPool.join(', ')}`] : []),
        ...(a.subnetSize !== undefined ? [`/${a.subnetSize} subnets`] : []),
        ...(a.dataPathPort !== undefined ? [`data path port ${a.dataPathPort}`] : []),
        ...(a.dataPathAddr ? [`data path address ${a.dataPathAddr}`] : []),
      ];
      const labels = a.labels && Object.keys(a.labels).length > 0 ? `; labels ${formatLabels(a.labels)}` : '';
      return `${a.host}: init swarm${settings.length > 0 ? ` (${settings.join(', ')})` : ''}${labels}`;
    }
    case 'remove-node':
      return `remove node ${a.hostname} (${a.nodeId.slice(0, 12)})${a.demoteFirst ? ', demoted first' : ''}: ${a.reason}`;
    case 'join':
      return (
        `${a.host}: join as ${a.role}${a.dataPathAddr ? ` (data path address ${a.dataPathAddr})` : ''}` +
        (a.labels ? `, drained until its labels ${formatLabels(a.labels)} are set` : '')
      );
    case 'promote':
      return `${a.host}: promote to manager`;
    case 'demote':
      return `${a.host}: demote to worker`;
    case 'drain':
      return `${a.host}: drain (its tasks move to other nodes)`;
    case 'activate':
      return `${a.host}: activate (new tasks may be placed on it again)`;
    case 'autolock':
      return a.enable
        ? 'turn autolock on (managers need the unlock key after an engine restart)'
        : 'turn autolock off';
    case 'label':
      return `${a.host}: labels: ${[
        ...(Object.keys(a.set).length > 0 ? [`set ${formatLabels(a.set)}`] : []),
        ...(a.remove.length > 0 ? [`remove ${a.remove.join(', ')}`] : []),
        ...(a.activate
          ? ['activate (it joined drained and an earlier run stopped before activating it)']
          : []),
      ].join('; ')}`;
    case 'remove-smoke':
      return `remove what an interrupted smoke test left: ${a.found.join(', ')}`;
    case 'rotate-tokens':
      return a.tokens ? `rotate the ${a.tokens} join token` : 'rotate worker and manager join tokens';
    case 'unlock':
      return `${a.host}: unlock the manager with the unlock key`;
    case 'rotate-unlock-key':
      return 'rotate the unlock key';
    case 'rotate-ca':
      return "rotate the swarm's root CA (every node gets a certificate of the new one)";
    case 'upgrade-engine':
      return `${a.host}: upgrade the engine ${a.from} -> ${a.to} (${a.role}: drained, stopped, installed, started, back)`;
  }
}

/** The host an action is about, for messages (the entry manager for node-list changes). */
export function actionHost(a: Action, entry: string): string {
  return 'host' in a ? a.host : entry;
}

/**
 * What still runs after the phase at `failed` failed (pure): after workers joining at once, the rotation of the
 * tokens they joined with (one worker's failure neither stopped the others nor leaves the tokens valid); after
 * anything else, nothing.
 */
export function phasesAfterFailure(phases: readonly Phase[], failed: number): Phase[] {
  const joins = phases[failed]?.actions.every((a) => a.kind === 'join' && a.role === 'worker');
  return joins
    ? phases
        .slice(failed + 1)
        .filter((p) => p.actions.length > 0 && p.actions.every((a) => a.kind === 'rotate-tokens'))
    : [];
}

export function countActions(phases: Phase[]): number {
  return phases.reduce((n, p) => n + p.actions.length, 0);
}
