import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { InputError } from '../errors.ts';
import { HOST_ADDRESS_RULE, isHostAddress } from './validate.ts';
import { managerCountProblem } from './policy.ts';
import type { ConfigFile, HostEntry } from './schema.ts';

/*
 * Ansible's inventories as swarmup input: its INI dialect and its YAML format, read into groups (with children),
 * hosts and variables, then turned into swarmup's own config (provider ssh, one host each). Pure: text in, config
 * out; every problem names the file and the line.
 */

/** A variable as the file sets it, with the line that set it. */
interface Var {
  value: string;
  line: number;
}

interface Group {
  name: string;
  line: number;
  children: Set<string>;
  vars: Map<string, Var>;
}

interface Host {
  name: string;
  line: number;
  groups: Set<string>;
  vars: Map<string, Var>;
}

/** What an inventory file holds, before roles are given. */
export interface Inventory {
  file: string;
  format: 'ini' | 'yaml';
  groups: Map<string, Group>;
  /** In the order they first appear. */
  hosts: Map<string, Host>;
}

/** Which groups are the managers and the workers (`--managers-group`, `--workers-group`). */
export interface GroupNames {
  managersGroup?: string;
  workersGroup?: string;
}

/** What was read, as `plan` shows it. */
export interface InventoryRead {
  file: string;
  format: 'Ansible INI' | 'Ansible YAML';
  managers: string[];
  workers: string[];
  /** Hosts of the file in neither group: not part of the cluster. */
  leftOut: string[];
}

class InventoryBuilder {
  readonly groups = new Map<string, Group>();
  readonly hosts = new Map<string, Host>();
  constructor(readonly file: string) {
    this.group('all', 0);
    this.group('ungrouped', 0);
    this.groups.get('all')!.children.add('ungrouped');
  }

  fail(line: number, message: string): never {
    throw new InputError(`${this.file}:${line}: ${message}`);
  }

  group(name: string, line: number): Group {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name))
      this.fail(line, `"${name}" is not a group name (letters, digits, "_", "." and "-")`);
    let g = this.groups.get(name);
    if (!g) {
      g = { name, line, children: new Set(), vars: new Map() };
      this.groups.set(name, g);
    } else if (g.line === 0) g.line = line;
    return g;
  }

  child(parent: string, child: string, line: number): void {
    this.group(child, line);
    if (child === 'all' || reaches(this.groups, child, parent))
      this.fail(line, `group "${child}" cannot be a child of "${parent}": that makes a loop`);
    this.group(parent, line).children.add(child);
  }

  /** A host pattern (ranges, `:port`) in a group, with its own variables. */
  host(pattern: string, group: string, line: number, vars: Map<string, Var>): void {
    const { names, port } = parseHostPattern(pattern, (m) => this.fail(line, m));
    for (const name of names) {
      let h = this.hosts.get(name);
      if (!h) {
        h = { name, line, groups: new Set(), vars: new Map() };
        this.hosts.set(name, h);
      }
      if (group !== 'all' && group !== 'ungrouped') h.groups.add(group);
      this.group(group, line);
      if (port !== undefined) h.vars.set('ansible_port', { value: String(port), line });
      for (const [k, v] of vars) h.vars.set(k, v);
    }
  }

  done(format: 'ini' | 'yaml'): Inventory {
    // Hosts in no group but all are Ansible's "ungrouped".
    for (const h of this.hosts.values()) if (h.groups.size === 0) h.groups.add('ungrouped');
    return { file: this.file, format, groups: this.groups, hosts: this.hosts };
  }
}

function reaches(groups: Map<string, Group>, from: string, to: string): boolean {
  if (from === to) return true;
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const g = groups.get(stack.pop()!);
    if (!g || seen.has(g.name)) continue;
    seen.add(g.name);
    for (const c of g.children) {
      if (c === to) return true;
      stack.push(c);
    }
  }
  return false;
}

/**
 * `node[01:05]`, `node[a:c]`, `web[1:9:2].lab`, several ranges in one name, and a `:port` suffix, as Ansible
 * expands them (`01` keeps its width).
 */
