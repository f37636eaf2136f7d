import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { blockSize, canonicalCidr, exposure, parseCidr, unionSize, type Cidr } from '../../src/net/cidr.ts';

const blocks = (...texts: string[]): Cidr[] => texts.map((t) => parseCidr(t)!);
const ec2 = (sshCidr: string, allowSshFromAnywhere?: boolean) =>
  resolveCluster(undefined, {
    name: 'lab',
    provider: 'ec2',
    sshCidr,
    ...(allowSshFromAnywhere ? { allowSshFromAnywhere } : {}),
  }).ec2!;

describe('CIDR arithmetic', () => {
  it('parses IPv4 and IPv6 blocks, clearing host bits', () => {
    expect(parseCidr('203.0.113.7/32')).toMatchObject({ family: 4, prefix: 32, start: 0xcb007107n });
    expect(parseCidr('10.1.2.3/16')).toMatchObject({ family: 4, start: 0x0a010000n });
    expect(parseCidr('2001:db8::/48')).toMatchObject({ family: 6, prefix: 48, start: 0x20010db8n << 96n });
    expect(parseCidr('::/0')).toMatchObject({ family: 6, start: 0n, prefix: 0 });
    expect(parseCidr('::0/0')).toMatchObject({ family: 6, start: 0n, prefix: 0 });
    expect(parseCidr('::ffff:192.0.2.1/128')!.start).toBe(0xffffc0000201n);
    expect(parseCidr('1:2:3:4:5:6:7:8/128')!.start).toBe(0x00010002000300040005000600070008n);
  });

  it('refuses what is not a CIDR block', () => {
    for (const bad of [
      '203.0.113.7',
      '203.0.113.256/32',
      '203.0.113.7/33',
      '1.2.3/24',
      '2001:db8::/129',
      '2001:db8:::/48',
      'fe80::1%eth0/64',
      '10.0.0.0/16/1',
      '10.0.0.0/-1',
      'example.com/32',
      '',
    ]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('counts the union of blocks: overlaps and duplicates once, per family', () => {
    expect(blockSize({ family: 4, prefix: 16 })).toBe(65536n);
    expect(unionSize(blocks('10.0.0.0/16', '10.0.0.0/16'))).toBe(65536n);
    expect(unionSize(blocks('10.0.0.0/16', '10.0.1.0/24'))).toBe(65536n);
    expect(unionSize(blocks('10.0.0.0/16', '10.1.0.0/16'))).toBe(131072n);
    expect(unionSize(blocks('10.0.0.0/24', '10.0.0.128/25', '10.0.1.0/24'))).toBe(512n);
    expect(unionSize(blocks('0.0.0.0/1', '128.0.0.0/1'))).toBe(1n << 32n);
  });

  it('is too wide beyond one /16 of IPv4 or one /48 of IPv6, alone or added up', () => {
    const wide = (...t: string[]) => exposure(blocks(...t)).map((e) => [e.family, e.tooWide, e.everything]);
    expect(wide('10.0.0.0/16')).toEqual([[4, false, false]]);
    expect(wide('203.0.113.7/32', '10.0.0.0/17', '2001:db8::/48')).toEqual([
      [4, false, false],
      [6, false, false],
    ]);
    // 65536 + 1: over, though each block alone is not.
    expect(wide('10.0.0.0/16', '192.0.2.1/32')).toEqual([[4, true, false]]);
    expect(wide('10.0.0.0/15')).toEqual([[4, true, false]]);
    expect(wide('1.2.3.4/0')).toEqual([[4, true, true]]);
    expect(wide('0.0.0.0/1', '128.0.0.0/1')).toEqual([[4, true, true]]);
    expect(wide('::0/0')).toEqual([[6, true, true]]);
    expect(wide('2001:db8::/47')).toEqual([[6, true, false]]);
    expect(wide('2001:db8::/48', '2001:db9::/48')).toEqual([[6, true, false]]);
  });

  it('spells a block one way, to compare with what AWS echoes', () => {
    expect(canonicalCidr('2001:DB8:0:0::/48')).toBe('2001:db8::/48');
    expect(canonicalCidr('2001:db8:0:1:0:0:0:1/128')).toBe('2001:db8:0:1::1/128');
    expect(canonicalCidr('::0/0')).toBe('::/0');
    expect(canonicalCidr('10.1.2.3/16')).toBe('10.1.0.0/16');
    expect(canonicalCidr('not a block')).toBe('not a block');
  });
});

describe('--ssh-cidr is checked by arithmetic, not by spelling', () => {
  it('keeps ordinary blocks', () => {
    expect(ec2('203.0.113.7/32,10.0.0.0/17,2001:db8::/48').sshCidrs).toEqual([
      '203.0.113.7/32',
      '10.0.0.0/17',
      '2001:db8::/48',
    ]);
    expect(ec2('10.0.0.0/16').sshCidrs).toEqual(['10.0.0.0/16']);
    expect(ec2('2001:db8::/48,2001:db8::/64').sshCidrs).toHaveLength(2);
  });

  it('refuses every spelling of the whole internet, and wide blocks, naming the field, the blocks and the flag', () => {
    expect(() => ec2('0.0.0.0/0')).toThrow(
      '--ssh-cidr: 0.0.0.0/0 would open SSH to the whole internet; pass --allow-ssh-from-anywhere if you mean it',
    );
    expect(() => ec2('::0/0')).toThrow(
      /--ssh-cidr: ::0\/0 would open SSH to the whole IPv6 internet; pass --allow-ssh-from-anywhere/,
    );
    expect(() => ec2('1.2.3.4/0')).toThrow(/1\.2\.3\.4\/0 would open SSH to the whole internet/);
    expect(() => ec2('0.0.0.0/1,128.0.0.0/1')).toThrow(
      /0\.0\.0\.0\/1, 128\.0\.0\.0\/1 would open SSH to the whole internet/,
    );
    expect(() => ec2('10.0.0.0/16,10.1.0.0/16')).toThrow(
      '--ssh-cidr: 10.0.0.0/16, 10.1.0.0/16 would open SSH to 131072 IPv4 addresses, more than one /16; pass --allow-ssh-from-anywhere if you mean it',
    );
    expect(() => ec2('2001:db8::/46')).toThrow(
      /2001:db8::\/46 would open SSH to 4 \/48s of IPv6 addresses, more than one \/48/,
    );
    expect(() => ec2('203.0.113.7/32,0.0.0.0/0')).toThrow(/InputError|whole internet/);
  });

  it('names the config file field when the blocks come from there', () => {
    expect(() =>
      resolveCluster(
        { name: 'lab', provider: 'ec2', ec2: { sshCidr: ['0.0.0.0/1', '128.0.0.0/1'] } } as never,
        {},
        'swarm.yml',
      ),
    ).toThrow(
      /swarm\.yml: ec2\.sshCidr: 0\.0\.0\.0\/1, 128\.0\.0\.0\/1 would open SSH to the whole internet/,
    );
  });

  it('opens wide only with --allow-ssh-from-anywhere', () => {
    expect(ec2('::0/0,0.0.0.0/0', true).sshCidrs).toEqual(['::0/0', '0.0.0.0/0']);
  });

  it('still refuses what is not a block', () => {
    expect(() => ec2('203.0.113.7')).toThrow(
      '--ssh-cidr: "203.0.113.7" is not a CIDR block like 203.0.113.7/32',
    );
  });
});
