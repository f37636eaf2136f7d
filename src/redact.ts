/**
 * Last line of defence for secrets: join tokens (SWMTKN-...) and unlock keys (SWMKEY-...) are never meant to reach
 * any output, but every message that leaves swarmup passes through here anyway.
 */
// No word boundary before it: a token glued to other text ("tokenSWMTKN-1-...") is redacted too.
const SECRET = /(SWMTKN|SWMKEY)-[0-9]+-[A-Za-z0-9+/=-]+/g;

export function redact(text: string): string {
  return text.replace(SECRET, '$1-<redacted>');
}

/**
 * Engine data (docker info, node, network, service, secret and config objects as the Engine API returns them)
 * before it is written anywhere outside swarmup, e.g. the diagnose archive: names kept, secret values dropped. Pure.
 *   - `Env` entries `NAME=value` keep NAME only (a service's environment is where passwords live);
 *   - every `Options` / `DriverOpts` map (log drivers: awslogs keys, splunk tokens, ...; volume and IPAM drivers)
 *     keeps its option names and drops their values, except Docker's own `com.docker.network.*` network options;
 *   - a secret's or config's `Data`, and every value under a key shaped like a secret (password, secret, token,
 *     key, credential, auth, ...: names and IDs kept), are dropped;
 *   - in every string left: `NAME=value` with a secret-shaped NAME, a URL's `user:password@`, join tokens and
 *     unlock keys; in an argument list, the word after a secret-shaped flag (`--password x`).
 */
export function redactEngineData(value: unknown): unknown {
  return walk(value, undefined);
}

/** The text rules of redactEngineData, for text that is not engine JSON (logs, summaries). Pure. */
export function redactText(text: string): string {
  return redactAssignments(redact(text).replace(URL_USERINFO, `$1$2:${REDACTED}@`));
}

export const REDACTED = '<redacted>';

/** Parts of a key or variable name that say it holds a secret (`DB_PASSWORD`, `awslogs-secret`, `apiToken`). */
const SECRET_WORD =
  /(?:pass(?:word|wd|phrase)?|secret|token|credentials?|auth|private|apikey|api_key|access_key|signature|cookie|session)/i;
/** Names that only name, point at or describe a secret: kept (`SecretName`, `SecretID`, `TokenFile`, `PublicKey`). */
const HARMLESS_NAME =
  /(?:name|id|ids|file|path|target|mode|uid|gid|expiry|version|rotation|publickey|autolockmanagers)$/i;
/** `key` as a word of its own (`key`, `aws.key`, `SigningKey`), not inside another (`monkey`, `keyboard`). */
const KEY_WORD = /(?:^|[-_.])key(?:$|[-_.])/i;
const CAMEL_KEY = /[A-Za-z0-9]Key$/;

export function secretName(name: string): boolean {
  return (SECRET_WORD.test(name) || KEY_WORD.test(name) || CAMEL_KEY.test(name)) && !HARMLESS_NAME.test(name);
}

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):[^\s@/]+@/gi;
const ASSIGNMENT = /([A-Za-z0-9_.-]+)(=|: ?)([^\s,;&"']+)/g;

function redactAssignments(text: string): string {
  return text.replace(ASSIGNMENT, (m, name: string, sep: string, val: string) =>
    secretName(name) && val !== REDACTED ? `${name}${sep}${REDACTED}` : m,
  );
}

const secretKey = secretName;
const secretFlag = (word: string) =>
  /^--?[A-Za-z0-9_.-]+$/.test(word) && secretName(word.replace(/^--?/, ''));

function walk(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) {
    if (key === 'Env')
      return value.map((e) => (typeof e === 'string' ? e.replace(/=.*$/s, `=${REDACTED}`) : e));
    return value.map((v, i) =>
      i > 0 && typeof v === 'string' && typeof value[i - 1] === 'string' && secretFlag(value[i - 1] as string)
        ? REDACTED
        : walk(v, undefined),
    );
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'Options' || k === 'DriverOpts') out[k] = options(v);
    else if (k === 'Data' && typeof v === 'string') out[k] = REDACTED;
    else if (secretKey(k) && v !== null && typeof v !== 'object' && typeof v !== 'boolean') out[k] = REDACTED;
    else out[k] = walk(v, k);
  }
  return out;
}

function options(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return walk(v, undefined);
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([name, val]) => [
      name,
      name.startsWith('com.docker.network.') && !secretKey(name) ? walk(val, undefined) : REDACTED,
    ]),
  );
}