export function parseHostPattern(
  pattern: string,
  fail: (message: string) => never,
): { names: string[]; port?: number } {
  let text = pattern;
  let port: number | undefined;
  // A port after the last colon outside brackets (`[::1]:22`, `node[1:3]:2222`); a bare IPv6 address has none.
  let depth = 0;
  let lastColon = -1;
  let colons = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']') depth--;
    else if (text[i] === ':' && depth === 0) {
      lastColon = i;
      colons++;
    }
  }
  if (colons === 1) {
    const p = text.slice(lastColon + 1);
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      fail(`"${pattern}": the port after ":" must be a number from 1 to 65535`);
    port = Number(p);
    text = text.slice(0, lastColon);
  }
  if (/^\[[0-9A-Fa-f:.]+\]$/.test(text)) text = text.slice(1, -1); // [IPv6]
  const names = expandRanges(text, pattern, fail);
  for (const n of names)
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(n))
      fail(`"${n}" is not a host name swarmup takes (letters, digits, ".", "_" and "-")`);
  return { names, ...(port !== undefined ? { port } : {}) };
}

function expandRanges(text: string, pattern: string, fail: (message: string) => never): string[] {
  const m = /\[([^\]]*)\]/.exec(text);
  if (!m) {
    if (/[[\]]/.test(text)) fail(`"${pattern}": unbalanced "[" or "]"`);
    return [text];
  }
  const head = text.slice(0, m.index);
  const tail = text.slice(m.index + m[0].length);
  const parts = m[1]!.split(':');
  if (parts.length < 2 || parts.length > 3)
    fail(`"${pattern}": a range is [first:last] or [first:last:step], like node[01:05] or node[a:c]`);
  const [beg = '', end = '', stepText = '1'] = parts;
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
    fail(`"${pattern}": the step must be a number above 0`);
  const step = Number(stepText);
  const items: string[] = [];
  if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    const from = Number(beg || '0');
    const to = Number(end);
    if (to < from) fail(`"${pattern}": the range ends before it begins`);
    if ((to - from) / step >= 1000) fail(`"${pattern}": more than 1000 hosts in one range`);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    for (let i = from; i <= to; i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/.test(beg) && /^[a-z]$/.test(end)) {
    if (end < beg) fail(`"${pattern}": the range ends before it begins`);
    for (let c = beg.charCodeAt(0); c <= end.charCodeAt(0); c += step) items.push(String.fromCharCode(c));
  } else {
    fail(`"${pattern}": a range is numbers ([01:05]) or single lower-case letters ([a:c]), not [${m[1]}]`);
  }
  const rest = expandRanges(tail, pattern, fail);
  return items.flatMap((i) => rest.map((r) => head + i + r));
}

// ---------------------------------------------------------------------------------------------------------------
// INI, Ansible's dialect: [group], [group:vars], [group:children]; host lines `pattern key=value ...` split as
// Python's shlex does (quotes, `#` comments); vars lines `key=value`; `#` and `;` comment lines.

