import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { InputError } from '../errors.ts';
import { InventoryBuilder, type Inventory, type Var } from './ansible-model.ts';

const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** Whether a YAML document is an Ansible inventory rather than swarmup's own file: judged by its shape. */
export function isAnsibleYaml(data: unknown): boolean {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const entries = Object.entries(data);
  if (entries.length === 0) return false;
  const groupLike = entries.every(
    ([, v]) =>
      v === null ||
      (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => GROUP_KEYS.includes(k))),
  );
  const ansibleKeys = entries.some(
    ([, v]) => v !== null && typeof v === 'object' && Object.keys(v).some((k) => GROUP_KEYS.includes(k)),
  );
  return groupLike && (ansibleKeys || entries.some(([k]) => k === 'all'));
}

export function parseYamlInventory(text: string, file: string): Inventory {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const lineOf = (n: unknown): number =>
    n && typeof n === 'object' && 'range' in n && Array.isArray((n as Node).range)
      ? lc.linePos((n as Node).range![0]).line
      : 1;
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new InputError(
      `${file}:${first.linePos?.[0]?.line ?? 1}: not valid YAML: ${first.message.split('\n')[0]}`,
    );
  }
  const b = new InventoryBuilder(file);
  const scalar = (n: unknown, what: string, line: number): string => {
    if (isScalar(n) && n.value !== null && typeof n.value !== 'object') return String(n.value);
    return b.fail(line, `${what}: expected a single value`);
  };
  const pairs = (n: unknown, what: string, line: number): Pair[] => {
    if (n === null || n === undefined || (isScalar(n) && n.value === null)) return [];
    if (!isMap(n)) return b.fail(isSeq(n) ? lineOf(n) : line, `${what}: expected a mapping`);
    return n.items as Pair[];
  };
  const varsOf = (n: unknown, what: string, line: number): Map<string, Var> => {
    const vars = new Map<string, Var>();
    for (const p of pairs(n, what, line)) {
      const l = lineOf(p.key);
      const key = scalar(p.key, what, l);
      // Only the connection variables are read as swarmup values; the rest (lists, maps) are the playbooks'.
      const value = isScalar(p.value) ? String(p.value.value ?? '') : '';
      vars.set(key, { value, line: lineOf(p.value) === 1 ? l : lineOf(p.value) });
    }
    return vars;
  };
  const readGroup = (name: string, def: unknown, line: number): void => {
    b.group(name, line);
    for (const p of pairs(def, `group ${name}`, line)) {
      const l = lineOf(p.key);
      const key = scalar(p.key, `group ${name}`, l);
      if (key === 'hosts') {
        for (const h of pairs(p.value, `${name}.hosts`, l)) {
          const hl = lineOf(h.key);
          b.host(scalar(h.key, `${name}.hosts`, hl), name, hl, varsOf(h.value, `host ${String(h.key)}`, hl));
        }
      } else if (key === 'vars') {
        for (const [k, v] of varsOf(p.value, `${name}.vars`, l)) b.group(name, l).vars.set(k, v);
      } else if (key === 'children') {
        for (const c of pairs(p.value, `${name}.children`, l)) {
          const cl = lineOf(c.key);
          const child = scalar(c.key, `${name}.children`, cl);
          b.child(name, child, cl);
          readGroup(child, c.value, cl);
        }
      } else b.fail(l, `group ${name}: "${key}" is not one of hosts, vars, children`);
    }
  };
  for (const p of pairs(doc.contents, 'the inventory', 1)) {
    const l = lineOf(p.key);
    readGroup(scalar(p.key, 'group name', l), p.value, l);
  }
  return b.done('yaml');
}

// ---------------------------------------------------------------------------------------------------------------
// Inventory -> swarmup config.
