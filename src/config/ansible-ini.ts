import { InventoryBuilder, type Inventory, type Var } from './ansible-model.ts';
import { shlexSplit } from './ansible-patterns.ts';

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
