import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { parseConfig } from '../../src/config/load.ts';
import { inputError } from '../support/input-error.ts';

const file = (swarm: string) => parseConfig(`name: lab\nprovider: docker\nswarm:\n${swarm}`, 'lab.yaml');
const refusal = inputError;

describe('swarm init settings (swarm: in the file, flags over it)', () => {
  it('none given: no autolock, everything else left to swarmup and Docker', () => {
    expect(resolveCluster(undefined, {}).swarm).toEqual({ autolock: false });
  });

  it('from the file, and flags over the file', () => {
    const f = file(
      '  autolock: true\n  defaultAddrPool: [10.20.0.0/16]\n  subnetSize: 26\n  dataPathPort: 7789\n',
    );
    expect(resolveCluster(f, {}, 'lab.yaml').swarm).toEqual({
      autolock: true,
      defaultAddrPool: ['10.20.0.0/16'],
      subnetSize: 26,
      dataPathPort: 7789,
    });
    expect(
      resolveCluster(f, { defaultAddrPool: '10.30.0.0/16, 10.31.0.0/16', dataPathAddr: 'eth1' }, 'lab.yaml')
        .swarm,
    ).toMatchObject({ defaultAddrPool: ['10.30.0.0/16', '10.31.0.0/16'], dataPathAddr: 'eth1' });
  });

  it('refused, naming the field: not a CIDR, IPv6, a pool smaller than one subnet, ports Swarm refuses', () => {
    expect(refusal(() => resolveCluster(undefined, { defaultAddrPool: '10.0.0.0' }))).toBe(
      '--default-addr-pool: "10.0.0.0" is not an IPv4 CIDR block like 10.20.0.0/16',
    );
    expect(refusal(() => resolveCluster(undefined, { defaultAddrPool: 'fd00::/8' }))).toContain(
      'not an IPv4',
    );
    expect(refusal(() => resolveCluster(file('  defaultAddrPool: [10.9.9.0/28]\n'), {}, 'lab.yaml'))).toBe(
      'lab.yaml: swarm.defaultAddrPool: "10.9.9.0/28" is smaller than one overlay subnet (/24); give a wider pool or a larger --subnet-size',
    );
    expect(refusal(() => resolveCluster(undefined, { dataPathPort: '80' }))).toBe(
      '--data-path-port: expected a whole number from 1024 to 49151, got "80"',
    );
    expect(refusal(() => resolveCluster(undefined, { subnetSize: 'big' }))).toContain('--subnet-size');
    expect(refusal(() => parseConfig('name: lab\nswarm:\n  autolok: true\n', 'lab.yaml'))).toContain(
      'lab.yaml:3: swarm.autolok',
    );
  });
});
