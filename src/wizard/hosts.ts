import type { ConfigFile, HostEntry } from '../config/schema.ts';

/** One host as asked: every field given (the key may be blank: ssh-agent). */
export interface HostAnswer {
  name: string;
  address: string;
  user: string;
  port: number;
  privateKey?: string;
}

/**
 * The hosts as the inventory writes them: the first host's user and port go to `ssh:` (the defaults for every
 * host), and so does its key when every host has that key (a host cannot undo a default key to use ssh-agent); a
 * host lists only what differs. Pure.
 */
export function inventory(hosts: HostAnswer[]): Pick<ConfigFile, 'ssh' | 'hosts'> {
  const first = hosts[0];
  if (!first) return {};
  const sharedKey = hosts.every((h) => h.privateKey === first.privateKey) ? first.privateKey : undefined;
  const ssh = { user: first.user, port: first.port, ...(sharedKey ? { privateKey: sharedKey } : {}) };
  const entries: HostEntry[] = hosts.map((h) => ({
    name: h.name,
    address: h.address,
    ...(h.user !== ssh.user ? { user: h.user } : {}),
    ...(h.port !== ssh.port ? { port: h.port } : {}),
    ...(h.privateKey && !sharedKey ? { privateKey: h.privateKey } : {}),
  }));
  return { ssh, hosts: entries };
}
