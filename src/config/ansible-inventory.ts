import { InputError } from '../errors.ts';
import { HOST_ADDRESS_RULE, isHostAddress } from './validate.ts';
import { managerCountProblem } from './policy.ts';
import { parseLabelList } from './labels.ts';
import type { ConfigFile, HostEntry } from './schema.ts';
import type { Group, GroupNames, Host, Inventory, InventoryRead, Var } from './ansible-model.ts';

/*
 * Ansible's inventories as swarmup input: its INI dialect and its YAML format, read into groups (with children),
 * hosts and variables, then turned into swarmup's own config (provider ssh, one host each). Pure: text in, config
 * out; every problem names the file and the line.
 */

export type { GroupNames, Inventory, InventoryRead } from './ansible-model.ts';
export { parseIniInventory } from './ansible-ini.ts';
export { isAnsibleYaml, parseYamlInventory } from './ansible-yaml.ts';
export { parseHostPattern, shlexSplit } from './ansible-patterns.ts';

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
    const labels = vars.get('swarmup_labels');
    if (labels) {
      const parsed = parseLabelList(labels.value);
      if (typeof parsed === 'string') fail(labels.line, `swarmup_labels: ${parsed}`);
      else host.labels = parsed;
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
