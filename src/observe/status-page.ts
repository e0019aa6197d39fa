// The HTML status page: one self-contained document (inline CSS and SVG, no script, no external
// assets), rendered on the server from the latest snapshot and the in-memory latency history.
import type { AppliedRecord } from '../apply/runner.js';
import type { StateSnapshot } from '../daemon/state-file.js';
import type { HistoryPoint, LatencyHistory } from './history.js';
import { formatAgo, formatDuration, formatMs, formatTime } from '../lib/format.js';
import { applyDetail, drainingSince, lastRound, maintenanceNote, poolSets, renderedSets, role } from './format.js';
import { setCondition } from '../core/condition.js';
import { html, type Html, type HtmlValue } from './html.js';
import { STYLE } from './status-style.js';
import { discoverySection } from './status-discovery.js';
import { poolsSection } from './status-pools.js';

// The page's tests import the escaper from here.
export { escapeHtml } from './html.js';

export const CHART_WIDTH = 240;
export const CHART_HEIGHT = 40;
/** how many applies the page lists */
const APPLIES_SHOWN = 10;

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

/** Points reduced to at most `max` by averaging runs of neighbours; a bad round in a run marks it bad. */
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
  return String(chart(points, o));
}

function chart(points: HistoryPoint[], o: ChartOptions): Html {
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
  const dot = last && { cx: x(last.t).toFixed(1), cy: y(last.latency_ms!).toFixed(1) };
  const good = points.filter((p) => p.latency_ms !== null).map((p) => p.latency_ms!);
  const summary = good.length
    ? `${good.length} good round(s), min ${formatMs(Math.min(...good))}, max ${formatMs(Math.max(...good))}; ` +
      `${points.length - good.length} bad`
    : points.length
      ? `no good round in ${points.length}`
      : 'no rounds yet';
  return html`<svg class="chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img"
      data-points="${points.length}" data-drawn="${drawn}" data-bad="${points.length - good.length}">
    <title>${summary}</title>
    <line class="axis" x1="0" y1="${plotH}" x2="${w}" y2="${plotH}"/>
    ${d ? html`<path class="latency" d="${d}"/>` : ''}
    ${dot ? html`<circle class="latest" cx="${dot.cx}" cy="${dot.cy}" r="2"/>` : ''}
    ${bad.map((bx) => html`<rect class="bad" x="${Math.min(w - 2, bx)}" y="${plotH + 1}" width="2" height="5"/>`)}
    ${points.length ? '' : html`<text x="${w / 2}" y="${plotH / 2 + 4}" text-anchor="middle">no data yet</text>`}
  </svg>`;
}

const badgeAs = (style: string, text: string) => html`<span class="badge ${style}">${text}</span>`;
const badge = (state: string) => badgeAs(state, state);

function table(id: string, headers: HtmlValue[], rows: Html[]): Html {
  return html`<table id="${id}">
    <thead><tr>${headers.map((text) => html`<th>${text}</th>`)}</tr></thead>
    <tbody>${rows}</tbody>
  </table>`;
}

/** An apply's entry in the apply history (its diff), if it has one. */
export type ApplyLink = (a: AppliedRecord) => { href: string; text: string } | null;

function appliesTable(applies: AppliedRecord[], now: number, applyLink: ApplyLink | undefined): Html {
  if (applies.length === 0) return html`<p class="muted">No apply yet.</p>`;
  const rows = applies.slice(0, APPLIES_SHOWN).map((a) => {
    const link = applyLink?.(a);
    return html`<tr data-apply-result="${a.result}">
      <td title="${a.at}">${formatTime(a.at)} <span class="muted">(${formatAgo(a.at, now)})</span></td>
      <td>${a.target}</td>
      <td>${badge(a.result)}</td>
      <td>${a.reason ?? '-'}</td>
      <td>${a.result === 'failed' ? applyDetail(a) : ''}</td>
      <td class="num">${formatMs(a.ms)}</td>
      <td>${link ? html`<a class="diff" href="${link.href}">${link.text}</a>` : ''}</td>
    </tr>`;
  });
  return table('applies', ['When', 'Target', 'Result', 'Reason', 'Error', 'Took', 'Diff'], rows);
}

/** The document around a page's body: head (with the style sheet and the refresh), title, footer. */
function layout(title: string, refresh: number, body: Html): Html {
  const links = html`<a href="/metrics">/metrics</a> · <a href="/status.json">/status.json</a> ·
    <a href="/history.json">/history.json</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta http-equiv="refresh" content="${refresh}">
        <title>${title}</title>
        ${STYLE}
      </head>
      <body>
        <h1>nat64-health</h1>
        ${body}
        <footer class="muted">Refreshes every ${refresh} s · ${links}</footer>
      </body>
    </html>
`;
}

function reloadNote(reload: StateSnapshot['last_config_reload'], now: number): Html | '' {
  if (!reload) return '';
  const result = reload.ok ? 'ok' : html`<span class="failed">rejected: ${reload.error ?? ''}</span>`;
  return html` · last reload ${formatAgo(reload.at, now)}: ${result}`;
}

export interface PageInput {
  snapshot: StateSnapshot | null;
  history: LatencyHistory;
  now: number;
  /** links each apply to its diff (the apply history); absent: no links */
  applyLink?: ApplyLink;
}

export function renderStatusPage(input: PageInput): string {
  return String(statusPage(input));
}

