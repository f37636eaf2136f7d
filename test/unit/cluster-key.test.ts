import { describe, expect, it } from 'vitest';
import { generateEd25519, isWellFormedEd25519 } from '../../src/state/cluster-key.ts';

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
  });
});
