// The HTML status page: one self-contained document (inline CSS and SVG, no script, no external
// assets), rendered on the server from the latest snapshot and the in-memory latency history.
import type { AppliedRecord, StateSnapshot } from '../daemon/state-file.js';
import type { HistoryPoint, LatencyHistory } from './history.js';
import { formatAgo, formatDuration, formatMs, formatTime } from '../format.js';
import { applyDetail, lastRound, role } from './format.js';

export const CHART_WIDTH = 240;
export const CHART_HEIGHT = 40;
/** how many applies the page lists */
const APPLIES_SHOWN = 10;

export function escapeHtml(text: unknown): string {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Seconds until the page reloads: just after the next round, within 2-30 s. */
export function refreshSeconds(snapshot: StateSnapshot | null, now: number): number {
  const next = snapshot?.next_round_at ? Date.parse(snapshot.next_round_at) : Number.NaN;
  if (Number.isNaN(next)) return snapshot ? 5 : 2;
  return Math.min(30, Math.max(2, Math.ceil((next - now) / 1000) + 1));
}

/** 1, 2 or 5 times a power of ten, at least value. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * p >= value - 1e-9) return m * p;
  return 10 * p;
}

interface ChartOptions {
  now: number;
  windowMs: number;
  /** latency at the top of the chart, ms */
  maxMs: number;
  width?: number;
  height?: number;
}

/** Points reduced to at most `max` by averaging runs of neighbours (a bad round in a run marks it bad). */
export function downsample(
  points: HistoryPoint[],
  max: number,
): Array<{ t: number; latency_ms: number | null; bad: boolean }> {
  const size = Math.max(1, Math.ceil(points.length / max));
  const out: Array<{ t: number; latency_ms: number | null; bad: boolean }> = [];
  for (let i = 0; i < points.length; i += size) {
    const run = points.slice(i, i + size);
    const good = run.filter((p) => p.latency_ms !== null).map((p) => p.latency_ms!);
    out.push({
      t: run.reduce((a, p) => a + p.t, 0) / run.length,
      latency_ms: good.length ? good.reduce((a, v) => a + v, 0) / good.length : null,
      bad: good.length < run.length,
    });
  }
  return out;
}

/**
 * A sparkline of one prefix's latency over the window: a line through good rounds (broken at bad
 * rounds and long gaps) and a red tick under each bad round.
 */
