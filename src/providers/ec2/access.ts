import { existsSync, readFileSync } from 'node:fs';
import type { Ec2Spec } from '../../config/cluster.ts';
import { InputError } from '../../errors.ts';
import type { StateStore } from '../../state/store.ts';

/** Who reaches the instances over SSH, and with which key: the operator's side of an EC2 cluster. */

/** This machine's public IPv4 address, as AWS's own checkip service sees it. */
async function checkIp(): Promise<string | undefined> {
  try {
    const r = await fetch('https://checkip.amazonaws.com', { signal: AbortSignal.timeout(5000) });
    const ip = (await r.text()).trim();
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) ? ip : undefined;
  } catch {
    return undefined;
  }
}

/** Who may reach SSH: the given CIDRs; through a bastion, the VPC; else this machine's public address /32. */
export async function sshCidrsFor(
  ec2: Ec2Spec,
  vpcCidr: string | undefined,
  learnPublicAddress: () => Promise<string | undefined> = checkIp,
): Promise<string[]> {
  if (ec2.sshCidrs) return ec2.sshCidrs;
  // Through a bastion, SSH comes from inside the VPC.
  if (ec2.bastion && vpcCidr) return [vpcCidr];
  const ip = await learnPublicAddress();
  if (!ip)
    throw new InputError(
      "--ssh-cidr is required: this machine's public address could not be learnt (give e.g. --ssh-cidr 203.0.113.7/32)",
    );
  return [`${ip}/32`];
}

/** The public key to import: --ssh-key's file (checked), else the cluster's own key pair. */
export function publicKeyFor(ec2: Ec2Spec, state: StateStore): string {
  if (ec2.sshKey) {
    if (!existsSync(ec2.sshKey))
      throw new InputError(
        `--ssh-key: ${ec2.sshKey}: no such file (a public key, e.g. ~/.ssh/id_ed25519.pub)`,
      );
    const text = readFileSync(ec2.sshKey, 'utf8').trim();
    if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+/.test(text)) {
      throw new InputError(`--ssh-key: ${ec2.sshKey}: not an OpenSSH public key`);
    }
    return text;
  }
  return state.clusterKey().publicKey;
}

/** The private key matching the imported public key: the cluster's own, or the file beside --ssh-key (else ssh-agent). */
export function privateKeyPathFor(ec2: Ec2Spec, state: StateStore): string | undefined {
  if (!ec2.sshKey) return state.clusterKeyPath();
  const priv = ec2.sshKey.replace(/\.pub$/, '');
  return priv !== ec2.sshKey && existsSync(priv) ? priv : undefined;
}
