import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir, userInfo } from 'node:os';
import { InputError } from '../errors.ts';

/*
 * A host as OpenSSH resolves it from ~/.ssh/config and /etc/ssh/ssh_config (or one file: SWARMUP_SSH_CONFIG, as
 * `ssh -F` reads it), asked of OpenSSH itself: `ssh -G ALIAS` prints the options it would use, after every Host and
 * Match block. Only what the configuration set is kept (compared with `ssh -G -F /dev/null`, OpenSSH's own
 * defaults), so swarmup's defaults still apply where the configuration says nothing.
 */

/** The fields the configuration set for one alias; absent where it set nothing. */
export interface SshConfigured {
  hostname?: string;
  user?: string;
  port?: number;
  /** The IdentityFile entries, tokens (%d, %h, %r, %p, %u) and ~ expanded. */
  identityFiles?: string[];
  /** ProxyJump as written: `[user@]host[:port]`, comma-separated hops, or an alias. */
  proxyJump?: string;
  hostKeyAlias?: string;
  /** ProxyCommand, which swarmup cannot follow (its transport is its own). */
  proxyCommand?: string;
}

/** `ssh -G` output as keyword -> values (identityfile repeats). Pure. */
export function parseSshG(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), m[2]!]);
  }
  return out;
}

/** What `configured` sets that `defaults` (the same alias with no configuration) does not. Pure. */
export function configuredFields(
  alias: string,
  configured: Map<string, string[]>,
  defaults: Map<string, string[]>,
  home: string,
  localUser: string,
): SshConfigured {
  const one = (m: Map<string, string[]>, k: string) => m.get(k)?.[0];
  const set = (k: string): string | undefined => {
    const v = one(configured, k);
    return v !== undefined && v !== one(defaults, k) && v !== 'none' ? v : undefined;
  };
  const result: SshConfigured = {};
  const hostname = one(configured, 'hostname');
  // ssh lower-cases the name it is given: a HostName equal to the alias is no HostName.
  if (hostname && hostname !== alias.toLowerCase() && hostname !== one(defaults, 'hostname'))
    result.hostname = hostname;
  const user = set('user');
  if (user) result.user = user;
  const port = set('port');
  if (port) result.port = Number(port);
  const ids = configured.get('identityfile') ?? [];
  const defaultIds = new Set(defaults.get('identityfile') ?? []);
  if (ids.length > 0 && ids.some((f) => !defaultIds.has(f))) {
    const host = result.hostname ?? alias;
    const expand = (f: string) =>
      f
        .replace(/%(.)/g, (_, c: string) =>
          c === 'd'
            ? home
            : c === 'h'
              ? host
              : c === 'r'
                ? (user ?? localUser)
                : c === 'p'
                  ? (port ?? '22')
                  : c === 'u'
                    ? localUser
                    : c === '%'
                      ? '%'
                      : `%${c}`,
        )
        .replace(/^~(?=\/|$)/, home);
    result.identityFiles = ids.map(expand);
  }
  const jump = set('proxyjump');
  if (jump) result.proxyJump = jump;
  const alias2 = set('hostkeyalias');
  if (alias2) result.hostKeyAlias = alias2;
  const command = set('proxycommand');
  if (command) result.proxyCommand = command;
  return result;
}

/** The keywords whose values swarmup reads, and the ones that can bring in more configuration. */
const READ = /^\s*(hostname|user|port|identityfile|proxyjump|proxycommand|hostkeyalias|match|include)\b/i;

/**
 * Whether configuration files could set anything swarmup reads: false only when none of them names a keyword it
 * reads (or an Include/Match beyond the system file's own `Include /etc/ssh/ssh_config.d/*.conf`). Then `ssh -G`
 * would say nothing and is not run (each run costs ~50 ms). Pure.
 */
