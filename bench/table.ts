/** Plain fixed-width tables for the terminal (and markdown when asked). */
export function table(headers: string[], rows: (string | number)[][], markdown = false): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  if (markdown) {
    const line = (r: string[]) => `| ${r.join(' | ')} |`;
    return [line(headers), line(headers.map(() => '---')), ...cells.map(line)].join('\n');
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}
