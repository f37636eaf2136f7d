import { describe, expect, it } from 'vitest';
import { parseBastion } from '../../src/config/cluster.ts';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { parseConfig } from '../../src/config/load.ts';
import { inputError } from '../support/input-error.ts';

const seeds = `# the seeds' five VMs
name: lab
provider: ssh
ssh: { user: root, port: 22, privateKey: ~/.ssh/id_ed25519 }
hosts:
  - { name: node0, address: 192.168.1.130, role: manager }
  - { name: node1, address: 192.168.1.131, advertiseAddress: 10.0.0.11 }
  - { name: node2, address: 192.168.1.132 }
  - { name: node3, address: 192.168.1.133, port: 2222, user: admin }
  - { name: node4, address: 192.168.1.134, role: worker }
`;

describe('bastion', () => {
  it('takes [user@]host[:port] like ssh -J', () => {
    expect(parseBastion('jump.example.org', 'f', 'ubuntu')).toEqual({
      name: 'bastion jump.example.org',
      address: 'jump.example.org',
      port: 22,
      user: 'ubuntu',
    });
    expect(parseBastion('ops@203.0.113.9:2222', 'f', 'ubuntu', '/k')).toEqual({
      name: 'bastion 203.0.113.9',
      address: '203.0.113.9',
      port: 2222,
      user: 'ops',
      privateKey: '/k',
    });
    expect(parseBastion('[2001:db8::1]:22', 'f', 'root').address).toBe('2001:db8::1');
    expect(() => parseBastion('a@b:99999', '--bastion', 'root')).toThrow(
      /--bastion: "a@b:99999" is not \[user@\]host\[:port\]/,
    );
  });

  it("ssh.bastion applies to every host, with the host's own user and key", () => {
    const text = seeds.replace(
      'ssh: { user: root, port: 22, privateKey: ~/.ssh/id_ed25519 }',
      'ssh: { user: root, privateKey: /k, bastion: jump:2200 }',
    );
    const spec = resolveCluster(parseConfig(text, 'l.yaml'), {}, 'l.yaml');
    expect(spec.hosts[3]!.jump).toEqual({
      name: 'bastion jump',
      address: 'jump',
      port: 2200,
      user: 'admin',
      privateKey: '/k',
    });
  });
});

