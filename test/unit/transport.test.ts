import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  hostPattern,
  keyType,
  KnownHostsFile,
  parseKnownHosts,
} from '../../src/transport/known-hosts.ts';
import { quote, sh } from '../../src/transport/quote.ts';
import { redact } from '../../src/redact.ts';
import { destinationOf, HandshakeGate } from '../../src/transport/handshake-gate.ts';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

describe('shell quoting', () => {
  it.each([
    ['plain', 'plain'],
    ['/var/lib/docker', '/var/lib/docker'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(reboot)', "'$(reboot)'"],
    ['a;b|c&d', "'a;b|c&d'"],
  ])('quote(%j) = %s', (input, out) => {
    expect(quote(input)).toBe(out);
  });

  it('a real shell gets back exactly the values', () => {
    const values = ["it's", '$HOME', '`id`', 'a\nb', '*', '--flag', '"dq"', '\\'];
    const out = execFileSync('sh', ['-c', sh`printf '%s\\0' ${values}`]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(values);
  });
});

describe('known_hosts', () => {
  const a = blob('ssh-ed25519', 'key-a');
  const b = blob('ssh-ed25519', 'key-b');

  it('patterns follow OpenSSH', () => {
    expect(hostPattern('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(hostPattern('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(keyType(a)).toBe('ssh-ed25519');
  });

  it('trusts on first use, then pins: the same key matches, a different one is refused', () => {
    const entries = parseKnownHosts(`# comment\n[h]:2222 ssh-ed25519 ${a.toString('base64')}\n`);
    expect(checkHostKey(entries, '[h]:2222', a)).toBe('match');
    expect(checkHostKey(entries, '[h]:2222', b)).toBe('changed');
    expect(checkHostKey(entries, 'other', b)).toBe('unknown');
  });

  it('the file records new keys with mode 0600 and refuses a changed one, naming the host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const path = join(dir, 'sub', 'known_hosts');
    new KnownHostsFile(path).verify('node0', '[127.0.0.1]:2200', a);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(`[127.0.0.1]:2200 ssh-ed25519 ${a.toString('base64')}\n`);
    const again = new KnownHostsFile(path);
    again.verify('node0', '[127.0.0.1]:2200', a);
    expect(() => again.verify('node0', '[127.0.0.1]:2200', b)).toThrow(
      /node0: the SSH host key of \[127\.0\.0\.1\]:2200 has changed/,
    );
  });

  it('a host pinned by address before it was pinned by name: its key is checked there, not trusted anew', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const path = join(dir, 'known_hosts');
    new KnownHostsFile(path).verify('lab-manager-1', '203.0.113.5', a);
    // Same key under its name: accepted and pinned by name too.
    new KnownHostsFile(path).verify('lab-manager-1', 'lab-manager-1', a, '203.0.113.5');
    expect(readFileSync(path, 'utf8')).toContain(`lab-manager-1 ssh-ed25519 ${a.toString('base64')}`);
    // Another key at the old address: refused, naming that pattern (an instance that moved keeps its pin).
    const fresh = join(dir, 'kh2');
    new KnownHostsFile(fresh).verify('lab-manager-1', '203.0.113.5', a);
    expect(() =>
      new KnownHostsFile(fresh).verify('lab-manager-1', 'lab-manager-1', b, '203.0.113.5'),
    ).toThrow(/lab-manager-1: the SSH host key of 203\.0\.113\.5 has changed/);
  });
});

describe('redact', () => {
  it('removes join tokens and unlock keys from any text', () => {
    const fake = 'SWMTKN-1-' + 'x'.repeat(50) + '-' + 'y'.repeat(25);
    expect(redact(`join --token ${fake} 10.0.0.1:2377`)).toBe('join --token SWMTKN-<redacted> 10.0.0.1:2377');
    expect(redact('key SWMKEY-1-abcDEF+/=')).toBe('key SWMKEY-<redacted>');
  });
});

describe('handshakes in flight (HandshakeGate)', () => {
  /** Start `n` handshakes to the given destinations; each waits until let go; the most ever in flight, per destination. */
  function harness(gate: HandshakeGate) {
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    const waiting: Array<() => void> = [];
    const bump = (k: string, d: number) => {
      inFlight.set(k, (inFlight.get(k) ?? 0) + d);
      most.set(k, Math.max(most.get(k) ?? 0, inFlight.get(k)!));
    };
    const start = (dest: string, fail = false) =>
      gate.run(dest, async () => {
        bump(dest, 1);
        bump('*', 1);
        await new Promise<void>((r) => waiting.push(r));
        bump(dest, -1);
        bump('*', -1);
        if (fail) throw new Error(`${dest}: refused`);
        return dest;
      });
    const settle = async () => {
      // Let go of every handshake in flight, again and again, until none is left waiting.
      for (let i = 0; i < 1000; i++) {
        await new Promise((r) => setImmediate(r));
        const now = waiting.splice(0);
        if (now.length === 0 && i > 2) return;
        now.forEach((r) => r());
      }
    };
    return { start, settle, most, inFlight };
  }

  it('50 entries of one sshd: at most 8 handshakes to it at once, every one done', async () => {
    const h = harness(new HandshakeGate(8, 32));
    const all = Promise.all(Array.from({ length: 50 }, () => h.start('10.0.0.1')));
    await h.settle();
    expect(await all).toHaveLength(50);
    expect(h.most.get('10.0.0.1')).toBe(8);
  });

  it('distinct addresses wait only for the total; a busy destination holds no slot of the total', async () => {
    const h = harness(new HandshakeGate(8, 32));
    const busy = Array.from({ length: 20 }, () => h.start('gateway'));
    const spread = Array.from({ length: 40 }, (_, i) => h.start(`10.0.1.${i}`));
    await new Promise((r) => setImmediate(r));
    // 8 to the gateway, the other 24 slots to distinct hosts: none wasted on handshakes queued behind the gateway.
    expect(h.inFlight.get('gateway')).toBe(8);
    expect(h.inFlight.get('*')).toBe(32);
    await h.settle();
    expect(await Promise.all([...busy, ...spread])).toHaveLength(60);
    expect(h.most.get('*')).toBe(32);
  });

  it('a small cluster waits for nothing: all its handshakes start at once', async () => {
    const h = harness(new HandshakeGate());
    const all = Promise.all(Array.from({ length: 8 }, () => h.start('127.0.0.1')));
    await new Promise((r) => setImmediate(r));
    expect(h.inFlight.get('127.0.0.1')).toBe(8);
    await h.settle();
    await all;
  });

  it('a failed handshake frees its slots', async () => {
    const h = harness(new HandshakeGate(1, 1));
    const failed = h.start('a', true).catch((err: unknown) => err);
    const next = h.start('a');
    await h.settle();
    expect(String(await failed)).toMatch('a: refused');
    expect(await next).toBe('a');
  });

  it("destinations: an address, or behind a jump host, that network's address", () => {
    expect(destinationOf({ address: '10.0.0.5' })).toBe('10.0.0.5');
    expect(
      destinationOf({ address: '10.0.0.5', jump: { user: 'ec2-user', address: 'bastion', port: 22 } }),
    ).toBe('ec2-user@bastion:22 10.0.0.5');
  });
});