function statusPage({ snapshot: s, history, now, applyLink }: PageInput): Html {
  const refresh = refreshSeconds(s, now);
  if (!s) {
    const waiting = html`<p class="muted" id="waiting">Waiting for the first probe round…</p>`;
    return layout('nat64-health', refresh, waiting);
  }

  const banners: Html[] = [];
  const condition = setCondition(s);
  if (condition?.kind === 'failsafe') banners.push(html`<div class="banner" id="failsafe">${condition.text}.</div>`);
  if (condition?.kind === 'all-in-maintenance')
    banners.push(html`<div class="banner" id="all-in-maintenance">${condition.text}.</div>`);
  const held = s.prefixes.filter((p) => p.maintenance);
  if (held.length) {
    const list = held.map((p) => `${p.prefix}: ${maintenanceNote(p)}`).join('; ');
    banners.push(html`<div class="banner warn" id="maintenance">In maintenance: ${list}</div>`);
  }
  if (s.dry_run) banners.push(html`<div class="banner warn">Dry run: BIND is never changed.</div>`);
  if (s.target_faults.length) {
    const text = 'Probe target(s) down through every prefix, not counted against the prefixes';
    banners.push(html`<div class="banner warn">${text}: ${s.target_faults.join(', ')}</div>`);
  }

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
  const scale = Number.isInteger(maxMs) ? `${maxMs} ms` : formatMs(maxMs);
  // with pools: the role is what BIND is given over all pools, and a column names the pools
  const pooled = s.pools !== undefined;
  const sets = poolSets(s);
  const rendered = renderedSets(sets);
  const prefixRows = s.prefixes.map((p, i) => {
    const r = role(p, rendered.draining);
    const since = pooled ? drainingSince(p.prefix, sets) : p.draining_since;
    const drainText = r === 'draining' && since ? `draining since ${formatAgo(since, now)}` : r;
    const roleText = p.maintenance ? `${drainText}; ${maintenanceNote(p)}` : drainText;
    const answered = p.last_round ? `${p.last_round.answered}/${p.last_round.counted}` : '-';
    const data = html`data-prefix="${p.prefix}" data-state="${p.status}" data-role="${r}"`;
    const pools = pooled ? html` data-pools="${p.pools?.join(' ') ?? ''}"` : '';
    const poolsCell = pooled ? html`<td>${p.pools?.join(', ') || '-'}</td>` : '';
    return html`<tr class="prefix" ${data}${pools} data-maintenance="${p.maintenance ? 'on' : 'off'}">
      <td><code>${p.prefix}</code></td>
      <td>${p.name === p.prefix ? '' : p.name}</td>
      <td>${p.group ?? ''}</td>
      <td>${badge(p.status)}</td>
      <td class="${r}">${roleText}</td>${poolsCell}
      <td class="num">${formatMs(p.latency_ms)}</td>
      <td>${chart(series[i]!, { now, windowMs: spanMs, maxMs })}</td>
      <td title="${lastRound(p)}">${answered}</td>
      <td title="${p.since ?? ''}">${p.since ? formatAgo(p.since, now) : '-'}</td>
    </tr>`;
  });
  const prefixHeaders = ['Prefix', 'Name', 'Group', 'State', 'Role', ...(pooled ? ['Pools'] : []), 'Latency'];
  const chartHeader = html`Latency, ${spanText} (0–${scale})`;

  const targetRows = s.targets.map((t) => {
    const last = t.last_apply
      ? html`${badge(t.last_apply.result)} ${formatAgo(t.last_apply.at, now)}`
      : html`<span class="muted">no apply yet</span>`;
    const serving = t.serving === null ? 'unknown' : t.serving.join(', ') || 'none';
    const cells = html`<td>${t.name}</td><td>${last}</td><td>${serving}</td><td>${verified(t.verification, now)}</td>`;
    return html`<tr data-target="${t.name}">${cells}</tr>`;
  });

  const up = s.prefixes.filter((p) => p.status === 'up').length;
  const active = pooled ? rendered.active : s.active;
  const inPools = pooled ? ` (${sets.length} pools)` : '';
  const counts = `${up} of ${s.prefixes.length} prefixes up · active: ${active.join(', ') || 'none'}${inPools}`;
  const round = `round ${s.round} at ${formatTime(s.updated_at)}`;
  const age = `${formatAgo(s.updated_at, now)}, took ${formatMs(s.round_ms)}`;
  const body = html`<p class="meta" id="summary">${counts} · ${round} (${age})</p>
    ${banners}
    <h2>Prefixes</h2>
    ${table('prefixes', [...prefixHeaders, chartHeader, 'Last round', 'Since'], prefixRows)}
    ${poolsSection(s, now)}${discoverySection(s.discovery, now)}
    <h2>BIND targets</h2>
    ${table('targets', ['Target', 'Last apply', 'Serving', 'BIND serves it'], targetRows)}
    <h2>Last applies</h2>
    ${appliesTable(s.applies, now, applyLink)}
    <p class="meta">Config <code>${s.config}</code>${reloadNote(s.last_config_reload, now)} · pid ${s.pid}</p>`;
  return layout(`nat64-health · ${active.length} active`, refresh, body);
}

/** What BIND answered for ipv4only.arpa, against the decided set. */
function verified(v: StateSnapshot['targets'][number]['verification'] | undefined, now: number): Html {
  if (!v) return html`<span class="muted">not checked</span>`;
  const when = formatAgo(v.at, now);
  return v.ok ? html`${badgeAs('applied', 'yes')} ${when}` : html`${badgeAs('failed', 'no')} ${when}: ${v.detail}`;
}