export function latencyChart(points: HistoryPoint[], o: ChartOptions): string {
  const w = o.width ?? CHART_WIDTH;
  const h = o.height ?? CHART_HEIGHT;
  const plotH = h - 6; // ticks for bad rounds live in the bottom strip
  const start = o.now - o.windowMs;
  const data = downsample(points, w);
  const x = (t: number) => Math.min(w, Math.max(0, ((t - start) / o.windowMs) * w));
  const y = (ms: number) => plotH - Math.min(1, ms / o.maxMs) * (plotH - 2) - 1;
  const spacing = data.length > 1 ? (data[data.length - 1]!.t - data[0]!.t) / (data.length - 1) : 0;
  const maxGap = Math.max(120_000, 3 * spacing);

  let d = '';
  let drawn = 0;
  let prevT: number | null = null;
  for (const p of data) {
    if (p.latency_ms === null) {
      prevT = null;
      continue;
    }
    const cmd = prevT === null || p.t - prevT > maxGap ? 'M' : 'L';
    d += `${cmd}${x(p.t).toFixed(1)} ${y(p.latency_ms).toFixed(1)}`;
    prevT = p.t;
    drawn++;
  }
  const bad = [...new Set(data.filter((p) => p.bad).map((p) => Math.round(x(p.t))))];
  const last = [...data].reverse().find((p) => p.latency_ms !== null);
  const good = points.filter((p) => p.latency_ms !== null).map((p) => p.latency_ms!);
  const summary = good.length
    ? `${good.length} good round(s), min ${formatMs(Math.min(...good))}, max ${formatMs(Math.max(...good))}; ${points.length - good.length} bad`
    : points.length
      ? `no good round in ${points.length}`
      : 'no rounds yet';
  return [
    `<svg class="chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" data-points="${points.length}" data-drawn="${drawn}" data-bad="${points.length - good.length}">`,
    `<title>${escapeHtml(summary)}</title>`,
    `<line class="axis" x1="0" y1="${plotH}" x2="${w}" y2="${plotH}"/>`,
    d ? `<path class="latency" d="${d}"/>` : '',
    last ? `<circle class="latest" cx="${x(last.t).toFixed(1)}" cy="${y(last.latency_ms!).toFixed(1)}" r="2"/>` : '',
    ...bad.map((bx) => `<rect class="bad" x="${Math.min(w - 2, bx)}" y="${plotH + 1}" width="2" height="5"/>`),
    !points.length ? `<text x="${w / 2}" y="${plotH / 2 + 4}" text-anchor="middle">no data yet</text>` : '',
    '</svg>',
  ].join('');
}

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b636e;--bg:#fff;--line:#d8dde3;--up:#16794a;--down:#c62828;--unk:#9a6700;--accent:#2f6fdd}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa4af;--bg:#14171b;--line:#30363d;--up:#3fb950;--down:#f85149;--unk:#d29922;--accent:#58a6ff}}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:1.5rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.3rem;margin:0 0 .25rem}h2{font-size:1.05rem;margin:1.5rem 0 .4rem}
.meta,.muted{color:var(--muted)}code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:12px;font-weight:600;border:1px solid currentColor}
.up{color:var(--up)}.down,.failed{color:var(--down)}.unknown,.draining,.dry-run{color:var(--unk)}.active{color:var(--accent)}.applied{color:var(--up)}
.banner{padding:.5rem .8rem;border-radius:.3rem;margin:.6rem 0;border:1px solid var(--down);color:var(--down)}
.banner.warn{border-color:var(--unk);color:var(--unk)}
svg.chart{display:block}svg.chart .latency{fill:none;stroke:var(--accent);stroke-width:1.5}svg.chart .latest{fill:var(--accent)}
svg.chart .bad{fill:var(--down)}svg.chart .axis{stroke:var(--line)}svg.chart text{fill:var(--muted);font-size:11px}
footer{margin-top:2rem;font-size:12px}a{color:var(--accent)}
`;

function appliesTable(applies: AppliedRecord[], now: number): string {
  if (applies.length === 0) return '<p class="muted">No apply yet.</p>';
  const rows = applies
    .slice(0, APPLIES_SHOWN)
    .map(
      (a) =>
        `<tr data-apply-result="${escapeHtml(a.result)}"><td title="${escapeHtml(a.at)}">${escapeHtml(formatTime(a.at))} <span class="muted">(${escapeHtml(formatAgo(a.at, now))})</span></td>` +
        `<td>${escapeHtml(a.target)}</td><td><span class="badge ${escapeHtml(a.result)}">${escapeHtml(a.result)}</span></td>` +
        `<td>${escapeHtml(a.reason ?? '-')}</td><td>${escapeHtml(a.result === 'failed' ? applyDetail(a) : '')}</td><td class="num">${escapeHtml(formatMs(a.ms))}</td></tr>`,
    );
  return `<table id="applies"><thead><tr><th>When</th><th>Target</th><th>Result</th><th>Reason</th><th>Error</th><th>Took</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export interface PageInput {
  snapshot: StateSnapshot | null;
  history: LatencyHistory;
  now: number;
}

