// The Grafana dashboard that ships with the package (monitoring/nat64-health.dashboard.json) imports
// as it is and shows what the daemon exports: its variables and layout are sound, every query parses
// as PromQL, names only metrics and labels that METRICS declares, and is filtered by the $job and
// $instance variables, and the panels an operator needs are there. Metrics are an interface, so a
// renamed metric or label breaks this test rather than an operator's dashboard.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/observe/metrics.js';
import { fromGrafana, promqlUses } from '../../support/promql.js';

const DASHBOARD = 'monitoring/nat64-health.dashboard.json';
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** labels Prometheus adds to every scraped series */
const TARGET_LABELS = ['job', 'instance'];

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: unknown;
  description?: string;
  /** the minimum interval of the panel's queries */
  interval?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: unknown;
  multi?: boolean;
  includeAll?: boolean;
  refresh?: number;
  sort?: number;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  editable: boolean;
  tags: string[];
  refresh: string;
  time: { from: string; to: string };
  __inputs?: unknown;
  templating: { list: Variable[] };
  panels: Panel[];
}

const text = readFileSync(fileURLToPath(new URL(`../../../${DASHBOARD}`, import.meta.url)), 'utf8');
const dashboard = JSON.parse(text) as Dashboard;

/** Every panel, the panels of collapsed rows included. */
const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const queries = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
const where = (panel: Panel, target?: Target) =>
  `panel "${panel.title}"${target ? ` query ${target.refId ?? '?'}: ${target.expr ?? '(none)'}` : ''}`;

/** Metric name as Prometheus exposes it -> its labels; histograms with their series. */
const declared = new Map<string, string[]>();
for (const [key, m] of Object.entries(METRICS)) {
  const name = `nat64_health_${key}`;
  const labels: string[] = [...m.labels];
  if (m.type !== 'histogram') declared.set(name, labels);
  else {
    declared.set(`${name}_bucket`, [...labels, 'le']);
    declared.set(`${name}_sum`, labels);
    declared.set(`${name}_count`, labels);
  }
}

/** The query as Prometheus gets it, the variables replaced by something that matches. */
const asSent = (expr: string) => fromGrafana(expr, { job: '.+', instance: '.+', datasource: 'x' });
/** The query with Grafana's interval macros replaced but its variables left as written (`$job`). */
const asWritten = (expr: string) => fromGrafana(expr, { job: '$job', instance: '$instance', datasource: 'x' });

