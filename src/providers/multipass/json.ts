/**
 * Multipass's `list --format json` and `info --format json` output, read into one shape. Pure: the shapes are those
 * of Multipass's JSON formatter (src/client/cli/formatter/json_formatter.cpp; its test data in
 * tests/unit/test_data/formatters/json/, copied into test/fixtures/multipass/).
 */

/** A state as Multipass prints it (format_utils.cpp: status_string_for). */
export type VmState =
  | 'Running'
  | 'Stopped'
  | 'Deleted'
  | 'Starting'
  | 'Restarting'
  | 'Delayed Shutdown'
  | 'Suspending'
  | 'Suspended'
  | 'Unavailable'
  | 'Unknown';

export interface VmEntry {
  name: string;
  state: VmState;
  /** IPv4 addresses, the first on Multipass's own network (the one the host reaches). */
  ipv4: string[];
  /** `Ubuntu 24.04 LTS`; '' when the VM does not run. */
  release: string;
}

const STATES: readonly string[] = [
  'Running',
  'Stopped',
  'Deleted',
  'Starting',
  'Restarting',
  'Delayed Shutdown',
  'Suspending',
  'Suspended',
  'Unavailable',
  'Unknown',
];

function parseJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what}: not JSON: ${text.trim().slice(0, 200)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

function entry(name: string, raw: unknown, what: string): VmEntry {
  const r = (raw ?? {}) as Record<string, unknown>;
  const state = typeof r.state === 'string' && STATES.includes(r.state) ? (r.state as VmState) : 'Unknown';
  const ipv4 = Array.isArray(r.ipv4) ? r.ipv4.filter((a): a is string => typeof a === 'string') : [];
  if (!name) throw new Error(`${what}: an instance without a name`);
  return { name, state, ipv4, release: typeof r.release === 'string' ? r.release : '' };
}

/** `multipass list --format json`: `{"list": [{"name", "state", "ipv4": [...], "release"}]}`. */
export function parseList(text: string): VmEntry[] {
  const o = parseJson(text, 'multipass list');
  if (!Array.isArray(o.list)) throw new Error('multipass list: no "list" array');
  return o.list.map((x) => entry(String((x as { name?: unknown }).name ?? ''), x, 'multipass list'));
}

/** `multipass info --format json [NAME...]`: `{"errors": [], "info": {"<name>": {"state", "ipv4", ...}}}`. */
export function parseInfo(text: string): VmEntry[] {
  const o = parseJson(text, 'multipass info');
  if (!o.info || typeof o.info !== 'object') throw new Error('multipass info: no "info" object');
  // An entry without a state is a snapshot listing (`info --snapshots`), not an instance.
  return Object.entries(o.info as Record<string, unknown>)
    .filter(([, x]) => x && typeof x === 'object' && 'state' in x)
    .map(([name, x]) => entry(name, x, 'multipass info'));
}
