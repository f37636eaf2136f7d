/* Ansible's host patterns (ranges, `:port`) and its shlex-style splitting of INI lines. Pure. */

/**
 * `node[01:05]`, `node[a:c]`, `web[1:9:2].lab`, several ranges in one name, and a `:port` suffix, as Ansible
 * expands them (`01` keeps its width).
 */
export function parseHostPattern(
  pattern: string,
  fail: (message: string) => never,
): { names: string[]; port?: number } {
  let text = pattern;
  let port: number | undefined;
  // A port after the last colon outside brackets (`[::1]:22`, `node[1:3]:2222`); a bare IPv6 address has none.
  let depth = 0;
  let lastColon = -1;
  let colons = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']') depth--;
    else if (text[i] === ':' && depth === 0) {
      lastColon = i;
      colons++;
    }
  }
  if (colons === 1) {
    const p = text.slice(lastColon + 1);
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      fail(`"${pattern}": the port after ":" must be a number from 1 to 65535`);
    port = Number(p);
    text = text.slice(0, lastColon);
  }
  if (/^\[[0-9A-Fa-f:.]+\]$/.test(text)) text = text.slice(1, -1); // [IPv6]
  const names = expandRanges(text, pattern, fail);
  for (const n of names)
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(n))
      fail(`"${n}" is not a host name swarmup takes (letters, digits, ".", "_" and "-")`);
  return { names, ...(port !== undefined ? { port } : {}) };
}

function expandRanges(text: string, pattern: string, fail: (message: string) => never): string[] {
  const m = /\[([^\]]*)\]/.exec(text);
  if (!m) {
    if (/[[\]]/.test(text)) fail(`"${pattern}": unbalanced "[" or "]"`);
    return [text];
  }
  const head = text.slice(0, m.index);
  const tail = text.slice(m.index + m[0].length);
  const parts = m[1]!.split(':');
  if (parts.length < 2 || parts.length > 3)
    fail(`"${pattern}": a range is [first:last] or [first:last:step], like node[01:05] or node[a:c]`);
  const [beg = '', end = '', stepText = '1'] = parts;
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
    fail(`"${pattern}": the step must be a number above 0`);
  const step = Number(stepText);
  const items: string[] = [];
  if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    const from = Number(beg || '0');
    const to = Number(end);
    if (to < from) fail(`"${pattern}": the range ends before it begins`);
    if ((to - from) / step >= 1000) fail(`"${pattern}": more than 1000 hosts in one range`);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    for (let i = from; i <= to; i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/.test(beg) && /^[a-z]$/.test(end)) {
    if (end < beg) fail(`"${pattern}": the range ends before it begins`);
    for (let c = beg.charCodeAt(0); c <= end.charCodeAt(0); c += step) items.push(String.fromCharCode(c));
  } else {
    fail(`"${pattern}": a range is numbers ([01:05]) or single lower-case letters ([a:c]), not [${m[1]}]`);
  }
  const rest = expandRanges(tail, pattern, fail);
  return items.flatMap((i) => rest.map((r) => head + i + r));
}

// ---------------------------------------------------------------------------------------------------------------
// INI, Ansible's dialect: [group], [group:vars], [group:children]; host lines `pattern key=value ...` split as
// Python's shlex does (quotes, `#` comments); vars lines `key=value`; `#` and `;` comment lines.

/** A line split as shlex (posix, comments) splits it: quotes group, backslash escapes, `#` begins a comment. */
export function shlexSplit(line: string, fail: (message: string) => never): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!))
        word += line[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]!;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else word = (word ?? '') + c;
  }
  if (quote) fail(`no closing ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}
