/**
 * The alert rules and the Grafana dashboard that ship with the package, held against the real
 * daemon: a real Prometheus scrapes nat64-health (the built CLI, in a network namespace with a real
 * named, live and dead prefixes, a discovery source that stopped answering while its last set is
 * kept, and a probe target that answers through no prefix) and evaluates the rules. Every series
 * selector of every rule, annotation query and dashboard query matches series of the live daemon,
 * and every label they group by, match on or print is on those series, so a renamed metric or
 * label breaks the build, not the operator's pager. Every rule evaluates without error, every
 * dashboard query runs, and the alerts this world should raise are exactly the ones pending.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse } from 'yaml';
import { terminate, type Netns } from '../../support/netns.js';
import { fromGrafana, promqlUses, type Selector } from '../../support/promql.js';
import { prometheusMissing, startPrometheus, type Prometheus } from '../../support/prometheus.js';
import { itWith } from '../../support/real-parts.js';
import { waitFor as waitForAny } from '../../support/wait.js';
import { startWorld, type World } from '../../support/world.js';
import { bindSectionYaml } from '../../support/named.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'bin/nat64-health.js');
const RULES = path.join(ROOT, 'monitoring/nat64-health.rules.yml');
const DASHBOARD = path.join(ROOT, 'monitoring/nat64-health.dashboard.json');

const A = '2001:db8:64:a::/96'; // live, group east
const B = '2001:db8:64:b::/96'; // dead, group east
const C = '2001:db8:64:c::/96'; // live, group west
const D = '2001:db8:64:d::/96'; // live, found by discovery before the restart (kept)
const NAMED_ADDR = '2001:db8:53::1';
const WWW = '192.0.2.10';
const DNS_TARGET = '198.51.100.10';
const SILENT_SOURCE = '127.0.0.1:5399'; // nothing listens there
const BLAMED_PROBE = `tcp ${WWW}:81`; // nothing listens there either, through any prefix
const LISTEN = '127.0.0.1:9464';

const itLive = itWith(prometheusMissing());

let ns: Netns;
let world: World;
let dir: string;
let logFile: string;
let daemon: ChildProcess | undefined;
let prometheus: Prometheus | undefined;

interface AlertRule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap(
  (g) => g.rules,
);

interface Target {
  expr?: string;
  legendFormat?: string;
}
interface Panel {
  title?: string;
  type?: string;
  targets?: Target[];
  panels?: Panel[];
}
function dashboardQueries(): Array<{ panel: string; expr: string; legend: string }> {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const all = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(d.panels).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.expr)
      .map((t) => ({ panel: p.title ?? '?', expr: t.expr!, legend: t.legendFormat ?? '' })),
  );
}
const GRAFANA_VARS = { job: '.+', instance: '.+' };

/** The queries an annotation runs (`printf "QUERY" ... | query`), with `%q` as an empty string. */
function templateQueries(text: string): string[] {
  return [...text.matchAll(/printf "((?:[^"\\]|\\.)*)"[^|}]*\|\s*query/g)].map((m) =>
    (JSON.parse(`"${m[1]!}"`) as string).replace(/%q/g, '""'),
  );
}

/** Label names an alert's annotation prints (`{{ $labels.x }}`). */
const annotationLabels = (text: string) => [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!);

/** Label names a Grafana legend prints (`{{x}}`). */
const legendLabels = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);

