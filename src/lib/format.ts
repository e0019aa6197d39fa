// Small text helpers shared by the CLI, the logs, the status table and the status page.

/** Latency as "8.5 ms" (one decimal below 100 ms, whole above); "-" when unknown. */
export function formatMs(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '-';
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

/** A ratio as a whole percentage ("30%"; "<1%" for a little above zero); "-" when unknown. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio == null || !Number.isFinite(ratio)) return '-';
  return ratio > 0 && ratio < 0.005 ? '<1%' : `${Math.round(ratio * 100)}%`;
}

/** A compact duration: 45s, 3m12s, 2h05m, 3d04h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** "3m12s ago" (or "in 3m12s") for an ISO time; "-" when absent or unparsable. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  return t > now + 1000 ? `in ${formatDuration(t - now)}` : `${formatDuration(now - t)} ago`;
}

/** "2025-01-02 03:04:05Z": ISO without the T and the milliseconds. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? iso
    : new Date(t)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

/** What went wrong, in one line for an operator: an Error's message, else the value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What went wrong, for a log line: the stack of an Error (a bug wants it), else the value. */
export function errorDetail(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

/** Text in a terminal style when colour is on. */
export function paint(text: string, style: Style, color: boolean): string {
  return color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text;
}

/** A table cell: plain text, or text with a style used only when colour is on. */
export type Cell = string | { text: string; style?: Style };

/**
 * Aligned columns, two spaces apart, the header in bold when coloured. Padding is computed on the
 * visible text, so escape codes never break the alignment.
 */
export function formatTable(header: string[], rows: Cell[][], color = false): string {
  const cell = (c: Cell | undefined) => (typeof c === 'string' ? { text: c } : (c ?? { text: '' }));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => cell(r[i]).text.length)));
  const line = (cells: Cell[]) =>
    cells
      .map(cell)
      // the padding goes outside the colour, so trimming the line's end trims the same with and without
      .map((c, i) => {
        const text = c.style ? paint(c.text, c.style, color) : c.text;
        return i === cells.length - 1 ? text : text + ' '.repeat(widths[i]! - c.text.length);
      })
      .join('  ')
      .trimEnd();
  return [line(header.map((text) => ({ text, style: 'bold' as const }))), ...rows.map(line)].join('\n');
}