describe(DASHBOARD, () => {
  it('is an importable dashboard with the agreed identity, refresh and time range', () => {
    expect(dashboard.uid).toBe('nat64-health');
    expect(dashboard.title).toBe('NAT64 health');
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.editable).toBe(true);
    expect(dashboard.tags).toEqual(['nat64', 'dns64', 'bind']);
    expect(dashboard.refresh).toBe('30s');
    expect(dashboard.time).toEqual({ from: 'now-6h', to: 'now' });
    expect(dashboard.__inputs, 'import needs no inputs: the datasource is a variable').toBeUndefined();
  });

  it('has the datasource, job and instance variables', () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    const query = (v: Variable | undefined) => (typeof v?.query === 'string' ? v.query : v?.query.query);
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const job = vars.get('job');
    expect(job).toMatchObject({ type: 'query', multi: true, includeAll: true, refresh: 2, sort: 1 });
    expect(job?.datasource).toEqual(DATASOURCE);
    expect(query(job)).toBe('label_values(nat64_health_rounds_total, job)');
    const instance = vars.get('instance');
    expect(instance).toMatchObject({ type: 'query', multi: true, includeAll: true, refresh: 2, sort: 1 });
    expect(instance?.datasource).toEqual(DATASOURCE);
    expect(query(instance)).toBe('label_values(nat64_health_rounds_total{job=~"$job"}, instance)');
  });

  it('gives every panel a unique id and a place in the 24-column grid that no other panel takes', () => {
    const problems: string[] = [];
    const ids = new Map<number, string>();
    for (const p of panels) {
      if (!Number.isInteger(p.id)) problems.push(`${where(p)}: id ${String(p.id)} is not an integer`);
      else if (ids.has(p.id)) problems.push(`${where(p)}: id ${p.id} is also panel "${ids.get(p.id)}"`);
      else ids.set(p.id, p.title);
      const g = p.gridPos;
      const sane = [g?.x, g?.y, g?.w, g?.h].every((n) => Number.isInteger(n) && n >= 0) && g.w > 0 && g.h > 0;
      if (!sane || g.x + g.w > 24) problems.push(`${where(p)}: gridPos ${JSON.stringify(g)} is not within 24 columns`);
    }
    // Rows are in the grid too (a full-width line); the panels of a collapsed row are not laid out.
    const laidOut = dashboard.panels;
    for (const [i, a] of laidOut.entries())
      for (const b of laidOut.slice(i + 1)) {
        const [g, h] = [a.gridPos, b.gridPos];
        if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h)
          problems.push(`${where(a)} ${JSON.stringify(g)} overlaps ${where(b)} ${JSON.stringify(h)}`);
      }
    expect(problems).toEqual([]);
  });

  it('queries the ${datasource} variable in every panel and query, with a refId, an expr and a description', () => {
    const problems: string[] = [];
    expect(queries.length).toBeGreaterThan(0);
    for (const p of queryPanels) {
      if (JSON.stringify(p.datasource) !== JSON.stringify(DATASOURCE))
        problems.push(`${where(p)}: datasource ${JSON.stringify(p.datasource)}`);
      if (!p.targets?.length) problems.push(`${where(p)}: no queries`);
      if (!p.description?.trim()) problems.push(`${where(p)}: no description`);
    }
    const refIds = new Set<string>();
    for (const { panel, target } of queries) {
      if (JSON.stringify(target.datasource) !== JSON.stringify(DATASOURCE))
        problems.push(`${where(panel, target)}: datasource ${JSON.stringify(target.datasource)}`);
      if (!target.refId) problems.push(`${where(panel, target)}: no refId`);
      else if (refIds.has(`${panel.id} ${target.refId}`)) problems.push(`${where(panel, target)}: refId used twice`);
      else refIds.add(`${panel.id} ${target.refId}`);
      if (typeof target.expr !== 'string' || !target.expr.trim()) problems.push(`${where(panel, target)}: no expr`);
    }
    expect(problems).toEqual([]);
  });

  it('has queries that parse as PromQL once Grafana has replaced its variables', () => {
    const problems: string[] = [];
    for (const { panel, target } of queries) {
      const { errors, selectors } = promqlUses(asSent(target.expr ?? ''));
      if (errors.length) problems.push(`${where(panel, target)}: ${errors.join('; ')}`);
      if (!selectors.length) problems.push(`${where(panel, target)}: no series selector`);
    }
    expect(problems).toEqual([]);
  });

  it('uses only metrics METRICS declares, with their labels, and groups by labels they have', () => {
    const problems: string[] = [];
    for (const { panel, target } of queries) {
      const uses = promqlUses(asSent(target.expr ?? ''));
      const known = new Set(TARGET_LABELS);
      for (const s of uses.selectors) {
        const labels = declared.get(s.metric);
        if (!labels) {
          problems.push(`${where(panel, target)}: ${s.metric || s.text} is not a metric of METRICS`);
          continue;
        }
        labels.forEach((l) => known.add(l));
        for (const m of s.matchers)
          if (!labels.includes(m.label) && !TARGET_LABELS.includes(m.label))
            problems.push(`${where(panel, target)}: ${s.metric} has no label ${m.label}`);
      }
      for (const l of uses.labels)
        if (!known.has(l)) problems.push(`${where(panel, target)}: no metric of the query has the label ${l}`);
    }
    expect(problems).toEqual([]);
  });

  it('filters every series selector by job=~"$job" and instance=~"$instance"', () => {
    const problems: string[] = [];
    for (const { panel, target } of queries)
      for (const s of promqlUses(asWritten(target.expr ?? '')).selectors)
        for (const label of TARGET_LABELS)
          if (!s.matchers.some((m) => m.label === label && m.op === '=~' && m.value === `$${label}`))
            problems.push(`${where(panel, target)}: ${s.text} lacks ${label}=~"$${label}"`);
    expect(problems).toEqual([]);
  });

  // rate() over $__rate_interval (at least four scrapes); a count per bar, increase(), over
  // $__interval in a panel with a minimum interval, so that bars neither overlap nor come out empty
  it('takes rate() over $__rate_interval, and increase() over $__interval of a panel with a minimum interval', () => {
    const problems: string[] = [];
    for (const { panel, target } of queries) {
      const expr = target.expr ?? '';
      const ranges = [...expr.matchAll(/(\w+)\([^()[\]]*\[([^\]]*)\]/g)];
      if (ranges.length !== [...expr.matchAll(/\[/g)].length)
        problems.push(`${where(panel, target)}: a range not directly inside a function call`);
      for (const [, fn, window] of ranges) {
        if (fn === 'increase' && window === '$__interval' && panel.interval) continue;
        if (fn !== 'increase' && window === '$__rate_interval') continue;
        problems.push(
          `${where(panel, target)}: ${fn}(...[${window}])${panel.interval ? '' : ' (no minimum interval)'}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it.each([
    ['the active set', ['nat64_health_prefix_active']],
    ["each client pool's set", ['nat64_health_pool_active']],
    ['prefix health', ['nat64_health_prefix_state', 'nat64_health_prefix_up']],
    ['latency', ['nat64_health_prefix_smoothed_latency_seconds', 'nat64_health_prefix_latency_seconds_bucket']],
    ['loss', ['nat64_health_prefix_loss_ratio']],
    ['the ranking score', ['nat64_health_prefix_score_seconds']],
    ['applies', ['nat64_health_applies_total']],
    ['the set BIND serves', ['nat64_health_target_serves_decided_set']],
    ['rounds', ['nat64_health_rounds_total']],
    ['round durations', ['nat64_health_round_duration_seconds_bucket']],
  ])('shows %s (%s)', (_, metrics) => {
    const showing = queries
      .filter(({ target }) => promqlUses(asSent(target.expr ?? '')).selectors.some((s) => metrics.includes(s.metric)))
      .map(({ panel }) => panel.title);
    expect(showing, `no panel queries ${metrics.join(' or ')}`).not.toEqual([]);
  });
});