describe('config file', () => {
  it('parses the seeds inventory and resolves defaults per host', () => {
    const spec = resolveCluster(parseConfig(seeds, 'lab.yaml'), {}, 'lab.yaml');
    expect(spec.name).toBe('lab');
    expect(spec.managers).toBe(3);
    expect(spec.hosts[1]).toMatchObject({
      name: 'node1',
      address: '192.168.1.131',
      advertiseAddress: '10.0.0.11',
      port: 22,
      user: 'root',
      role: 'auto',
    });
    expect(spec.hosts[3]).toMatchObject({ port: 2222, user: 'admin', advertiseAddress: '192.168.1.133' });
    expect(spec.hosts[0]!.privateKey).toMatch(/\/\.ssh\/id_ed25519$/);
    expect(spec.hosts[0]!.privateKey).not.toMatch(/^~/);
  });

  it('refuses an unknown key, naming the file, the line and the field', () => {
    const text = seeds.replace(
      '  - { name: node2, address: 192.168.1.132 }',
      '  - { name: node2, adress: 192.168.1.132 }',
    );
    const msg = inputError(() => parseConfig(text, 'lab.yaml'));
    expect(msg).toContain('lab.yaml:8: hosts[2].adress');
  });

  it('refuses a wrong type with the line of the field', () => {
    const msg = inputError(() => parseConfig('name: lab\nmanagers: three\n', 'c.yaml'));
    expect(msg).toMatch(/^c\.yaml:2: managers: /);
  });

  it('refuses broken YAML with a line number', () => {
    const msg = inputError(() => parseConfig('name: lab\nhosts: [\n', 'c.yaml'));
    expect(msg).toMatch(/^c\.yaml:\d+: not valid YAML/);
  });

  it('refuses duplicate host names and targets', () => {
    const dup = seeds.replace('name: node4, address: 192.168.1.134', 'name: node0, address: 192.168.1.134');
    expect(inputError(() => resolveCluster(parseConfig(dup, 'l.yaml'), {}, 'l.yaml'))).toContain(
      'hosts[4].name: "node0" is already used by hosts[0]',
    );
    const same = seeds.replace('192.168.1.134', '192.168.1.130');
    expect(inputError(() => resolveCluster(parseConfig(same, 'l.yaml'), {}, 'l.yaml'))).toContain(
      '192.168.1.130:22 is already used',
    );
  });

  it.each(['2', '4', '6', '9'])('refuses --managers %s and explains quorum', (m) => {
    const msg = inputError(() => resolveCluster(parseConfig(seeds, 'l.yaml'), { managers: m }, 'l.yaml'));
    expect(msg).toMatch(/^--managers: managers must be 1, 3, 5 or 7/);
    expect(msg).toContain('raft');
  });

  it('refuses more managers than hosts, and managers in the file name the file', () => {
    expect(
      inputError(() => resolveCluster(parseConfig(seeds, 'l.yaml'), { managers: '7' }, 'l.yaml')),
    ).toContain('managers is 7, more than the 5 nodes there are');
    const five = seeds.replace('provider: ssh', 'provider: ssh\nmanagers: 4');
    expect(inputError(() => resolveCluster(parseConfig(five, 'l.yaml'), {}, 'l.yaml'))).toMatch(
      /^l\.yaml: managers: managers must be/,
    );
  });

  it('refuses non-numbers, bad names and unknown providers', () => {
    expect(inputError(() => resolveCluster(undefined, { managers: 'x' }))).toContain(
      '--managers: expected a whole number',
    );
    expect(inputError(() => resolveCluster(undefined, { name: 'Bad_Name' }))).toContain('--name: "Bad_Name"');
    expect(inputError(() => resolveCluster(undefined, { provider: 'gcp' }))).toContain(
      '"gcp" is not a provider',
    );
  });

  it('docker provider defaults to 3 managers + 2 workers named "local"', () => {
    expect(resolveCluster(undefined, {})).toMatchObject({
      name: 'local',
      provider: 'docker',
      managers: 3,
      workers: 2,
    });
    expect(resolveCluster(undefined, { managers: '1', workers: '0' })).toMatchObject({
      managers: 1,
      workers: 0,
    });
    expect(inputError(() => resolveCluster(undefined, { managers: '3', workers: '-1' }))).toContain(
      '--workers',
    );
  });

  it('takes up to 1000 workers (the tested count), and says why past it', () => {
    expect(resolveCluster(undefined, { provider: 'ec2', managers: '3', workers: '1000' }).workers).toBe(1000);
    const file = parseConfig('name: big\nprovider: ec2\nworkers: 997\n', 'big.yaml');
    expect(resolveCluster(file, {}, 'big.yaml')).toMatchObject({ managers: 3, workers: 997 });
    expect(inputError(() => resolveCluster(undefined, { managers: '3', workers: '1001' }))).toMatch(
      /^--workers: at most 1000: the count swarmup was tested at \(1000 EC2 instances launched against an emulator, 100 nodes brought up for real\); .*Swarm2k: 2,384 nodes under 3 managers/,
    );
    expect(inputError(() => parseConfig('name: big\nprovider: ec2\nworkers: 1001\n', 'big.yaml'))).toMatch(
      /^big\.yaml:3: workers: at most 1000: the count swarmup was tested at/,
    );
  });

  it('explicit roles must fit the manager count', () => {
    const text = seeds
      .replace(/role: worker/, 'role: manager')
      .replace('node2, address: 192.168.1.132', 'node2, address: 192.168.1.132, role: manager')
      .replace('node3, address: 192.168.1.133', 'node3, address: 192.168.1.133, role: manager');
    expect(
      inputError(() => resolveCluster(parseConfig(text, 'l.yaml'), { managers: '3' }, 'l.yaml')),
    ).toContain('4 hosts have role manager but managers is 3');
  });
});

describe('engine source by provider', () => {
  it("docker provider: distro by default (its nodes carry Debian's docker.io); others: docker-ce; a given one wins", () => {
    expect(resolveCluster(undefined, { name: 'lab', provider: 'docker' }).engine).toEqual({
      source: 'distro',
      sourceDefaulted: true,
    });
    expect(
      resolveCluster(parseConfig('name: lab\nprovider: ec2\nec2: { region: eu-west-1 }\n', 'c.yaml'), {})
        .engine,
    ).toEqual({ source: 'docker-ce', sourceDefaulted: true });
    expect(
      resolveCluster(parseConfig('name: lab\nengine: { source: docker-ce }\n', 'c.yaml'), {
        provider: 'docker',
      }).engine,
    ).toEqual({ source: 'docker-ce' });
  });
});
