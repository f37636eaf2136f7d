// Every relative link in README.md and docs/**/*.md resolves: the file exists, and a `#anchor` names a heading of
// the target page (GitHub's slug of it). A page moved or a heading renamed without its links fails here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...docs.sort()];
}

/** Each line's text outside fenced code blocks and inline code spans (a `[x](y)` there is no link). */
function prose(markdown: string): string[] {
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    lines.push(fenced || /^\s*```/.test(line) ? '' : line.replace(/`[^`]*`/g, ''));
  }
  return lines;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const [index, line] of prose(readFileSync(file, 'utf8')).entries()) {
    for (const match of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const link = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: ...
      const [path = '', anchor] = link.split('#', 2);
      const target = path === '' ? file : resolve(dirname(file), path);
      const where = `${relative(root, file)}:${index + 1}: ${link}`;
      if (!existsSync(target)) broken.push(`${where}: no such file`);
      else if (anchor && statSync(target).isFile() && target.endsWith('.md')) {
        if (!headingSlugs(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('finds the README and the docs pages', () => {
    const files = markdownFiles().map((f) => relative(root, f));
    expect(files).toContain('README.md');
    expect(files).toContain('docs/cli.md');
  });

  it('resolves every relative link in README.md and docs/**/*.md, anchors included', () => {
    expect(markdownFiles().flatMap(brokenLinks)).toEqual([]);
  });

  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs(
      '# Config / inventory file\n## What `up` does\n## AWS (EC2)\n## Tests\n## Tests\n',
    );
    expect([...slugs]).toEqual(['config--inventory-file', 'what-up-does', 'aws-ec2', 'tests', 'tests-1']);
  });
});

/**
 * Messages and comments in src/ that send the reader to a page of the documentation by section name
 * (`docs/day-two.md, "Life after bring-up"`) name a page that exists and a heading it has: the README's reference
 * moved to docs/ once, and the messages that still named README sections pointed at nothing.
 */
describe('documentation cited by the source', () => {
  const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(root, 'src', f));
  const cites = sources.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(README(?:\.md)?|docs\/[\w/.-]+\.md),? \(?"([^"]+)"/g)].map(
      (m) => ({
        file: relative(root, file),
        page: m[1]!,
        section: m[2]!,
      }),
    ),
  );

  it('finds the citations it checks', () => {
    expect(cites.length).toBeGreaterThan(3);
  });

  it('every cited page is a docs/ page with a heading of that name', () => {
    const wrong = cites.flatMap(({ file, page, section }) => {
      const path = join(root, page);
      if (!page.startsWith('docs/') || !existsSync(path)) return [`${file}: ${page} (no such docs page)`];
      const headings = readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((l) => /^#{1,6}\s+(.*?)\s*$/.exec(l)?.[1] ?? []);
      return headings.some((h) => h.startsWith(section))
        ? []
        : [`${file}: ${page} has no heading "${section}"`];
    });
    expect(wrong).toEqual([]);
  });
});
