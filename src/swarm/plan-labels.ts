import type { Role } from '../config/cluster.ts';
import type { Labels } from '../config/labels.ts';
import type { Action } from './actions.ts';

/** The node labels the config declares: per role, and per host (a host's own win). */
export interface LabelsWanted {
  managers?: Labels;
  workers?: Labels;
  hosts?: Record<string, Labels>;
}

/** What one node's labels become: labels to add or change, and keys to remove. */
export interface LabelChange {
  set: Labels;
  remove: string[];
}

/** The labels a host's node should carry with the role it gets. Pure. */
export function wantedLabels(host: string, role: Role, wanted: LabelsWanted | undefined): Labels {
  return { ...(role === 'manager' ? wanted?.managers : wanted?.workers), ...wanted?.hosts?.[host] };
}

/**
 * Compare a node's labels with the declared ones and with the record of what swarmup set there: every declared
 * label missing or with another value is set; a label swarmup set earlier and no longer declared is removed, but
 * only while it still has the value swarmup gave it (someone changed it since: theirs now). A label swarmup never
 * set is never removed. Pure.
 */
export function labelChange(wanted: Labels, current: Labels, recorded: Labels): LabelChange {
  const set = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
  const remove = Object.keys(recorded)
    .filter((k) => !(k in wanted) && k in current && current[k] === recorded[k])
    .sort();
  return { set, remove };
}

/** A `label` action for a node when its labels change; none when they are as wanted. */
export function labelAction(
  host: string,
  nodeId: string,
  change: LabelChange,
  activate = false,
): Extract<Action, { kind: 'label' }> | undefined {
  if (Object.keys(change.set).length === 0 && change.remove.length === 0 && !activate) return undefined;
  return {
    kind: 'label',
    host,
    nodeId,
    set: change.set,
    remove: change.remove,
    ...(activate ? { activate } : {}),
  };
}

/** What swarmup has set on a node after an action: the record, less what it removed, plus what it set. Pure. */
export function recordAfter(recorded: Labels | undefined, change: LabelChange): Labels {
  const kept = Object.entries(recorded ?? {}).filter(([k]) => !change.remove.includes(k));
  return { ...Object.fromEntries(kept), ...change.set };
}
