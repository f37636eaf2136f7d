import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

/**
 * An ed25519 public key in OpenSSH format is the type string and exactly 32 key bytes (a 51-byte blob). ssh2's
 * generator drops a leading zero byte of the key (about one key in 256), which sshd and AWS then refuse.
 */
export function isWellFormedEd25519(publicKey: string): boolean {
  const [type, b64] = publicKey.trim().split(/\s+/);
  if (type !== 'ssh-ed25519' || !b64) return false;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length !== 51 || blob.readUInt32BE(0) !== 11) return false;
  return blob.subarray(4, 15).toString('ascii') === 'ssh-ed25519' && blob.readUInt32BE(15) === 32;
}

/** ssh2's key utilities. Required when needed, not imported at the top: the state store (and so every command) would load ssh2 at start. */
function sshUtils(): typeof ssh2.utils {
  return (createRequire(import.meta.url)('ssh2') as typeof ssh2).utils;
}

/** A new ed25519 key pair in OpenSSH format, never one of the malformed ones. */
export function generateEd25519(comment: string): { private: string; public: string } {
  const utils = sshUtils();
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (isWellFormedEd25519(pair.public)) return pair;
  }
}

/**
 * The OpenSSH public key line of a private key (the text of its file), as its `.pub` file has it; throws with
 * why when the text is not an unencrypted private key ssh2 can read.
 */
export function publicKeyOf(privateKey: string, comment: string): string {
  const key = sshUtils().parseKey(privateKey);
  if (key instanceof Error) throw key;
  if (!key.isPrivateKey()) throw new Error('a public key, not a private one');
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
}