export function renderStatusPage({ snapshot: s, history, now }: PageInput): string {
  const refresh = refreshSeconds(s, now);
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="${refresh}"><title>nat64-health${s ? ` · ${s.active.length} active` : ''}</title><style>${CSS}</style></head><body>`;
  const foot = `<footer class="muted">Refreshes every ${refresh} s · <a href="/metrics">/metrics</a> · <a href="/status.json">/status.json</a></footer></body></html>\n`;
  if (!s)
    return `${head}<h1>nat64-health</h1><p class="muted" id="waiting">Waiting for the first probe round…</p>${foot}`;

  const up = s.prefixes.filter((p) => p.status === 'up').length;
  const banners: string[] = [];
  if (s.failsafe)
    banners.push(
      '<div class="banner" id="failsafe">FAIL-SAFE: no prefix passed its probes; BIND keeps the last good set.</div>',
    );
  if (s.dry_run) banners.push('<div class="banner warn">Dry run: BIND is never changed.</div>');
  if (s.target_faults.length)
    banners.push(
      `<div class="banner warn">Probe target(s) down through every prefix, not counted against the prefixes: ${escapeHtml(s.target_faults.join(', '))}</div>`,
    );

  const series = s.prefixes.map((p) => history.points(p.prefix, now));
  const allGood = series
    .flat()
    .filter((p) => p.latency_ms !== null)
    .map((p) => p.latency_ms!);
  const maxMs = niceCeil(allGood.length ? Math.max(...allGood) : 1);
  // A young daemon has less than the window: stretch what there is over the chart's width.
  const oldest = Math.min(...series.map((pts) => pts[0]?.t ?? now));
  const spanMs = Math.min(history.windowMs, Math.max(10_000, now - oldest));
  const spanText =
    spanMs >= history.windowMs
      ? history.windowMs === 3_600_000
        ? 'last hour'
        : `last ${formatDuration(spanMs)}`
      : `last ${formatDuration(spanMs)}`;
  const rows = s.prefixes.map((p, i) => {
    const r = role(p);
    const roleText = r === 'draining' && p.draining_since ? `draining since ${formatAgo(p.draining_since, now)}` : r;
    return (
      `<tr class="prefix" data-prefix="${escapeHtml(p.prefix)}" data-state="${escapeHtml(p.status)}" data-role="${r}">` +
      `<td><code>${escapeHtml(p.prefix)}</code></td><td>${escapeHtml(p.name === p.prefix ? '' : p.name)}</td><td>${escapeHtml(p.group ?? '')}</td>` +
      `<td><span class="badge ${escapeHtml(p.status)}">${escapeHtml(p.status)}</span></td>` +
      `<td class="${r}">${escapeHtml(roleText)}</td>` +
      `<td class="num">${escapeHtml(formatMs(p.latency_ms))}</td>` +
      `<td>${latencyChart(series[i]!, { now, windowMs: spanMs, maxMs })}</td>` +
      `<td title="${escapeHtml(lastRound(p))}">${escapeHtml(p.last_round ? `${p.last_round.answered}/${p.last_round.counted}` : '-')}</td>` +
      `<td title="${escapeHtml(p.since ?? '')}">${escapeHtml(p.since ? formatAgo(p.since, now) : '-')}</td></tr>`
    );
  });
  const targets = s.targets.map(
    (t) =>
      `<tr data-target="${escapeHtml(t.name)}"><td>${escapeHtml(t.name)}</td>` +
      `<td>${t.last_apply ? `<span class="badge ${escapeHtml(t.last_apply.result)}">${escapeHtml(t.last_apply.result)}</span> ${escapeHtml(formatAgo(t.last_apply.at, now))}` : '<span class="muted">no apply yet</span>'}</td>` +
      `<td>${escapeHtml(t.serving === null ? 'unknown' : t.serving.join(', ') || 'none')}</td></tr>`,
  );
  const reload = s.last_config_reload;
  return [
    head,
    '<h1>nat64-health</h1>',
    `<p class="meta" id="summary">${up} of ${s.prefixes.length} prefixes up · active: ${escapeHtml(s.active.join(', ') || 'none')} · round ${s.round} at ${escapeHtml(formatTime(s.updated_at))} (${escapeHtml(formatAgo(s.updated_at, now))}, took ${escapeHtml(formatMs(s.round_ms))})</p>`,
    ...banners,
    '<h2>Prefixes</h2>',
    `<table id="prefixes"><thead><tr><th>Prefix</th><th>Name</th><th>Group</th><th>State</th><th>Role</th><th>Latency</th><th>Latency, ${escapeHtml(spanText)} (0–${escapeHtml(Number.isInteger(maxMs) ? `${maxMs} ms` : formatMs(maxMs))})</th><th>Last round</th><th>Since</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '<h2>BIND targets</h2>',
    `<table id="targets"><thead><tr><th>Target</th><th>Last apply</th><th>Serving</th></tr></thead><tbody>${targets.join('')}</tbody></table>`,
    '<h2>Last applies</h2>',
    appliesTable(s.applies, now),
    `<p class="meta">Config <code>${escapeHtml(s.config)}</code>${reload ? ` · last reload ${escapeHtml(formatAgo(reload.at, now))}: ${reload.ok ? 'ok' : `<span class="failed">rejected: ${escapeHtml(reload.error ?? '')}</span>`}` : ''} · pid ${s.pid}</p>`,
    foot,
  ].join('\n');
}
