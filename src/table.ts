/**
 * Rows laid out in columns the way `docker node ls` lays them out: each column as wide as its widest cell (header
 * included), three spaces between columns, no trailing blanks. One line per row, the header first. Pure.
 */
export function columns(header: readonly string[], body: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  return [header, ...body].map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('   ')
      .trimEnd(),
  );
}
