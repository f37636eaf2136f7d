import { InputError } from '../errors.ts';
import { parseHostPattern } from './ansible-patterns.ts';

/* An Ansible inventory as read: groups (with children), hosts and variables, each with the line that set it. */

/** A variable as the file sets it, with the line that set it. */
export interface Var {
  value: string;
  line: number;
}

export interface Group {
  name: string;
  line: number;
  children: Set<string>;
  vars: Map<string, Var>;
}

export interface Host {
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

export class InventoryBuilder {
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
