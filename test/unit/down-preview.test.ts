import { describe, expect, it } from 'vitest';
import { renderRemoval } from '../../src/cli/down-preview.ts';
import { removalLines as dockerLines } from '../../src/providers/docker/cleanup.ts';
import { removalLines as ec2Lines } from '../../src/providers/ec2/cleanup.ts';

describe('down: what it removes, shown before the question', () => {
  it('docker: names in name order whatever order the engine lists them in (a dry run reads as the preview)', () => {
    const listed = (order: number[]) =>
      dockerLines({
        cluster: 'lab',
        containers: order.map((i) => ({ id: `c${i}`, name: `lab-worker-${i}` })),
        volumes: order.map((i) => ({ name: `lab-worker-${i}-docker` })),
        networks: [{ id: 'n1', name: 'swarmup-lab' }],
      });
    expect(listed([10, 2, 1])).toEqual([
      'containers: lab-worker-1, lab-worker-2, lab-worker-10',
      'volumes: lab-worker-1-docker, lab-worker-2-docker, lab-worker-10-docker',
      'network: swarmup-lab',
    ]);
    expect(listed([2, 10, 1])).toEqual(listed([1, 2, 10]));
  });

  it('docker: every container, volume and network by name, the docker context and the state folder', () => {
    const resources = dockerLines({
      cluster: 'lab',
      containers: [
        { id: 'c1', name: 'lab-manager-1' },
        { id: 'c2', name: 'lab-worker-1' },
      ],
      volumes: [{ name: 'lab-manager-1-docker' }, { name: 'lab-worker-1-docker' }],
      networks: [{ id: 'n1', name: 'swarmup-lab' }],
    });
    expect(
      renderRemoval({
        cluster: 'lab',
        location: 'the Docker engine at unix:///var/run/docker.sock',
        createsMachines: true,
        resources,
        leaving: [],
        context: 'swarmup-lab',
        stateDir: '/home/u/.swarmup/lab',
      }),
    ).toBe(
      [
        'down removes cluster "lab" from the Docker engine at unix:///var/run/docker.sock:',
        '  containers: lab-manager-1, lab-worker-1',
        '  volumes: lab-manager-1-docker, lab-worker-1-docker',
        '  network: swarmup-lab',
        '  docker context: swarmup-lab',
        "  state: /home/u/.swarmup/lab (the cluster's key and records)",
      ].join('\n'),
    );
  });

  it('ec2: instances with their names, volumes, security group and key pair', () => {
    expect(
      ec2Lines({
        cluster: 'prod',
        instances: [{ id: 'i-1', name: 'prod-manager-1', state: 'running' }],
        securityGroups: [{ id: 'sg-1', name: 'swarmup-prod' }],
        keyPairs: [{ id: 'key-1', name: 'swarmup-prod' }],
        volumes: [{ id: 'vol-1', state: 'in-use' }],
      }),
    ).toEqual([
      'instances: i-1 (prod-manager-1)',
      'volumes: vol-1',
      'security group: sg-1 (swarmup-prod)',
      'key pair: swarmup-prod',
    ]);
  });

  it('ssh: the hosts that leave; nothing found is said, not left blank', () => {
    const ssh = renderRemoval({
      cluster: 'lab',
      location: 'the hosts of lab.yaml',
      createsMachines: false,
      resources: [],
      leaving: ['node-1', 'node-2'],
    });
    expect(ssh).toContain('leave the swarm (the machines stay)');
    expect(ssh).toContain('  leave: node-1, node-2');
    const gone = renderRemoval({
      cluster: 'lab',
      location: 'EC2 region eu-west-1',
      createsMachines: true,
      resources: [],
      leaving: [],
    });
    expect(gone).toContain('  nothing of it found there');
  });

  it('backups in the state folder: said kept (and where), or deleted with --delete-backups', () => {
    const base = {
      cluster: 'lab',
      location: 'the hosts of lab.yaml',
      createsMachines: false,
      resources: [],
      leaving: [],
      stateDir: '/home/u/.swarmup/lab',
    };
    expect(
      renderRemoval({
        ...base,
        backups: {
          files: 2,
          dir: '/home/u/.swarmup/lab/backups',
          keptUnder: '/home/u/.swarmup/_backups/lab/',
        },
      }).split('\n'),
    ).toContain(
      '  backups: 2 archives in /home/u/.swarmup/lab/backups: kept, moved to /home/u/.swarmup/_backups/lab/',
    );
    expect(
      renderRemoval({ ...base, backups: { files: 1, dir: '/home/u/.swarmup/lab/backups' } }).split('\n'),
    ).toContain('  backups: 1 archive in /home/u/.swarmup/lab/backups: deleted with it (--delete-backups)');
    expect(renderRemoval(base)).not.toContain('backups');
  });
});
