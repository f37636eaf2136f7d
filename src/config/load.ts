import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { InputError } from '../errors.ts';
import { configFileSchema, type ConfigFile } from './schema.ts';
import {
  inventoryToConfig,
  isAnsibleYaml,
  parseIniInventory,
  parseYamlInventory,
  type GroupNames,
  type InventoryRead,
} from './ansible-inventory.ts';

/** Parse and validate a config file's text; every problem names the file, the line and the field. */
export function parseConfig(text: string, file: string): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new InputError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS() ?? {};
  const result = configFileSchema.safeParse(data);
  if (result.success) return result.data;

  const messages = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    // Unknown keys are reported on their parent; point at the key itself.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const at = keys.length > 0 ? [...path, keys[0]!] : path;
    const line = lineOf(doc, at, lineCounter);
    const field = formatPath(at);
    // A record's bad key (node labels) says why through the key's own issue, not "Invalid key in record".
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return `${file}${line ? `:${line}` : ''}: ${field || '(top level)'}: ${message}`;
  });
  throw new InputError(messages.join('\n'));
}

export function loadConfigFile(file: string): ConfigFile {
  return loadInput(file).config;
}

/**
 * A config file as given to --config or --inventory, told apart by its content: an Ansible inventory (INI, or YAML
 * of groups with hosts/vars/children) is read as one, anything else as swarmup's own YAML.
 */
export function loadInput(
  file: string,
  groups: GroupNames = {},
): { config: ConfigFile; inventory?: InventoryRead } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read config file (${code ?? String(err)})`);
  }
  return parseInput(text, file, groups);
}

export function parseInput(
  text: string,
  file: string,
  groups: GroupNames = {},
): { config: ConfigFile; inventory?: InventoryRead } {
  const format = inputFormat(text);
  if (format === 'swarmup') {
    if (groups.managersGroup || groups.workersGroup)
      throw new InputError(
        `${groups.managersGroup ? '--managers-group' : '--workers-group'}: only for an Ansible inventory; ${file} is a swarmup config file`,
      );
    return { config: parseConfig(text, file) };
  }
  const inv = format === 'ini' ? parseIniInventory(text, file) : parseYamlInventory(text, file);
  const { config, read } = inventoryToConfig(inv, groups);
  // The result is swarmup's own config: checked by the same schema (the inventory's values were checked above).
  const checked = configFileSchema.safeParse(config);
  if (!checked.success) throw new InputError(`${file}: ${checked.error.issues[0]!.message}`);
  return { config: checked.data, inventory: read };
}

/** INI when the first line that is not blank or a comment is a [section]; Ansible's YAML by its shape. */
export function inputFormat(text: string): 'ini' | 'ansible-yaml' | 'swarmup' {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const first = lines.find((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
  if (first && /^\[[^\]]+\]\s*(?:[#;].*)?$/.test(first)) return 'ini';
  const doc = parseDocument(text);
  if (doc.errors.length === 0) {
    const data: unknown = doc.toJS();
    if (isAnsibleYaml(data)) return 'ansible-yaml';
    if (data && typeof data === 'object') return 'swarmup';
  }
  // Ungrouped host lines (`node0 ansible_host=...`) before the first section are not YAML of any use.
  if (lines.some((l) => /^\[[^\]]+\]\s*(?:[#;].*)?$/.test(l))) return 'ini';
  return 'swarmup';
}

function formatPath(path: string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function lineOf(doc: ReturnType<typeof parseDocument>, path: string[], lc: LineCounter): number | undefined {
  // Walk up until some prefix of the path exists in the document (the field may be missing).
  for (let n = path.length; n >= 0; n--) {
    const segs = path.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const node = n === 0 ? doc.contents : doc.getIn(segs, true);
    if (isNode(node) && node.range) {
      // For a key that is present, prefer the key's own line (the pair's key node).
      return lc.linePos(node.range[0]).line;
    }
    if (n > 0 && typeof segs[n - 1] === 'string') {
      const parent = n - 1 === 0 ? doc.contents : doc.getIn(segs.slice(0, n - 1), true);
      if (parent && 'items' in (parent as object)) {
        const items = (parent as { items: Array<{ key?: unknown }> }).items;
        const pair = items.find(
          (it) => isNode(it.key) && (it.key as { value?: unknown }).value === segs[n - 1],
        );
        if (pair && isNode(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
      }
    }
  }
  return undefined;
}
