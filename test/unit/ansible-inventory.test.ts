import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { renderInputs } from '../../src/cluster/render-inputs.ts';
import { parseHostPattern, shlexSplit } from '../../src/config/ansible-inventory.ts';
import { inputFormat, parseInput } from '../../src/config/load.ts';
import { InputError } from '../../src/errors.ts';
import { inputError } from '../support/input-error.ts';

const inventories = resolve(import.meta.dirname, '../../inventories');
const read = (f: string) => readFileSync(resolve(inventories, f), 'utf8');

const fail = (m: string): never => {
  throw new InputError(m);
};

/** The hosts as swarmup reaches them, from an inventory's text. */
function hostsOf(text: string, file = 'hosts', groups = {}) {
  const { config, inventory } = parseInput(text, file, groups);
  const spec = resolveCluster(config, {}, file);
  if (inventory) spec.inventory = inventory;
  return {
    spec,
    inventory,
    hosts: spec.hosts.map((h) => [h.name, h.role, `${h.user}@${h.address}:${h.port}`, h.privateKey]),
  };
}

const home = process.env.HOME ?? '';

const seedsHosts = [
  ['node0', 'manager', 'root@192.168.1.130:22', `${home}/.ssh/id_ed25519`],
  ['node1', 'manager', 'root@192.168.1.131:22', `${home}/.ssh/id_ed25519`],
  ['node2', 'manager', 'root@192.168.1.132:22', `${home}/.ssh/id_ed25519`],
  ['node3', 'worker', 'root@192.168.1.133:22', `${home}/.ssh/id_ed25519`],
  ['node4', 'worker', 'root@192.168.1.134:22', `${home}/.ssh/id_ed25519`],
];

