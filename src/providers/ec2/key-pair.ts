import { createHash, createPublicKey } from 'node:crypto';
import { DescribeKeyPairsCommand, ImportKeyPairCommand } from '@aws-sdk/client-ec2';
import { InputError } from '../../errors.ts';
import type { ProgressSink } from '../provider.ts';
import type { AwsApi } from './aws.ts';
import { ownFilter, tagSpec } from './tags.ts';

/** The strings of an OpenSSH key blob: length-prefixed (RFC 4251). */
function sshStrings(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= blob.length;) {
    const len = blob.readUInt32BE(at);
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

const colonHex = (b: Buffer) => b.toString('hex').replace(/(..)(?!$)/g, '$1:');
const base64Bare = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** The public key as DER SubjectPublicKeyInfo, built from the OpenSSH blob; undefined for a type not handled. */
function spki(type: string, parts: Buffer[]): Buffer | undefined {
  const url = (b: Buffer) => b.toString('base64url');
  try {
    if (type === 'ssh-ed25519' && parts[1]?.length === 32) {
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: url(parts[1]) }, format: 'jwk' }).export(
        {
          type: 'spki',
          format: 'der',
        },
      );
    }
    if (type === 'ssh-rsa' && parts[1] && parts[2]) {
      // mpints may carry a leading zero byte (sign); JWK wants the bare magnitude.
      const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
      return createPublicKey({
        key: { kty: 'RSA', e: url(strip(parts[1])), n: url(strip(parts[2])) },
        format: 'jwk',
      }).export({ type: 'spki', format: 'der' });
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Every spelling under which EC2 may report an imported key's fingerprint, for the OpenSSH public key given.
 * AWS: ed25519 as the base64 SHA-256 of the key blob without '=' padding (ssh-keygen -l -E sha256 without
 * "SHA256:"); RSA as the MD5 of the DER public key in colon hex. Also the colon-hex SHA-256 of the DER public key
 * for ed25519 (what the emulator, moto, reports) and the MD5 of the key blob for RSA (RFC 4716, ssh-keygen -E md5):
 * each names this same key, so accepting them never lets another key through. Empty for key types not handled
 * (then the fingerprint is not compared).
 */
export function keyFingerprints(publicKey: string): string[] {
  const [type, data] = publicKey.trim().split(/\s+/);
  if (!type || !data) return [];
  const blob = Buffer.from(data, 'base64');
  const parts = sshStrings(blob);
  if (parts[0]?.toString() !== type) return [];
  const der = spki(type, parts);
  if (!der) return [];
  const hash = (alg: string, b: Buffer) => createHash(alg).update(b).digest();
  if (type === 'ssh-ed25519') return [base64Bare(hash('sha256', blob)), colonHex(hash('sha256', der))];
  return [colonHex(hash('md5', der)), colonHex(hash('md5', blob))];
}

/** A fingerprint as compared: no "SHA256:"/"MD5:" prefix, no base64 padding; hex in lower case. */
function normalFingerprint(f: string): string {
  const bare = f.trim().replace(/^(SHA256|MD5):/i, '');
  return /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(bare) ? bare.toLowerCase() : bare.replace(/=+$/, '');
}

/** Whether EC2's fingerprint names the local public key; true when that cannot be told (unknown key type, none given). */
export function fingerprintMatches(publicKey: string, awsFingerprint: string | undefined): boolean {
  if (!awsFingerprint) return true;
  const mine = keyFingerprints(publicKey);
  if (mine.length === 0) return true;
  return mine.includes(normalFingerprint(awsFingerprint));
}

/**
 * The cluster's key pair, imported from a public key made here (the private key never leaves this machine).
 * True when it had to be imported. A key pair of that name whose fingerprint is not the local key's is refused
 * (bad input, before anything is created): instances launched with it could not be reached with the local key.
 */
export async function ensureKeyPair(
  api: AwsApi,
  cluster: string,
  keyName: string,
  publicKey: string,
  progress: ProgressSink,
  keySource = 'the local key',
): Promise<boolean> {
  const found = await api.ec2.send(new DescribeKeyPairsCommand({ Filters: ownFilter(cluster) }));
  const existing = (found.KeyPairs ?? []).find((k) => k.KeyName === keyName);
  if (existing) {
    if (!fingerprintMatches(publicKey, existing.KeyFingerprint)) {
      throw new InputError(
        `key pair ${keyName} in ${api.region} does not match ${keySource} (AWS reports fingerprint ` +
          `${existing.KeyFingerprint}, the local key's is ${keyFingerprints(publicKey)[0]}): ` +
          `delete the key pair ${keyName} in ${api.region} ` +
          `(aws ec2 delete-key-pair --key-name ${keyName} --region ${api.region}) so swarmup imports the local key, ` +
          `or run "swarmup down --name ${cluster}" to remove the cluster`,
      );
    }
    return false;
  }
  progress(`importing key pair ${keyName}`);
  await api.ec2.send(
    new ImportKeyPairCommand({
      KeyName: keyName,
      PublicKeyMaterial: Buffer.from(publicKey),
      TagSpecifications: [tagSpec('key-pair', cluster, keyName)],
    }),
  );
  return true;
}
