// `nat64-health status`: the state file as aligned text tables. Colour only when asked (on a TTY).
import type { StateSnapshot } from '../daemon/state-file.js';
import { ago, applyDetail, fmtMs, fmtTime, lastRound, role } from './format.js';

const APPLIES_SHOWN = 5;
const CODES = { red: 31, green: 32, yellow: 33, blue: 34, bold: 1, dim: 2 } as const;
type Style = keyof typeof CODES;

export interface Cell {
  text: string;
  style?: Style;
}

/** Colour for a stream: a TTY, no NO_COLOR, not a dumb terminal; FORCE_COLOR forces it. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return !!stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/** Aligned columns, padded on the visible text so escape codes never break the alignment. */
export function alignedTable(header: string[], rows: Cell[][], color: boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const paint = (c: Cell, s: string) => (color && c.style ? `\x1b[${CODES[c.style]}m${s}\x1b[0m` : s);
  const line = (cells: Cell[]) =>
    cells
      // padding outside the colour: trimming the line's end then trims the same with and without
      .map((c, i) => paint(c, c.text) + (i === cells.length - 1 ? '' : ' '.repeat(widths[i]! - c.text.length)))
      .join('  ')
      .trimEnd();
  return [line(header.map((text) => ({ text, style: 'bold' as const }))), ...rows.map(line)].join('\n');
}

const stateStyle = (s: string): Style => (s === 'up' ? 'green' : s === 'down' ? 'red' : 'yellow');

export function formatStatus(s: StateSnapshot, opts: { color: boolean; now?: number }): string {
  const now = opts.now ?? Date.now();
  const c = (text: string, style?: Style): Cell => ({ text, style });
  const paint = (text: string, style: Style) => (opts.color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text);
  const out: string[] = [];

  const prefixRows = s.prefixes.map((p) => {
    const r = role(p);
    return [
      c(p.prefix),
      c(p.name === p.prefix ? '' : p.name),
      c(p.group ?? ''),
      c(p.status, stateStyle(p.status)),
      c(r === 'standby' ? '-' : r, r === 'active' ? 'blue' : r === 'draining' ? 'yellow' : undefined),
      c(fmtMs(p.latency_ms)),
      c(p.since ? ago(p.since, now) : '-'),
      c(lastRound(p), p.last_round && p.last_round.failures.length ? 'dim' : undefined),
    ];
  });
  out.push(
    alignedTable(
      ['PREFIX', 'NAME', 'GROUP', 'STATE', 'ROLE', 'LATENCY', 'SINCE', 'LAST ROUND'],
      prefixRows,
      opts.color,
    ),
  );

  const up = s.prefixes.filter((p) => p.status === 'up').length;
  out.push('');
  out.push(
    `${up} of ${s.prefixes.length} up, ${s.active.length} active${s.draining.length ? `, ${s.draining.length} draining` : ''}; ` +
      `round ${s.round} at ${fmtTime(s.updated_at)} (${ago(s.updated_at, now)}, took ${fmtMs(s.round_ms)})${s.dry_run ? '; DRY RUN' : ''}`,
  );
  if (s.failsafe) out.push(paint('FAIL-SAFE: no prefix healthy, keeping the last good set', 'red'));
  if (s.target_faults.length)
    out.push(paint(`probe targets down through every prefix (not counted): ${s.target_faults.join(', ')}`, 'yellow'));

  if (s.targets.length) {
    out.push('');
    const rows = s.targets.map((t) => {
      const a = t.last_apply;
      const v = t.verification;
      const error =
        a?.result === 'failed'
          ? c(`${a.stage ? `(${a.stage}) ` : ''}${a.error ?? ''}${a.rolled_back ? ' [rolled back]' : ''}`, 'red')
          : v && !v.ok
            ? c(v.detail, 'red')
            : c('');
      return [
        c(t.name),
        a ? c(`${a.result} ${ago(a.at, now)}`, a.result === 'failed' ? 'red' : 'green') : c('no apply yet', 'dim'),
        c(t.serving === null ? 'unknown' : t.serving.join(', ') || 'none'),
        v ? c(v.ok ? `yes ${ago(v.at, now)}` : `NO ${ago(v.at, now)}`, v.ok ? 'green' : 'red') : c('-', 'dim'),
        error,
      ];
    });
    out.push(alignedTable(['TARGET', 'LAST APPLY', 'SERVING', 'BIND SERVES IT', 'ERROR'], rows, opts.color));
  }

  out.push('');
  if (s.applies.length === 0) out.push('no apply yet');
  else {
    const rows = s.applies
      .slice(0, APPLIES_SHOWN)
      .map((a) => [
        c(fmtTime(a.at)),
        c(a.target),
        c(a.result, a.result === 'failed' ? 'red' : a.result === 'applied' ? 'green' : 'yellow'),
        c(fmtMs(a.ms)),
        c(a.result === 'failed' ? `${a.reason ?? '-'} -> ${applyDetail(a)}` : (a.reason ?? '-')),
      ]);
    out.push(alignedTable(['APPLIED AT', 'TARGET', 'RESULT', 'TOOK', 'REASON'], rows, opts.color));
  }
  const r = s.last_config_reload;
  if (r)
    out.push(
      '',
      r.ok
        ? `config reloaded ${ago(r.at, now)}`
        : paint(`config reload rejected ${ago(r.at, now)}: ${r.error ?? ''}`, 'red'),
    );
  return out.join('\n') + '\n';
}
