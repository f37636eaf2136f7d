import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEd25519, isWellFormedEd25519 } from '../../src/state/cluster-key.ts';
import { StateStore } from '../../src/state/store.ts';
import { tempHome } from '../support/cli.ts';

describe('cluster key pair', () => {
  it('recognises the malformed ed25519 keys ssh2 sometimes makes (31 key bytes: refused by sshd and AWS)', () => {
    // Made by ssh2.utils.generateKeyPairSync: its key starts with a zero byte, which was dropped.
    expect(
      isWellFormedEd25519(
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH0cFNEg0yGfA4SC2lozwH12HXZn/Mg2SW9jJ0quJ0hE= swarmup-lab',
      ),
    ).toBe(false);
    expect(
      isWellFormedEd25519(
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x',
      ),
    ).toBe(true);
    expect(isWellFormedEd25519('ssh-rsa AAAAB3NzaC1yc2E= x')).toBe(false);
  });

  it('generates only well-formed pairs (2000 draws: the bad case comes about once in 256)', () => {
    for (let i = 0; i < 2000; i++) expect(isWellFormedEd25519(generateEd25519('t').public)).toBe(true);
  }, 30_000); // 2000 key pairs: about 1 s idle, past the default 5 s on a loaded 2-core machine
});

/** The cluster's key pair in a real state folder: the private key the machines trust is never replaced. */
describe('cluster key pair in the state folder', () => {
  const store = (name: string) => {
    process.env.SWARMUP_HOME = tempHome();
    return new StateStore(name);
  };
  const mode = (file: string) => statSync(file).mode & 0o777;

  it('a missing id_ed25519.pub is derived again from the private key, which stays as it was', () => {
    const s = store('keys');
    const made = s.clusterKey();
    const priv = readFileSync(made.privateKeyPath);
    const pub = join(s.dir, 'id_ed25519.pub');
    rmSync(pub);
    const again = s.clusterKey();
    expect(readFileSync(again.privateKeyPath)).toEqual(priv);
    expect(again.publicKey).toBe(made.publicKey);
    expect(isWellFormedEd25519(again.publicKey)).toBe(true);
    expect(readFileSync(pub, 'utf8')).toBe(made.publicKey + '\n');
    expect([mode(again.privateKeyPath), mode(pub)]).toEqual([0o600, 0o600]);
  });

  it('a corrupt private key without its .pub is an error naming the file (exit 2), not a new pair', () => {
    const s = store('broken');
    s.clusterKey();
    const priv = s.clusterKeyPath();
    const corrupt = readFileSync(priv, 'utf8').replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    writeFileSync(priv, corrupt);
    rmSync(join(s.dir, 'id_ed25519.pub'));
    let error: (Error & { exitCode?: number }) | undefined;
    try {
      s.clusterKey();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toContain(`${priv}: the cluster's private key cannot be read`);
    expect(error?.exitCode).toBe(2);
    expect(readFileSync(priv, 'utf8')).toBe(corrupt);
    expect(existsSync(join(s.dir, 'id_ed25519.pub'))).toBe(false);

    // Not a private key at all (a public key written in its place): the same refusal.
    writeFileSync(
      priv,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x\n',
    );
    expect(() => s.clusterKey()).toThrow(/a public key, not a private one/);
  });
});
