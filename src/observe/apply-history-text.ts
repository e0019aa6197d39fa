// `nat64-health history`: the apply history as a table, or entry by entry with its diff.
import { changePool, entrySetChange, setChange, type HistoryEntry } from '../apply/history.js';
import { formatAgo, formatTable, formatTime, paint, type Cell } from '../lib/format.js';

function outcomeCell(e: HistoryEntry): Cell {
  const text = e.attempts ? `${e.outcome} x${e.attempts}` : e.outcome;
  return { text, style: e.outcome === 'applied' ? 'green' : 'red' };
}

/** Why, and for a failure what went wrong. */
function why(e: HistoryEntry): string {
  return e.error ? `${e.reason}; ${e.stage ? `${e.stage}: ` : ''}${e.error}` : e.reason;
}

/** One line per apply, newest first. */
export function formatHistoryTable(entries: readonly HistoryEntry[], now: number, color = false): string {
  const rows = entries.map((e): Cell[] => [
    String(e.id),
    `${formatTime(e.at)} (${formatAgo(e.at, now)})`,
    e.target,
    outcomeCell(e),
    entrySetChange(e),
    why(e).replace(/\s*\n\s*/g, ' '),
  ]);
  return formatTable(['ID', 'APPLIED AT', 'TARGET', 'OUTCOME', 'SET', 'REASON'], rows, color) + '\n';
}

const list = (ids: readonly string[] | null) => (ids === null ? 'not known' : ids.join(', ') || 'none');

/** The set before and after; with pools, each pool's (the default pool's last). */
function setLines(e: HistoryEntry): string[] {
  if (!e.pools) return [`set: ${list(e.old)} -> ${list(e.new)} (${setChange(e)})`];
  const pools = Object.entries(e.pools);
  return ['sets:', ...pools.map(([name, s]) => `  ${name}: ${list(s.old)} -> ${list(s.new)} (${setChange(s)})`)];
}

/** A selection change, its pool first when there are pools. */
function changeLine(e: HistoryEntry, c: HistoryEntry['changes'][number]): string {
  const pool = changePool(e, c);
  return `  ${pool !== null ? `${pool}: ` : ''}${c.id} ${c.change}: ${c.reason}`;
}

function paintDiff(diff: string, color: boolean): string {
  if (!color) return diff;
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+++') || l.startsWith('---')
        ? paint(l, 'bold', true)
        : l.startsWith('+')
          ? paint(l, 'green', true)
          : l.startsWith('-')
            ? paint(l, 'red', true)
            : l.startsWith('@@')
              ? paint(l, 'blue', true)
              : l,
    )
    .join('\n');
}

/** Each apply with its sets, reasons and diff, newest first. */
export function formatHistoryDiffs(entries: readonly HistoryEntry[], now: number, color = false): string {
  return entries
    .map((e) => {
      const repeated = e.attempts ? ` (${e.attempts} times, the last ${formatTime(e.last_at)})` : '';
      const head = `#${e.id} ${e.target} ${e.outcome} at ${formatTime(e.at)} (${formatAgo(e.at, now)})${repeated}`;
      const lines = [
        paint(head, 'bold', color),
        `reason: ${e.reason}`,
        ...(e.error ? [`error: ${e.stage ? `${e.stage}: ` : ''}${e.error}`] : []),
        ...setLines(e),
        ...(e.draining.length ? [`draining: ${list(e.draining)}`] : []),
        ...(e.changes.length ? ['selection changes:', ...e.changes.map((c) => changeLine(e, c))] : []),
        ...(e.verification ? [`BIND serves it: ${e.verification.ok ? 'yes' : 'NO'}: ${e.verification.detail}`] : []),
      ];
      const diff = e.diff ? paintDiff(e.diff.replace(/\n$/, ''), color) : '(text unchanged: a reload only)';
      return `${lines.join('\n')}\n${diff}\n`;
    })
    .join('\n');
}
