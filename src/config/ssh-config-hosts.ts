import { existsSync } from 'node:fs';
import { InputError } from '../errors.ts';
import type { SshConfigured } from '../transport/openssh-config.ts';
import { parseBastion, type JumpHost } from './bastion.ts';
import { expandHome } from './cluster.ts';
import type { HostEntry } from './schema.ts';

/** OpenSSH's view of one alias (src/transport/openssh-config.ts); `{}` where its configuration says nothing. */
export type SshResolve = (alias: string) => SshConfigured;

export interface ReachedAs {
  address: string;
  port: number;
  user: string;
  privateKey?: string;
  jump?: JumpHost;
  hostKeyAlias?: string;
  /** The fields ~/.ssh/config gave (for `plan`). */
  fromSshConfig?: string[];
}

/**
 * How one inventory host is reached: its own fields, then the file's `ssh:` defaults, then what ~/.ssh/config sets
 * for its address (or name) as OpenSSH resolves it, then swarmup's defaults (port 22, root). Pure given `resolve`
 * and `exists`.
 */
export function reachedAs(
  h: HostEntry,
  defaults: { user?: string; port?: number; privateKey?: string; bastion?: string },
  resolve: SshResolve | undefined,
  where: (field: string) => string,
  exists: (path: string) => boolean = existsSync,
): ReachedAs {
  const alias = h.address ?? h.name;
  const c = resolve?.(alias) ?? {};
  const from: string[] = [];
  const pick = <T>(own: T | undefined, configured: T | undefined, field: string, fallback: T): T => {
    if (own !== undefined) return own;
    if (configured !== undefined) {
      from.push(field);
      return configured;
    }
    return fallback;
  };
  if (c.proxyCommand && !defaults.bastion)
    throw new InputError(
      where(
        `host ${h.name}: the ssh configuration gives ${alias} a ProxyCommand, which swarmup cannot follow: ` +
          'use ProxyJump, ssh.bastion, or --no-ssh-config',
      ),
    );
  const address = pick(undefined, c.hostname, 'HostName', alias);
  const port = pick(h.port ?? defaults.port, c.port, 'Port', 22);
  const user = pick(h.user ?? defaults.user, c.user, 'User', 'root');
  const key = pick(
    h.privateKey ?? defaults.privateKey,
    c.identityFiles?.find((f) => exists(expandHome(f))),
    'IdentityFile',
    undefined,
  );
  const privateKey = key ? expandHome(key) : undefined;
  const reached: ReachedAs = { address, port, user, ...(privateKey ? { privateKey } : {}) };
  if (c.hostKeyAlias) {
    reached.hostKeyAlias = c.hostKeyAlias;
    from.push('HostKeyAlias');
  }
  if (c.proxyJump && !defaults.bastion) {
    reached.jump = jumpHost(h.name, c.proxyJump, user, privateKey, resolve, where, exists);
    from.push('ProxyJump');
  }
  if (from.length) reached.fromSshConfig = from;
  return reached;
}

/** One ProxyJump hop, itself resolved through the configuration (its HostName, Port, User, IdentityFile). */
function jumpHost(
  host: string,
  proxyJump: string,
  user: string,
  privateKey: string | undefined,
  resolve: SshResolve | undefined,
  where: (field: string) => string,
  exists: (path: string) => boolean,
): JumpHost {
  const field = where(`host ${host}: ProxyJump ${proxyJump}`);
  if (proxyJump.includes(','))
    throw new InputError(`${field}: one jump host only (swarmup does not chain them)`);
  // ssh -G writes a hop as user@[host]:port, brackets even around a name or an IPv4 address.
  const written = proxyJump.replace(/^ssh:\/\//, '').replace(/\[([^\]:]+)\]/, '$1');
  const hop = parseBastion(written, field, '', undefined);
  const explicitUser = /@/.test(written);
  const explicitPort = /:\d+$/.test(written);
  const c = resolve?.(hop.address) ?? {};
  if (c.proxyJump || c.proxyCommand)
    throw new InputError(`${field}: the jump host has a jump host of its own (swarmup does not chain them)`);
  const key = c.identityFiles?.find((f) => exists(expandHome(f)));
  const jumpKey = key ? expandHome(key) : privateKey;
  return {
    name: `jump host ${hop.address}`,
    address: c.hostname ?? hop.address,
    port: explicitPort ? hop.port : (c.port ?? 22),
    user: explicitUser ? hop.user : (c.user ?? user),
    ...(jumpKey ? { privateKey: jumpKey } : {}),
  };
}
