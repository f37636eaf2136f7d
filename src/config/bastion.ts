import { InputError } from '../errors.ts';

export interface JumpHost {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKey?: string;
}

/** `[user@]host[:port]` (IPv6 in brackets), as `ssh -J` takes it. */
export function parseBastion(
  text: string,
  field: string,
  defaultUser: string,
  privateKey?: string,
): JumpHost {
  const m = /^(?:([^@\s]+)@)?(\[[0-9a-fA-F:]+\]|[^:\s@[\]]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m || (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))) {
    throw new InputError(`${field}: "${text}" is not [user@]host[:port]`);
  }
  const address = m[2]!.replace(/^\[|\]$/g, '');
  return {
    name: `bastion ${address}`,
    address,
    port: m[3] ? Number(m[3]) : 22,
    user: m[1] ?? defaultUser,
    ...(privateKey ? { privateKey } : {}),
  };
}