function config(named: NonNullable<World['named']>, stateFile: string): string {
  return `prefixes:
  - { prefix: "${A}", name: gw-a, group: east }
  - { prefix: "${B}", name: gw-b, group: east }
  - { prefix: "${C}", name: gw-c, group: west }
  - discover: { server: 127.0.0.1, port: 5399, timeout: 200ms, min_refresh: 1s, max_refresh: 1s, keep: 1h }
    name: isp
    group: west
probes:
  - { type: tcp, address: ${WWW}, port: 80 }
  - { type: tcp, address: ${WWW}, port: 81 }
  - { type: dns, address: ${DNS_TARGET}, port: 5353, name: probe.example.test }
# rounds every 2 s: NAT64HealthNoRecentRound's three intervals stay well above a round with an apply
health: { interval: 2s, fast_interval: 1s, timeout: 300ms, rise: 2, fall: 2 }
select: { groups: [east, west], min_active: 2, max_active: 3, drain: 1h }
${bindSectionYaml(named)}state_file: ${stateFile}
http:
  listen: ${LISTEN}
`;
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const tail = async () =>
    `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  return waitForAny(what, fn, timeoutMs, 250, tail);
}

type Series = Record<string, string>;
const seriesCache = new Map<string, Series[]>();

/** The live series a selector matches (matchers with an empty value, a template's own, dropped). */
async function seriesOf(s: Selector): Promise<Series[]> {
  const matchers = s.matchers.filter((m) => m.value !== '' || m.op !== '=');
  const selector = `${s.metric}{${matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
  const cached = seriesCache.get(selector);
  if (cached) return cached;
  const r = await prometheus!.api<Series[]>('series', { 'match[]': selector, start: String(Date.now() / 1000 - 600) });
  if (r.status !== 'success') throw new Error(`series ${selector}: ${r.error}`);
  seriesCache.set(selector, r.data);
  return r.data;
}

/**
 * What is wrong with one expression against the live series: selectors that match nothing, and
 * labels (grouped by, matched on, printed) that none of its series carries.
 */
async function problems(expr: string, printed: string[] = []): Promise<string[]> {
  const uses = promqlUses(expr);
  if (uses.errors.length > 0) return [`does not parse: ${uses.errors.join('; ')}`];
  const found: string[] = [];
  const labels = new Set(['job', 'instance']);
  for (const s of uses.selectors) {
    const series = await seriesOf(s);
    if (series.length === 0) found.push(`${s.text} matches no series of the live daemon`);
    for (const one of series) for (const l of Object.keys(one)) labels.add(l);
  }
  const metrics = uses.selectors.map((s) => s.metric).join(', ');
  for (const l of [...uses.labels, ...printed])
    if (!labels.has(l)) found.push(`label "${l}" is on none of its series (${metrics})`);
  return found;
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/observe/observer.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  if (prometheusMissing()) return;
  world = await startWorld('monitor', { alive: [A, C, D], named: NAMED_ADDR });
  ({ ns, dir } = world);
  const named = world.named!;
  const stateFile = path.join(dir, 'state.json');
  logFile = path.join(dir, 'daemon.log');
  // the previous run's discovery: the source answered ten minutes ago, so its set is kept now
  await writeFile(
    stateFile,
    JSON.stringify({
      version: 1,
      prefixes: [],
      discovery: [{ source: SILENT_SOURCE, prefixes: [D], answered_at: new Date(Date.now() - 600_000).toISOString() }],
    }),
  );
  const configFile = path.join(dir, 'config.yaml');
  await writeFile(configFile, config(named, stateFile));
  daemon = ns.spawn([process.execPath, CLI, 'run', '-c', configFile, '--log-format', 'json'], { logFile });
  prometheus = await startPrometheus(ns, { dir, target: LISTEN, ruleFiles: [RULES] });
  // settled: B down, the probe target blamed, BIND verified, and Prometheus has scraped all that
  const needed = [
    'nat64_health_prefix_state{state="down"} == 1',
    'nat64_health_probe_target_fault == 1',
    'nat64_health_target_serves_decided_set == 1',
    'nat64_health_discovery_kept_until_timestamp_seconds',
  ];
  await waitFor('the live series every check needs', async () => {
    const missing: string[] = [];
    for (const query of needed) {
      const r = await prometheus!.api<{ result: unknown[] }>('query', { query });
      if (r.status !== 'success' || r.data.result.length === 0) missing.push(query);
    }
    if (missing.length > 0) throw new Error(`no series yet for ${missing.join(', ')}`);
    return true;
  });
  // the dashboard's increase() over $__interval (15 s here) needs two samples in its window
  await new Promise((r) => setTimeout(r, 2500));
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  if (daemon) await terminate(daemon);
  await world?.stop();
  if (dir && !process.env.NH_KEEP_TMP) await rm(dir, { recursive: true, force: true });
});

describe('the shipped alert rules against a live daemon, in a real Prometheus', () => {
  itLive('every rule is loaded and evaluates without an error', async () => {
    interface RuleState {
      name: string;
      health: string;
      lastError?: string;
    }
    const loaded = await waitFor('every rule to be evaluated', async () => {
      const r = await prometheus!.api<{ groups: Array<{ rules: RuleState[] }> }>('rules');
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length === rules.length && all.every((x) => x.health !== 'unknown') && all;
    });
    expect(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  itLive('every selector matches live series; every label grouped by, matched on or printed is on them', async () => {
    const found: string[] = [];
    for (const r of rules) {
      const printed = Object.values(r.annotations).flatMap(annotationLabels);
      for (const p of await problems(r.expr, printed)) found.push(`${r.alert}: ${p}`);
      for (const q of Object.values(r.annotations).flatMap(templateQueries))
        for (const p of await problems(q)) found.push(`${r.alert}, annotation query ${q}: ${p}`);
    }
    expect(found).toEqual([]);
  });

  itLive('the alerts this world raises are exactly the ones pending', async () => {
    interface Alert {
      labels: Record<string, string>;
      state: string;
    }
    const expected = [
      `NAT64HealthDiscoverySourceNotAnswering source=${SILENT_SOURCE}`,
      `NAT64HealthPrefixDown prefix=${B} name=gw-b`,
      `NAT64HealthProbeTargetFailing probe=${BLAMED_PROBE}`,
    ];
    const name = (a: Alert) => {
      const l = a.labels;
      const what = l.source ? `source=${l.source}` : l.probe ? `probe=${l.probe}` : `prefix=${l.prefix} name=${l.name}`;
      return `${l.alertname} ${what}`;
    };
    // waited for: the fail-safe of the first rounds (nothing up yet) may still be pending a moment
    const seen = await waitFor('exactly the expected alerts', async () => {
      const r = await prometheus!.api<{ alerts: Alert[] }>('alerts');
      const got = r.data.alerts.map(name).sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`pending or firing: ${got.join('; ')}`);
      return r.data.alerts;
    });
    expect(seen.map(name).sort()).toEqual(expected);
    // every `for:` is minutes long: pending, not firing, this early
    expect(seen.map((a) => a.state)).toEqual(expected.map(() => 'pending'));
  });
});

describe('the shipped Grafana dashboard against a live daemon, in a real Prometheus', () => {
  itLive('every query runs and returns data; its selectors and labels exist on the live series', async () => {
    const found: string[] = [];
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    for (const q of queries) {
      const expr = fromGrafana(q.expr, GRAFANA_VARS);
      const r = await prometheus!.api<{ result: unknown[] }>('query', { query: expr });
      if (r.status !== 'success') found.push(`${q.panel}: ${expr}: ${r.error}`);
      else if (r.data.result.length === 0) found.push(`${q.panel}: ${expr}: no data`);
      for (const p of await problems(expr, legendLabels(q.legend))) found.push(`${q.panel}: ${p}`);
    }
    expect(found).toEqual([]);
  });
});
