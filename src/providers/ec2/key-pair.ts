import { DescribeKeyPairsCommand, ImportKeyPairCommand } from '@aws-sdk/client-ec2';
import type { ProgressSink } from '../provider.ts';
import type { AwsApi } from './aws.ts';
import { clusterFilter, tagSpec } from './tags.ts';

/**
 * The cluster's key pair, imported from a public key made here (the private key never leaves this machine).
 * True when it had to be imported.
 */
export async function ensureKeyPair(
  api: AwsApi,
  cluster: string,
  keyName: string,
  publicKey: string,
  progress: ProgressSink,
): Promise<boolean> {
  const found = await api.ec2.send(new DescribeKeyPairsCommand({ Filters: clusterFilter(cluster) }));
  if ((found.KeyPairs ?? []).some((k) => k.KeyName === keyName)) return false;
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