describe('Ansible inventories as input', () => {
  it('tells the formats apart by content: INI, Ansible YAML, swarmup YAML', () => {
    expect(inputFormat(read('seeds-lab.ini'))).toBe('ini');
    expect(inputFormat(read('seeds-lab.yml'))).toBe('ansible-yaml');
    expect(inputFormat(read('seeds-lab.yaml'))).toBe('swarmup');
    expect(inputFormat('node0 ansible_host=10.0.0.1\n\n[managers]\nnode0\n')).toBe('ini');
    expect(inputFormat('all:\n  hosts:\n    a:\n')).toBe('ansible-yaml');
    expect(inputFormat('name: lab\nprovider: docker\n')).toBe('swarmup');
  });

  it("the seeds' five hosts as an INI inventory: 3 managers, 2 workers, user and key from [all:vars]", () => {
    const { spec, hosts, inventory } = hostsOf(read('seeds-lab.ini'), 'seeds-lab.ini');
    expect(hosts).toEqual(seedsHosts);
    expect(spec.provider).toBe('ssh');
    expect([spec.managers, spec.workers]).toEqual([3, 2]);
    expect(inventory).toEqual({
      file: 'seeds-lab.ini',
      format: 'Ansible INI',
      managers: ['node0', 'node1', 'node2'],
      workers: ['node3', 'node4'],
      leftOut: [],
    });
    expect(renderInputs(spec)).toEqual([
      'Read seeds-lab.ini (Ansible INI inventory): managers node0, node1, node2; workers node3, node4',
      ...seedsHosts.map(([n, r, at, k]) => `  ${n} (${r}): ${at}, key ${k}`),
    ]);
  });

  it('the same hosts as a YAML inventory with children groups and ranges', () => {
    const { spec, hosts } = hostsOf(read('seeds-lab.yml'), 'seeds-lab.yml');
    expect(hosts).toEqual(seedsHosts);
    expect(renderInputs(spec)[0]).toBe(
      'Read seeds-lab.yml (Ansible YAML inventory): managers node0, node1, node2; workers node3, node4',
    );
  });

  it('INI: children, group vars by depth, host vars winning, ranges, ports, quotes and comments', () => {
    const { hosts, inventory } = hostsOf(
      [
        '# comment',
        'db1 ansible_host=10.0.9.1',
        '[all:vars]',
        'ansible_user = admin',
        'ansible_port=2200',
        '[cp]',
        'cp[01:03] ansible_ssh_private_key_file="/keys/my key"  # the control plane',
        '[edge]',
        'edge-[a:b]:2222',
        '[app]',
        'app1 ansible_host=10.0.1.1 ansible_user=deploy',
        '[managers:children]',
        'cp',
        '[workers:children]',
        'apps',
        '[apps:children]',
        'app',
        'edge',
        '[apps:vars]',
        'ansible_user=worker',
        '; another comment',
      ].join('\n'),
      'hosts.ini',
    );
    expect(hosts).toEqual([
      ['cp01', 'manager', 'admin@cp01:2200', '/keys/my key'],
      ['cp02', 'manager', 'admin@cp02:2200', '/keys/my key'],
      ['cp03', 'manager', 'admin@cp03:2200', '/keys/my key'],
      ['edge-a', 'worker', 'worker@edge-a:2222', undefined],
      ['edge-b', 'worker', 'worker@edge-b:2222', undefined],
      ['app1', 'worker', 'deploy@10.0.1.1:2200', undefined],
    ]);
    expect(inventory!.leftOut).toEqual(['db1']);
  });

  it('other group names with --managers-group / --workers-group', () => {
    const text = '[cp]\na ansible_host=10.0.0.1\n[nodes]\nb ansible_host=10.0.0.2\n';
    const { hosts } = hostsOf(text, 'h.ini', { managersGroup: 'cp', workersGroup: 'nodes' });
    expect(hosts.map((h) => h.slice(0, 2))).toEqual([
      ['a', 'manager'],
      ['b', 'worker'],
    ]);
    expect(inputError(() => hostsOf(text, 'h.ini'))).toBe(
      'h.ini: no group "managers" (groups: cp, nodes); --managers-group NAME names the group of managers',
    );
  });

  it('host patterns expand as Ansible expands them', () => {
    expect(parseHostPattern('node[01:03]', fail)).toEqual({ names: ['node01', 'node02', 'node03'] });
    expect(parseHostPattern('node[a:c]', fail)).toEqual({ names: ['nodea', 'nodeb', 'nodec'] });
    expect(parseHostPattern('n[1:5:2].lab:2222', fail)).toEqual({
      names: ['n1.lab', 'n3.lab', 'n5.lab'],
      port: 2222,
    });
    expect(parseHostPattern('r[1:2]-[a:b]', fail).names).toEqual(['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    expect(shlexSplit(`h a='b c' d="e\\"f" # g`, fail)).toEqual(['h', 'a=b c', 'd=e"f']);
  });

  it.each([
    ['[managers]\nnode[3:1]\n', 'bad.ini:2: "node[3:1]": the range ends before it begins'],
    [
      '[managers]\nnode0 ansible_port=99999\n',
      'bad.ini:2: ansible_port=99999: a port number from 1 to 65535',
    ],
    ['[managers]\nnode0 oops\n', 'bad.ini:2: "oops": expected key=value after the host name'],
    [
      '[managers]\nnode0\n[managers:vars]\nansible_user\n',
      'bad.ini:4: "ansible_user": expected key=value in [managers:vars]',
    ],
    [
      '[managers:hostz]\nnode0\n',
      'bad.ini:1: [managers:hostz]: a section is [group], [group:vars] or [group:children]',
    ],
    [
      '[managers]\nnode0 ansible_host=10.0.0.1 ansible_password=x\n',
      'bad.ini:2: ansible_password: passwords are not used by swarmup',
    ],
    [
      '[managers]\nnode0\n[workers]\nnode1\nnode0\n',
      'bad.ini:2: host node0 is in both "managers" and "workers"',
    ],
    [
      '[managers]\nnode0 ansible_host="bad host"\n',
      'bad.ini:2: ansible_host=bad host: an IP address or a DNS name',
    ],
    ['[managers]\nnode0 a="b\n', 'bad.ini:2: no closing "'],
    [
      '[managers]\n[managers:children]\nmanagers\n',
      'bad.ini:3: group "managers" cannot be a child of "managers"',
    ],
    [
      '[workers]\nw1\n\n[managers]\nm1\nm2\n',
      'bad.ini:4: group "managers" has 2 hosts (m1, m2): managers must be 1, 3, 5 or 7, not 2',
    ],
  ])('INI %j is refused naming file:line', (text, message) => {
    expect(inputError(() => parseInput(text, 'bad.ini'))).toContain(message);
  });

  it.each([
    [
      'all:\n  children:\n    managers:\n      hosts:\n        n[1:x]:\n',
      'bad.yml:5: "n[1:x]": a range is numbers',
    ],
    [
      'all:\n  children:\n    managers:\n      hostz:\n        n1:\n',
      'bad.yml:4: group managers: "hostz" is not one of hosts, vars, children',
    ],
    [
      'all:\n  hosts:\n    n1:\n      ansible_port: 0\n  children:\n    managers:\n      hosts:\n        n1:\n',
      'bad.yml:4: ansible_port=0',
    ],
  ])('YAML %j is refused naming file:line', (text, message) => {
    expect(inputError(() => parseInput(text, 'bad.yml'))).toContain(message);
  });
});
