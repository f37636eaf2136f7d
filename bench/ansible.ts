/**
 * The seeds' tool at the same job: an Ansible playbook that forms the swarm on the same node containers (init on
 * the first manager, the other managers one at a time, the workers in parallel, the tokens rotated, then waits until
 * the first manager lists every node Ready). It uses `raw` tasks only (no Python on the nodes, no fact gathering):
 * Ansible's fastest form, so the comparison favours it. Forks: 20 (Ansible's default is 5). Needs `ansible-playbook`
 * (Debian: `apt-get install ansible-core`); without it the bench says so and leaves the column empty.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Machine } from '../src/providers/provider.ts';

export const ANSIBLE_FORKS = 20;

export async function ansibleAvailable(): Promise<string | undefined> {
  const r = await execa('ansible-playbook', ['--version'], { reject: false });
  return r.exitCode === 0 ? String(r.stdout).split('\n')[0] : undefined;
}

const PLAYBOOK = `
- hosts: managers[0]
  gather_facts: false
  tasks:
    - raw: docker swarm init --advertise-addr {{ swarm_addr }}
    - raw: docker swarm join-token -q manager
      register: manager_token
    - raw: docker swarm join-token -q worker
      register: worker_token

- hosts: managers[1:]
  serial: 1
  gather_facts: false
  tasks:
    - raw: >-
        docker swarm join --advertise-addr {{ swarm_addr }}
        --token {{ hostvars[groups.managers[0]].manager_token.stdout | trim }}
        {{ hostvars[groups.managers[0]].swarm_addr }}:2377

- hosts: workers
  gather_facts: false
  tasks:
    - raw: >-
        docker swarm join --advertise-addr {{ swarm_addr }}
        --token {{ hostvars[groups.managers[0]].worker_token.stdout | trim }}
        {{ hostvars[groups.managers[0]].swarm_addr }}:2377

- hosts: managers[0]
  gather_facts: false
  tasks:
    - raw: docker swarm join-token --rotate -q worker >/dev/null && docker swarm join-token --rotate -q manager >/dev/null
    - raw: docker node ls --format '{{ "{{" }}.Status{{ "}}" }}' | grep -c '^Ready$'
      register: ready
      until: (ready.stdout | trim | int) == {{ total }}
      retries: 300
      delay: 1
`;

/** The playbook run once over `hosts` (3 managers first); its wall time, and the hosts whose join task failed. */
export async function ansibleUp(
  dir: string,
  hosts: Machine[],
  privateKey: string,
): Promise<{ ms: number; failed: number }> {
  const line = (h: Machine) =>
    `${h.name} ansible_host=${h.address} ansible_port=${h.port} swarm_addr=${h.advertiseAddress}`;
  const inventory = join(dir, 'ansible-hosts.ini');
  writeFileSync(
    inventory,
    `[managers]\n${hosts.slice(0, 3).map(line).join('\n')}\n\n[workers]\n${hosts.slice(3).map(line).join('\n')}\n`,
  );
  const playbook = join(dir, 'ansible-swarm.yml');
  writeFileSync(playbook, PLAYBOOK.replace('{{ total }}', String(hosts.length)));
  const t0 = performance.now();
  const r = await execa(
    'ansible-playbook',
    ['-i', inventory, '-f', String(ANSIBLE_FORKS), '-u', 'root', '--private-key', privateKey, playbook],
    {
      reject: false,
      env: {
        ANSIBLE_HOST_KEY_CHECKING: 'False',
        ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null',
        ANSIBLE_STDOUT_CALLBACK: 'default',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
      },
    },
  );
  const ms = performance.now() - t0;
  const recap = /failed=(\d+)/g;
  let failed = 0;
  for (const m of String(r.stdout).matchAll(recap)) failed += Number(m[1]) > 0 ? 1 : 0;
  if (r.exitCode !== 0 && failed === 0)
    throw new Error(`ansible-playbook exited ${r.exitCode}: ${String(r.stdout).slice(-2000)}${r.stderr}`);
  return { ms, failed };
}
