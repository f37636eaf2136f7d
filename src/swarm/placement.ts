/**
 * Services' placement constraints evaluated against nodes as the swarm's scheduler does (swarmkit's constraint
 * package): `key==value` or `key!=value`, keys and values compared without case but for label names; a label a node
 * does not have reads as "". Pure: it works on GET /nodes and GET /services answers.
 */

/** A node as GET /nodes gives it, as far as placement reads it. */
export interface SwarmNodeJson {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> | null };
  Description?: { Hostname?: string; Engine?: { Labels?: Record<string, string> | null } };
  Status?: { State?: string };
}

/** A service as GET /services gives it, as far as drain reads it. */
export interface SwarmServiceJson {
  ID: string;
  Spec?: {
    Name?: string;
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate?: { Placement?: { Constraints?: string[] | null } };
  };
}

/** Does a node satisfy a constraint: yes, no, or swarmup cannot tell (a key it does not evaluate). */
export type Verdict = 'match' | 'no-match' | 'unknown';

interface Constraint {
  key: string;
  op: '==' | '!=';
  value: string;
}

export function parseConstraint(expr: string): Constraint | undefined {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(==|!=)\s*(.*?)\s*$/.exec(expr);
  if (!m) return undefined;
  return { key: m[1]!, op: m[2] as '==' | '!=', value: m[3]! };
}

/** The value a node has for a constraint's key; undefined: a key swarmup does not evaluate. */
function valueOf(key: string, node: SwarmNodeJson): string | undefined {
  const lower = key.toLowerCase();
  if (lower === 'node.id') return node.ID;
  if (lower === 'node.hostname') return node.Description?.Hostname ?? '';
  if (lower === 'node.role') return node.Spec?.Role ?? '';
  // Label names keep their case (as the scheduler reads them); the prefix does not.
  if (lower.startsWith('node.labels.')) return node.Spec?.Labels?.[key.slice('node.labels.'.length)] ?? '';
  if (lower.startsWith('engine.labels.'))
    return node.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)] ?? '';
  return undefined;
}

export function constraintVerdict(expr: string, node: SwarmNodeJson): Verdict {
  const c = parseConstraint(expr);
  if (!c) return 'unknown';
  const value = valueOf(c.key, node);
  if (value === undefined) return 'unknown';
  const equal = value.toLowerCase() === c.value.toLowerCase();
  return equal === (c.op === '==') ? 'match' : 'no-match';
}

/** Every constraint must hold: no-match if one fails, unknown if one cannot be told and none fails. */
export function nodeVerdict(constraints: readonly string[], node: SwarmNodeJson): Verdict {
  const verdicts = constraints.map((c) => constraintVerdict(c, node));
  if (verdicts.includes('no-match')) return 'no-match';
  return verdicts.includes('unknown') ? 'unknown' : 'match';
}

export function constraintsOf(s: SwarmServiceJson): string[] {
  return s.Spec?.TaskTemplate?.Placement?.Constraints ?? [];
}

export function serviceName(s: SwarmServiceJson): string {
  return s.Spec?.Name ?? s.ID.slice(0, 12);
}

/** Replicated services that want at least one task (the ones a drain must find another node for). */
export function wantsReplicas(s: SwarmServiceJson): boolean {
  return (s.Spec?.Mode?.Replicated?.Replicas ?? 0) > 0;
}

/** A node new tasks may land on: active and ready. */
export function takesTasks(n: SwarmNodeJson): boolean {
  return n.Spec?.Availability === 'active' && n.Status?.State === 'ready';
}

export interface PlacementCheck {
  /** Services that some node can take now and none could once the node is drained. */
  refusals: Array<{ service: string; constraints: string[] }>;
  /** Constraints swarmup could not evaluate that the answer rests on (counted as "may match"). */
  notes: string[];
}

/**
 * Would draining `nodeId` leave a replicated service with no node its constraints allow? Only services that some
 * node takes now are refused (a service no node can take is not the drain's doing); a constraint swarmup cannot
 * evaluate counts as "may match", and is named when the answer rests on it.
 */
export function drainPlacementCheck(
  nodeId: string,
  nodes: readonly SwarmNodeJson[],
  services: readonly SwarmServiceJson[],
): PlacementCheck {
  const check: PlacementCheck = { refusals: [], notes: [] };
  const open = nodes.filter(takesTasks);
  for (const s of services.filter(wantsReplicas)) {
    const constraints = constraintsOf(s);
    const verdicts = new Map(open.map((n) => [n.ID, nodeVerdict(constraints, n)]));
    const possible = (id: string) => verdicts.get(id) !== 'no-match';
    const before = open.filter((n) => possible(n.ID));
    const after = before.filter((n) => n.ID !== nodeId);
    if (before.length > 0 && after.length === 0) {
      check.refusals.push({ service: serviceName(s), constraints });
      continue;
    }
    if (after.length > 0 && after.every((n) => verdicts.get(n.ID) === 'unknown')) {
      const unknown = constraints.filter((c) => after.some((n) => constraintVerdict(c, n) === 'unknown'));
      check.notes.push(
        `service ${serviceName(s)}: swarmup cannot evaluate ${unknown.map((c) => `"${c}"`).join(', ')}; ` +
          `counted as may match on ${after.map(hostnameOf).join(', ')}`,
      );
    }
  }
  return check;
}

export function hostnameOf(n: SwarmNodeJson): string {
  return n.Description?.Hostname ?? n.ID.slice(0, 12);
}