export function mayConfigure(files: Array<{ path: string; text: string | undefined }>): boolean {
  return files.some(
    ({ path, text }) =>
      text !== undefined &&
      text.split('\n').some((line) => {
        const l = line.replace(/#.*/, '').trim();
        if (!READ.test(l)) return false;
        // Debian's and Ubuntu's own line: the folder it names is read below.
        return !(
          path === '/etc/ssh/ssh_config' && /^include\s+\/etc\/ssh\/ssh_config\.d\/\*\.conf$/i.test(l)
        );
      }),
  );
}

/** ~/.ssh/config (or SWARMUP_SSH_CONFIG), /etc/ssh/ssh_config and /etc/ssh/ssh_config.d/*.conf, as far as they exist. */
function configFiles(
  configFile: string | undefined,
  home: string,
): Array<{ path: string; text: string | undefined }> {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      // Unreadable for another reason than absence: ssh -G will say what it makes of it.
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'include';
    }
  };
  if (configFile) return [{ path: configFile, text: read(configFile) ?? 'include' }];
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync('/etc/ssh/ssh_config.d')
      .filter((f) => f.endsWith('.conf'))
      .map((f) => `/etc/ssh/ssh_config.d/${f}`);
  } catch {
    dropIns = [];
  }
  return [join(home, '.ssh', 'config'), '/etc/ssh/ssh_config', ...dropIns].map((path) => ({
    path,
    text: read(path),
  }));
}

/**
 * The resolver of one run: `ssh -G` per alias, each asked once, the `aliases` known beforehand asked all at once
 * (one ssh process takes ~50 ms to start); undefined where there is no ssh client. A configuration that ssh refuses
 * is bad input, said with ssh's own message.
 */
export async function opensshResolver(
  aliases: string[],
  configFile: string | undefined = process.env.SWARMUP_SSH_CONFIG || undefined,
): Promise<((alias: string) => SshConfigured) | undefined> {
  let home: string;
  let localUser: string;
  try {
    home = homedir();
    localUser = userInfo().username;
  } catch {
    return undefined;
  }
  const refused = (args: string[], err: unknown): InputError => {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return new InputError(
      `ssh -G ${args.at(-1)}${configFile ? ` (-F ${configFile})` : ''}: ${String(e.stderr || e.message).trim()}`,
    );
  };
  const options = { encoding: 'utf8' as const, timeout: 10_000 };
  const runAsync = (args: string[]): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const child = execFile('ssh', args, options, (err, stdout) => {
        if (!err) resolve(stdout);
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve(undefined);
        else reject(refused(args, err));
      });
      child.stdin?.end();
    });
  const runSync = (args: string[]): string => {
    try {
      return execFileSync('ssh', args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw refused(args, err);
    }
  };
  // Nothing to ask when no configuration file names a field swarmup reads.
  if (!mayConfigure(configFiles(configFile, home))) return () => ({});
  const asked = (alias: string) => [...(configFile ? ['-F', configFile] : []), '-G', '--', alias];
  const usable = (alias: string) => /^[A-Za-z0-9._:%-]+$/.test(alias) && !alias.startsWith('-');
  const wanted = [...new Set(aliases.filter(usable))];
  const [defaultsText, ...texts] = await Promise.all([
    runAsync(['-F', '/dev/null', '-G', '--', 'swarmup-defaults']),
    ...wanted.map((a) => runAsync(asked(a))),
  ]);
  if (defaultsText === undefined) return undefined;
  const defaults = parseSshG(defaultsText);
  const cache = new Map<string, SshConfigured>();
  const fieldsOf = (alias: string, text: string) =>
    configuredFields(alias, parseSshG(text), defaults, home, localUser);
  wanted.forEach((a, i) => cache.set(a, fieldsOf(a, texts[i] ?? '')));
  return (alias: string) => {
    if (!usable(alias)) return {};
    let fields = cache.get(alias);
    if (!fields) {
      // An alias not known beforehand (a jump host): asked now.
      fields = fieldsOf(alias, runSync(asked(alias)));
      cache.set(alias, fields);
    }
    return fields;
  };
}
