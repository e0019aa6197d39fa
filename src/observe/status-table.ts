// `nat64-health status`: the state file as aligned text tables. Colour only when asked (on a TTY).
import type { StateSnapshot } from '../daemon/state-file.js';
import {
  formatAgo,
  formatMs,
  formatPercent,
  formatTable,
  formatTime,
  paint as paintIf,
  type Cell,
  type Style,
} from '../lib/format.js';
import { applyDetail, lastRound, maintenanceNote, poolSets, renderedSets, role } from './format.js';
import { setCondition } from '../core/condition.js';

const APPLIES_SHOWN = 5;

/** Colour for a stream: a TTY, no NO_COLOR, not a dumb terminal; FORCE_COLOR forces it. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return !!stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

const stateStyle = (s: string): Style => (s === 'up' ? 'green' : s === 'down' ? 'red' : 'yellow');

export function formatStatus(snapshot: StateSnapshot, opts: { color: boolean; now?: number }): string {
  const now = opts.now ?? Date.now();
  const c = (text: string, style?: Style): Cell => ({ text, style });
  const paint = (text: string, style: Style) => paintIf(text, style, opts.color);
  const out: string[] = [];
  // with pools: the role is what BIND is given over all pools, and a column names the pools
  const pooled = snapshot.pools !== undefined;
  const sets = poolSets(snapshot);
  const rendered = renderedSets(sets);

  const prefixRows = snapshot.prefixes.map((p) => {
    const r = role(p, rendered.draining);
    return [
      c(p.prefix),
      c(p.name === p.prefix ? '' : p.name),
      c(p.group ?? ''),
      c(p.status, stateStyle(p.status)),
      c(
        `${r === 'standby' ? '-' : r}${p.maintenance ? ', maintenance' : ''}`,
        r === 'active' ? 'blue' : r === 'draining' ? 'yellow' : undefined,
      ),
      ...(pooled ? [c(p.pools?.join(', ') || '-')] : []),
      c(formatMs(p.latency_ms)),
      c(formatPercent(p.loss_ratio), p.loss_ratio ? 'yellow' : undefined),
      c(p.since ? formatAgo(p.since, now) : '-'),
      c(lastRound(p), p.last_round && p.last_round.failures.length ? 'dim' : undefined),
    ];
  });
  out.push(
    formatTable(
      [
        'PREFIX',
        'NAME',
        'GROUP',
        'STATE',
        'ROLE',
        ...(pooled ? ['POOLS'] : []),
        'LATENCY',
        'LOSS',
        'SINCE',
        'LAST ROUND',
      ],
      prefixRows,
      opts.color,
    ),
  );

  const up = snapshot.prefixes.filter((p) => p.status === 'up').length;
  out.push('');
  const shown = pooled ? rendered : snapshot;
  const pools = pooled ? ` for ${sets.length} pools` : '';
  const counts = `${up} of ${snapshot.prefixes.length} up, ${shown.active.length} active${pools}`;
  const draining = shown.draining.length ? `, ${shown.draining.length} draining` : '';
  const age = `${formatAgo(snapshot.updated_at, now)}, took ${formatMs(snapshot.round_ms)}`;
  const round = `round ${snapshot.round} at ${formatTime(snapshot.updated_at)} (${age})`;
  out.push(`${counts}${draining}; ${round}${snapshot.dry_run ? '; DRY RUN' : ''}`);
  for (const p of snapshot.prefixes.filter((x) => x.maintenance))
    out.push(paint(`${p.prefix}: ${maintenanceNote(p)}`, 'yellow'));
  for (const d of snapshot.discovery ?? []) {
    const found = `${d.prefixes.length ? d.prefixes.join(', ') : 'no prefixes'}`;
    const answered = d.answered_at ? `answered ${formatAgo(d.answered_at, now)}` : 'never answered';
    const line = `discovered from ${d.source} (${d.name}): ${found}; ${answered}`;
    if (d.error === null) out.push(line);
    else {
      const kept = d.kept_until ? `; kept until ${formatTime(d.kept_until)}` : '';
      out.push(paint(`${line}; last query failed: ${d.error}${kept}`, 'yellow'));
    }
  }
  const condition = setCondition(snapshot);
  if (condition) out.push(paint(condition.text, condition.kind === 'failsafe' ? 'red' : 'yellow'));
  if (snapshot.target_faults.length)
    out.push(
      paint(`probe targets down through every prefix (not counted): ${snapshot.target_faults.join(', ')}`, 'yellow'),
    );

  if (pooled) {
    out.push('');
    const list = (ids: string[]) => ids.join(', ') || '-';
    const rows = sets.map((p) => [c(p.name), c(list(p.active), p.active.length ? 'blue' : 'red'), c(list(p.draining))]);
    out.push(formatTable(['POOL', 'ACTIVE', 'DRAINING'], rows, opts.color));
  }

  if (snapshot.targets.length) {
    out.push('');
    const rows = snapshot.targets.map((t) => {
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
        a
          ? c(`${a.result} ${formatAgo(a.at, now)}`, a.result === 'failed' ? 'red' : 'green')
          : c('no apply yet', 'dim'),
        c(t.serving === null ? 'unknown' : t.serving.join(', ') || 'none'),
        v ? c(`${v.ok ? 'yes' : 'NO'} ${formatAgo(v.at, now)}`, v.ok ? 'green' : 'red') : c('-', 'dim'),
        error,
      ];
    });
    out.push(formatTable(['TARGET', 'LAST APPLY', 'SERVING', 'BIND SERVES IT', 'ERROR'], rows, opts.color));
  }

  out.push('');
  if (snapshot.applies.length === 0) out.push('no apply yet');
  else {
    const rows = snapshot.applies
      .slice(0, APPLIES_SHOWN)
      .map((a) => [
        c(formatTime(a.at)),
        c(a.target),
        c(a.result, a.result === 'failed' ? 'red' : a.result === 'applied' ? 'green' : 'yellow'),
        c(formatMs(a.ms)),
        c(a.result === 'failed' ? `${a.reason ?? '-'} -> ${applyDetail(a)}` : (a.reason ?? '-')),
      ]);
    out.push(formatTable(['APPLIED AT', 'TARGET', 'RESULT', 'TOOK', 'REASON'], rows, opts.color));
  }
  const r = snapshot.last_config_reload;
  if (r)
    out.push(
      '',
      r.ok
        ? `config reloaded ${formatAgo(r.at, now)}`
        : paint(`config reload rejected ${formatAgo(r.at, now)}: ${r.error ?? ''}`, 'red'),
    );
  return out.join('\n') + '\n';
}
