/** POSIX shell quoting: the value becomes exactly one word, whatever it contains. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Tagged template for remote commands: every interpolated value is shell-quoted, arrays become several words.
 *   sh`docker node rm ${id}`  ->  "docker node rm 'a b'" when id is "a b"
 */
export function sh(
  strings: TemplateStringsArray,
  ...values: Array<string | number | Array<string | number>>
): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += Array.isArray(v) ? v.map(quote).join(' ') : quote(v);
    out += strings[i + 1] ?? '';
  });
  return out;
}

/** The command that runs a script as root: directly for root, else through `sudo -n`. */
export function asRootScript(script: string): string {
  return `if [ "$(id -u)" = 0 ]; then sh -c ${quote(script)}; else sudo -n sh -c ${quote(script)}; fi`;
}