/** A line split as shlex (posix, comments) splits it: quotes group, backslash escapes, `#` begins a comment. */
export function shlexSplit(line: string, fail: (message: string) => never): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!))
        word += line[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]!;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else word = (word ?? '') + c;
  }
  if (quote) fail(`no closing ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}

export function parseIniInventory(text: string, file: string): Inventory {
  const b = new InventoryBuilder(file);
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const fail = (m: string): never => b.fail(line, m);
    const s = raw.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const header = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(s);
    if (header) {
      const [group = '', kind = 'hosts', ...extra] = header[1]!.trim().split(':');
      if (extra.length || !['hosts', 'vars', 'children'].includes(kind))
        fail(`[${header[1]}]: a section is [group], [group:vars] or [group:children]`);
      b.group(group, line);
      section = { group, kind: kind as 'hosts' | 'vars' | 'children' };
      return;
    }
    if (s.startsWith('[')) fail(`"${s}": a section header is [group] alone on its line`);
    if (section.kind === 'vars') {
      const eq = s.indexOf('=');
      if (eq <= 0) fail(`"${s}": expected key=value in [${section.group}:vars]`);
      const key = s.slice(0, eq).trim();
      const words = shlexSplit(s.slice(eq + 1).trim(), fail);
      b.group(section.group, line).vars.set(key, { value: words.join(' '), line });
      return;
    }
    const words = shlexSplit(s, fail);
    if (words.length === 0) return;
    if (section.kind === 'children') {
      if (words.length > 1) fail(`"${s}": one group name per line in [${section.group}:children]`);
      b.child(section.group, words[0]!, line);
      return;
    }
    const vars = new Map<string, Var>();
    for (const w of words.slice(1)) {
      const eq = w.indexOf('=');
      if (eq <= 0) fail(`"${w}": expected key=value after the host name`);
      vars.set(w.slice(0, eq), { value: w.slice(eq + 1), line });
    }
    b.host(words[0]!, section.group, line, vars);
  });
  return b.done('ini');
}

// ---------------------------------------------------------------------------------------------------------------
// YAML: groups at the top (usually `all`), each with `hosts` (name: vars), `vars` and `children` (name: group).

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

/** The groups a host is in, with every ancestor, each with its depth below `all` (deeper groups win). */
function groupsOf(inv: Inventory, host: Host): Array<{ group: Group; depth: number }> {
  const parents = new Map<string, string[]>();
  for (const g of inv.groups.values())
    for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const depth = (name: string, seen: Set<string> = new Set()): number => {
    if (name === 'all' || seen.has(name)) return 0;
    seen.add(name);
    const ps = parents.get(name) ?? ['all'];
    return 1 + Math.max(...ps.map((p) => depth(p, seen)));
  };
  const all = new Set<string>(['all']);
  const stack = [...host.groups];
  while (stack.length) {
    const g = stack.pop()!;
    if (all.has(g)) continue;
    all.add(g);
    stack.push(...(parents.get(g) ?? []));
  }
  return [...all]
    .map((name) => ({ group: inv.groups.get(name)!, depth: depth(name) }))
    .sort((a, b) => a.depth - b.depth || a.group.name.localeCompare(b.group.name));
}

/** Ansible's precedence: all, then parent groups, then child groups (by depth, then name), then the host's own. */
export function hostVars(inv: Inventory, host: Host): Map<string, Var> {
  const vars = new Map<string, Var>();
  for (const { group } of groupsOf(inv, host)) for (const [k, v] of group.vars) vars.set(k, v);
  for (const [k, v] of host.vars) vars.set(k, v);
  return vars;
}

/** Connection variables, by their old names too (`ansible_ssh_host`...). */
const ALIASES: Record<string, string> = {
  ansible_ssh_host: 'ansible_host',
  ansible_ssh_port: 'ansible_port',
  ansible_ssh_user: 'ansible_user',
  ansible_private_key_file: 'ansible_ssh_private_key_file',
};

const REFUSED: Record<string, string> = {
  ansible_password:
    'passwords are not used by swarmup: give a key (ansible_ssh_private_key_file) or use ssh-agent',
  ansible_ssh_pass:
    'passwords are not used by swarmup: give a key (ansible_ssh_private_key_file) or use ssh-agent',
  ansible_become_password: 'swarmup needs passwordless sudo (sudo -n) for a user other than root',
  ansible_become_pass: 'swarmup needs passwordless sudo (sudo -n) for a user other than root',
};

function members(inv: Inventory, group: string): Set<string> {
  const groups = new Set<string>();
  const stack = [group];
  while (stack.length) {
    const g = stack.pop()!;
    if (groups.has(g)) continue;
    groups.add(g);
    stack.push(...(inv.groups.get(g)?.children ?? []));
  }
  return new Set(
    [...inv.hosts.values()]
      .filter((h) => group === 'all' || [...h.groups].some((g) => groups.has(g)))
      .map((h) => h.name),
  );
}

/** The cluster an inventory describes: the managers group's hosts as managers, the workers group's as workers. */
export function inventoryToConfig(
  inv: Inventory,
  names: GroupNames = {},
): { config: ConfigFile; read: InventoryRead } {
  const fail = (line: number, message: string): never => {
    throw new InputError(`${inv.file}${line ? `:${line}` : ''}: ${message}`);
  };
  const managersGroup = names.managersGroup ?? 'managers';
  const workersGroup = names.workersGroup ?? 'workers';
  const known = [...inv.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped');
  if (!inv.groups.has(managersGroup))
    fail(
      0,
      `no group "${managersGroup}" (groups: ${known.join(', ') || 'none'}); ` +
        `${names.managersGroup ? '' : '--managers-group NAME names the group of managers'}`.replace(
          /; $/,
          '',
        ),
    );
  if (names.workersGroup && !inv.groups.has(workersGroup))
    fail(0, `no group "${workersGroup}" (groups: ${known.join(', ') || 'none'})`);
  const managers = members(inv, managersGroup);
  const workers = members(inv, workersGroup);
  if (managers.size === 0) fail(inv.groups.get(managersGroup)!.line, `group "${managersGroup}" has no hosts`);

  const hosts: HostEntry[] = [];
  const read: InventoryRead = {
    file: inv.file,
    format: inv.format === 'ini' ? 'Ansible INI' : 'Ansible YAML',
    managers: [],
    workers: [],
    leftOut: [],
  };
  for (const h of inv.hosts.values()) {
    const isManager = managers.has(h.name);
    const isWorker = workers.has(h.name);
    if (isManager && isWorker)
      fail(h.line, `host ${h.name} is in both "${managersGroup}" and "${workersGroup}": give it one role`);
    if (!isManager && !isWorker) {
      read.leftOut.push(h.name);
      continue;
    }
    (isManager ? read.managers : read.workers).push(h.name);
    const vars = new Map<string, Var>();
    for (const [k, v] of hostVars(inv, h)) {
      if (REFUSED[k]) fail(v.line, `${k}: ${REFUSED[k]}`);
      vars.set(ALIASES[k] ?? k, v);
    }
    const connection = vars.get('ansible_connection');
    if (connection && !['ssh', 'smart', 'paramiko'].includes(connection.value))
      fail(connection.line, `ansible_connection=${connection.value}: swarmup reaches hosts over ssh only`);
    const method = vars.get('ansible_become_method');
    if (method && method.value !== 'sudo')
      fail(method.line, `ansible_become_method=${method.value}: swarmup becomes root with sudo -n only`);
    const become = vars.get('ansible_become');
    if (become && !/^(true|false|yes|no|on|off|1|0)$/i.test(become.value))
      fail(become.line, `ansible_become=${become.value}: expected true or false`);

    const host: HostEntry = { name: h.name, address: h.name, role: isManager ? 'manager' : 'worker' };
    const address = vars.get('ansible_host');
    if (address) {
      if (!isHostAddress(address.value))
        fail(address.line, `ansible_host=${address.value}: ${HOST_ADDRESS_RULE}`);
      host.address = address.value;
    } else if (!isHostAddress(h.name))
      fail(h.line, `host ${h.name}: ${HOST_ADDRESS_RULE} (or set ansible_host)`);
    const port = vars.get('ansible_port');
    if (port) {
      if (!/^\d{1,5}$/.test(port.value) || Number(port.value) < 1 || Number(port.value) > 65535)
        fail(port.line, `ansible_port=${port.value}: a port number from 1 to 65535`);
      host.port = Number(port.value);
    }
    const user = vars.get('ansible_user');
    if (user) {
      if (!user.value) fail(user.line, 'ansible_user: empty');
      host.user = user.value;
    }
    const key = vars.get('ansible_ssh_private_key_file');
    if (key) {
      if (!key.value) fail(key.line, 'ansible_ssh_private_key_file: empty');
      host.privateKey = key.value;
    }
    const advertise = vars.get('swarmup_advertise_address');
    if (advertise) {
      if (!isHostAddress(advertise.value))
        fail(advertise.line, `swarmup_advertise_address=${advertise.value}: ${HOST_ADDRESS_RULE}`);
      host.advertiseAddress = advertise.value;
    }
    hosts.push(host);
  }
  const problem = managerCountProblem(read.managers.length, hosts.length);
  if (problem)
    fail(
      inv.groups.get(managersGroup)!.line,
      `group "${managersGroup}" has ${read.managers.length} host${read.managers.length === 1 ? '' : 's'} (${read.managers.join(', ')}): ${problem}`,
    );
  return {
    config: { provider: 'ssh', managers: read.managers.length, hosts },
    read,
  };
}
