// Prometheus metrics, updated from the daemon's snapshot after every round and from its apply
// events. The names and labels are an interface (dashboards, alerts): docs/observability.md
// lists them (a test holds that list equal to METRICS); keep them stable.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { AppliedRecord } from '../apply/runner.js';
import type { StateSnapshot } from '../daemon/state-file.js';
import type { Decision } from '../core/step.js';
import type { ProbeOutcome } from '../probe/types.js';
import { DEFAULT_POOL } from '../config/schema.js';
import { poolSets } from './format.js';

const NS = 'nat64_health';
/** seconds; probe timeouts are usually 1-3 s */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ROUND_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ProbeOutcomeLabel = 'ok' | 'timeout' | 'refused' | 'unreachable' | 'reset' | 'bad_response' | 'error';
export const PROBE_OUTCOMES: readonly ProbeOutcomeLabel[] = [
  'ok',
  'timeout',
  'refused',
  'unreachable',
  'reset',
  'bad_response',
  'error',
];
export const APPLY_RESULTS = ['applied', 'failed', 'dry_run'] as const;
export const HEALTH_STATES = ['up', 'down', 'unknown'] as const;

/** A bounded outcome label from a probe's error text (errno codes, "timeout", protocol complaints). */
export function classifyOutcome(o: Pick<ProbeOutcome, 'ok' | 'error'>): ProbeOutcomeLabel {
  if (o.ok) return 'ok';
  const e = o.error ?? '';
  if (/^(timeout|ETIMEDOUT|no echo reply)$/i.test(e)) return 'timeout';
  if (e === 'ECONNREFUSED') return 'refused';
  if (/^(ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL|ENETDOWN|EHOSTDOWN)$/.test(e)) return 'unreachable';
  if (/^(ECONNRESET|EPIPE|ECONNABORTED)$/.test(e)) return 'reset';
  if (/^(HTTP \d+|rcode |no \w+ record)/.test(e)) return 'bad_response';
  return 'error';
}

/** The probe type from a probe id such as "tcp 192.0.2.10:443". */
export function probeType(probeId: string): string {
  return probeId.split(' ', 1)[0] || 'unknown';
}

interface MetricSpec {
  type: 'gauge' | 'counter' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

type Declared = {
  [K in keyof typeof METRICS]: (typeof METRICS)[K]['type'] extends 'gauge'
    ? Gauge<string>
    : (typeof METRICS)[K]['type'] extends 'counter'
      ? Counter<string>
      : Histogram<string>;
};

/** The metrics of METRICS, registered in `registry`. */
function declare(registry: Registry): Declared {
  const made: Record<string, Metric<string>> = {};
  for (const [key, m] of Object.entries(METRICS) as Array<[string, MetricSpec]>) {
    const common = { name: `${NS}_${key}`, help: m.help, labelNames: [...m.labels], registers: [registry] };
    made[key] =
      m.type === 'gauge'
        ? new Gauge(common)
        : m.type === 'counter'
          ? new Counter(common)
          : new Histogram({ ...common, buckets: [...(m.buckets ?? [])] });
  }
  return made as Declared;
}

/**
 * Every metric of nat64-health, without its `nat64_health_` prefix: type, help text and label names.
 * The one place they are declared.
 */
export const METRICS = {
  // per prefix
  prefix_info: {
    type: 'gauge',
    help: 'Configured prefix: its name and group (value always 1)',
    labels: ['prefix', 'name', 'group'],
  },
  prefix_group_rank: {
    type: 'gauge',
    help: "Rank of the prefix's group in select.groups: 0 is the best; a prefix with no group ranks after them",
    labels: ['prefix'],
  },
  prefix_up: {
    type: 'gauge',
    help: 'Whether the prefix is up (1) or down or not yet known (0), after rise/fall hysteresis',
    labels: ['prefix'],
  },
  prefix_state: {
    type: 'gauge',
    help: 'Health state of the prefix: 1 for the current state (up, down, unknown), 0 for the others',
    labels: ['prefix', 'state'],
  },
  prefix_active: {
    type: 'gauge',
    help: 'Whether the prefix is in the active set rendered for BIND (1) or not (0)',
    labels: ['prefix'],
  },
  prefix_draining: {
    type: 'gauge',
    help: 'Whether the prefix is draining (rendered with clients { none; }) (1) or not (0)',
    labels: ['prefix'],
  },
  prefix_maintenance: {
    type: 'gauge',
    help: 'Whether an operator put the prefix into maintenance (1) or not (0) (`nat64-health maintenance`)',
    labels: ['prefix'],
  },
  prefix_smoothed_latency_seconds: {
    type: 'gauge',
    help: 'Smoothed (EWMA) latency of good rounds, used for ranking',
    labels: ['prefix'],
  },
  prefix_loss_ratio: {
    type: 'gauge',
    help: 'Share of unanswered probes through the prefix over the last health.loss_window rounds',
    labels: ['prefix'],
  },
  prefix_score_seconds: {
    type: 'gauge',
    help: 'Ranking score: smoothed latency plus loss ratio times select.loss_penalty',
    labels: ['prefix'],
  },
  prefix_latency_seconds: {
    type: 'histogram',
    help: "A good round's latency through the prefix (median over the targets that answered)",
    labels: ['prefix'],
    buckets: LATENCY_BUCKETS,
  },
  prefix_state_changes_total: {
    type: 'counter',
    help: 'Health state changes of the prefix, by the state entered',
    labels: ['prefix', 'state'],
  },
  prefix_selection_changes_total: {
    type: 'counter',
    help: 'Selection changes of the prefix (activated, deactivated, drain_ended)',
    labels: ['prefix', 'change'],
  },
  probe_results_total: {
    type: 'counter',
    help: 'Probe results through each prefix, by probe type and outcome',
    labels: ['prefix', 'type', 'outcome'],
  },
  probe_duration_seconds: {
    type: 'histogram',
    help: 'Time to a successful probe answer through the prefix, by probe type',
    labels: ['prefix', 'type'],
    buckets: LATENCY_BUCKETS,
  },
  // per client pool (`pools:`): pool "default" is the clients in no pool, also without pools
  pool_active: {
    type: 'gauge',
    help: "Whether the prefix is in the pool's active set (1) or not (0); pool default: the clients in no pool",
    labels: ['pool', 'prefix'],
  },
  pool_active_prefixes: {
    type: 'gauge',
    help: "Number of prefixes in the pool's active set",
    labels: ['pool'],
  },
  pool_selection_changes_total: {
    type: 'counter',
    help: "Selection changes of the prefix in the pool's set (activated, deactivated, drain_ended)",
    labels: ['pool', 'prefix', 'change'],
  },
  // per probe target
  probe_target_fault: {
    type: 'gauge',
    help: 'Probe target that failed through every prefix in the last round and is blamed on the target (value 1)',
    labels: ['probe'],
  },
  // per discovery source (RFC 7050), labelled "[server]:port"
  discovery_prefixes: {
    type: 'gauge',
    help: 'Prefixes discovered from the source and in use now (also while its last set is kept after failures)',
    labels: ['source'],
  },
  discovery_last_query_ok: {
    type: 'gauge',
    help: 'Whether the last query of the source got a usable answer (1) or not (0); absent before the first query',
    labels: ['source'],
  },
  discovery_last_answer_timestamp_seconds: {
    type: 'gauge',
    help: 'When the source last gave a usable answer (Unix time); absent before the first',
    labels: ['source'],
  },
  discovery_kept_until_timestamp_seconds: {
    type: 'gauge',
    help: 'While the source does not answer: when its last set is dropped (Unix time); absent while it answers',
    labels: ['source'],
  },
  // rounds
  rounds_total: { type: 'counter', help: 'Probe rounds completed', labels: [] },
  round_duration_seconds: { type: 'histogram', help: 'Duration of a probe round', labels: [], buckets: ROUND_BUCKETS },
  last_round_timestamp_seconds: { type: 'gauge', help: 'When the last round completed (Unix time)', labels: [] },
  round_interval_seconds: {
    type: 'gauge',
    help: 'health.interval: how often rounds start (at health.fast_interval while a prefix changes state)',
    labels: [],
  },
  failsafe: {
    type: 'gauge',
    help: 'Whether the fail-safe is on: no prefix is healthy and the last good set is kept (1) or not (0)',
    labels: [],
  },
  active_prefixes: { type: 'gauge', help: 'Number of prefixes in the active set', labels: [] },
  // applies (per BIND target: local, SSH targets)
  applies_total: {
    type: 'counter',
    help: 'Applies of a new dns64 configuration to a BIND target, by result (applied, failed, dry_run)',
    labels: ['target', 'result'],
  },
  apply_failures_total: {
    type: 'counter',
    help: 'Failed applies by the stage that failed (prepare, validate, write, reload)',
    labels: ['target', 'stage'],
  },
  drift_repairs_total: {
    type: 'counter',
    help: "Outputs found removed, truncated or edited and written back, by the repair's result (applied, failed)",
    labels: ['target', 'result'],
  },
  reloads_total: {
    type: 'counter',
    help: 'BIND reload commands (rndc) run by an apply, by result (success, failure)',
    labels: ['target', 'result'],
  },
  last_successful_apply_timestamp_seconds: {
    type: 'gauge',
    help: 'When an apply last succeeded on the target (Unix time)',
    labels: ['target'],
  },
  target_last_apply_success: {
    type: 'gauge',
    help: 'Whether the last apply to the target succeeded (1) or failed (0); absent before the first apply',
    labels: ['target'],
  },
  target_in_sync: {
    type: 'gauge',
    help: 'Whether the target is known to serve the current active set (1) or not (0)',
    labels: ['target'],
  },
  target_serves_decided_set: {
    type: 'gauge',
    help:
      'Whether BIND answered ipv4only.arpa with exactly the decided set (1) or not (0); ' +
      'absent before the first check',
    labels: ['target'],
  },
  // config reloads
  config_reloads_total: {
    type: 'counter',
    help: 'Configuration reloads (SIGHUP or file change), by result (success, failure)',
    labels: ['result'],
  },
  config_last_reload_successful: {
    type: 'gauge',
    help:
      'Whether the last configuration load or reload succeeded (1) or was rejected (0); ' +
      '1 after the load at startup',
    labels: [],
  },
  config_last_reload_timestamp_seconds: {
    type: 'gauge',
    help:
      'When the configuration was last loaded, reloaded or rejected (Unix time); ' +
      'the start time until the first reload',
    labels: [],
  },
  // the HTTP server itself
  http_requests_total: {
    type: 'counter',
    help: 'Requests to the metrics and status server, by handler and status code',
    labels: ['handler', 'code'],
  },
} as const satisfies Record<string, MetricSpec>;

type Labels = Record<string, string>;

const sameSet = (a: readonly string[] | null, b: readonly string[]) =>
  a !== null && a.length === b.length && b.every((id) => a.includes(id));

/** The owner of a pool's series of a prefix: gone when the prefix or the pool is. */
const poolOwner = (pool: string, prefix: string) => `pool ${pool} prefix ${prefix}`;

/**
 * prom-client's gauges named like counters (`promtool check metrics`: "non-counter metrics should
 * not have _total suffix"). Left out: each is the sum of the per-type gauge of the same name
 * without `_total` (`sum(nodejs_active_handles)`), which stays.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

export class Metrics {
  readonly registry = new Registry();
  /** label sets of counters and histograms, by the prefix, target or pool's prefix they belong to: removed with it */
  private readonly owned = new Map<string, Map<string, { metric: Metric<string>; labels: Labels }>>();
  /** target -> Unix seconds of its last successful apply */
  private readonly lastApplied = new Map<string, number>();
  private lastConfigReload: string | null = null;
  private lastRound = -1;

  private readonly m = declare(this.registry);

  constructor(opts: { defaultMetrics?: boolean; now?: number } = {}) {
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    for (const result of ['success', 'failure']) this.m.config_reloads_total.inc({ result }, 0);
    // The daemon starts only with a valid config: that load counts as the first successful one.
    this.m.config_last_reload_successful.set(1);
    this.m.config_last_reload_timestamp_seconds.set((opts.now ?? Date.now()) / 1000);
  }

  /** Requests to the metrics and status server (the HTTP server counts them). */
  get httpRequests(): Counter<string> {
    return this.m.http_requests_total;
  }

  /** Remembers a label set of a counter or histogram so it goes away with its prefix or target. */
  private own(owner: string, metric: Metric<string>, labels: Labels): void {
    let m = this.owned.get(owner);
    if (!m) this.owned.set(owner, (m = new Map<string, { metric: Metric<string>; labels: Labels }>()));
    const key = `${(metric as unknown as { name: string }).name}\u0000${JSON.stringify(labels)}`;
    if (!m.has(key)) m.set(key, { metric, labels });
  }

  private inc(owner: string, counter: Counter<string>, labels: Labels, by = 1): void {
    this.own(owner, counter, labels);
    counter.inc(labels, by);
  }

  private observe(owner: string, histogram: Histogram<string>, labels: Labels, value: number): void {
    this.own(owner, histogram, labels);
    histogram.observe(labels, value);
  }

  /** Drops every series of prefixes and targets that are gone (after a config reload). */
  private forget(current: Set<string>): void {
    for (const [owner, series] of this.owned) {
      if (current.has(owner)) continue;
      for (const { metric, labels } of series.values()) (metric as Counter<string>).remove(labels);
      this.owned.delete(owner);
    }
  }

  update(snapshot: StateSnapshot, decision: Decision | null): void {
    const newRound = snapshot.round !== this.lastRound;
    this.lastRound = snapshot.round;
    const pools = poolSets(snapshot);
    const owners = new Set<string>([
      ...snapshot.prefixes.map((p) => `prefix ${p.prefix}`),
      ...snapshot.targets.map((t) => `target ${t.name}`),
      ...pools.flatMap((pool) => snapshot.prefixes.map((p) => poolOwner(pool.name, p.prefix))),
    ]);
    this.forget(owners);

    for (const g of [
      this.m.prefix_info,
      this.m.prefix_group_rank,
      this.m.prefix_up,
      this.m.prefix_state,
      this.m.prefix_active,
      this.m.prefix_draining,
      this.m.prefix_maintenance,
      this.m.prefix_smoothed_latency_seconds,
      this.m.prefix_loss_ratio,
      this.m.prefix_score_seconds,
      this.m.pool_active,
      this.m.pool_active_prefixes,
      this.m.probe_target_fault,
      this.m.target_last_apply_success,
      this.m.target_in_sync,
      this.m.target_serves_decided_set,
      this.m.discovery_prefixes,
      this.m.discovery_last_query_ok,
      this.m.discovery_last_answer_timestamp_seconds,
      this.m.discovery_kept_until_timestamp_seconds,
    ])
      g.reset();
    for (const d of snapshot.discovery ?? []) {
      const source = d.source;
      this.m.discovery_prefixes.set({ source }, d.prefixes.length);
      if (d.error !== null || d.answered_at !== null)
        this.m.discovery_last_query_ok.set({ source }, d.error === null ? 1 : 0);
      if (d.answered_at)
        this.m.discovery_last_answer_timestamp_seconds.set({ source }, Date.parse(d.answered_at) / 1000);
      if (d.kept_until) this.m.discovery_kept_until_timestamp_seconds.set({ source }, Date.parse(d.kept_until) / 1000);
    }
    for (const p of snapshot.prefixes) {
      const prefix = p.prefix;
      this.m.prefix_info.set({ prefix, name: p.name, group: p.group ?? '' }, 1);
      // zero series before the first change, so increase() counts that one (NAT64HealthPrefixFlapping)
      for (const state of ['up', 'down'])
        this.inc(`prefix ${prefix}`, this.m.prefix_state_changes_total, { prefix, state }, 0);
      if (p.group_rank !== undefined) this.m.prefix_group_rank.set({ prefix }, p.group_rank);
      this.m.prefix_up.set({ prefix }, p.status === 'up' ? 1 : 0);
      for (const state of HEALTH_STATES) this.m.prefix_state.set({ prefix, state }, p.status === state ? 1 : 0);
      this.m.prefix_active.set({ prefix }, p.active ? 1 : 0);
      this.m.prefix_draining.set({ prefix }, p.draining ? 1 : 0);
      this.m.prefix_maintenance.set({ prefix }, p.maintenance ? 1 : 0);
      if (p.latency_ms != null) this.m.prefix_smoothed_latency_seconds.set({ prefix }, p.latency_ms / 1000);
      if (p.loss_ratio != null) this.m.prefix_loss_ratio.set({ prefix }, p.loss_ratio);
      if (p.score_ms != null) this.m.prefix_score_seconds.set({ prefix }, p.score_ms / 1000);
      if (newRound && p.last_round?.good && p.last_round.latency_ms != null) {
        this.observe(`prefix ${prefix}`, this.m.prefix_latency_seconds, { prefix }, p.last_round.latency_ms / 1000);
      }
    }
    for (const { name: pool, active } of pools) {
      this.m.pool_active_prefixes.set({ pool }, active.length);
      for (const { prefix } of snapshot.prefixes)
        this.m.pool_active.set({ pool, prefix }, active.includes(prefix) ? 1 : 0);
    }
    for (const probe of snapshot.target_faults) this.m.probe_target_fault.set({ probe }, 1);
    this.m.failsafe.set(snapshot.failsafe ? 1 : 0);
    this.m.active_prefixes.set(snapshot.active.length);
    if (snapshot.interval_ms !== undefined) this.m.round_interval_seconds.set(snapshot.interval_ms / 1000);
    if (newRound) {
      this.m.rounds_total.inc();
      if (snapshot.round_ms != null) this.m.round_duration_seconds.observe(snapshot.round_ms / 1000);
      this.m.last_round_timestamp_seconds.set(Date.parse(snapshot.updated_at) / 1000);
    }

    if (decision && newRound) {
      const known = new Set(snapshot.prefixes.map((p) => p.prefix));
      for (const o of decision.outcomes) {
        if (!known.has(o.prefix)) continue;
        const type = probeType(o.probe);
        const outcome = classifyOutcome(o);
        // a zero "ok" series for every prefix and type, so rate() works before the first success
        this.inc(`prefix ${o.prefix}`, this.m.probe_results_total, { prefix: o.prefix, type, outcome: 'ok' }, 0);
        this.inc(`prefix ${o.prefix}`, this.m.probe_results_total, { prefix: o.prefix, type, outcome });
        if (o.ok)
          this.observe(
            `prefix ${o.prefix}`,
            this.m.probe_duration_seconds,
            { prefix: o.prefix, type },
            o.latency_ms / 1000,
          );
      }
      for (const t of decision.transitions)
        if (known.has(t.id))
          this.inc(`prefix ${t.id}`, this.m.prefix_state_changes_total, { prefix: t.id, state: t.to });
      for (const c of decision.changes) {
        if (!known.has(c.id)) continue;
        const change = c.change.replace(/-/g, '_');
        const pool = c.pool ?? DEFAULT_POOL;
        this.inc(poolOwner(pool, c.id), this.m.pool_selection_changes_total, { pool, prefix: c.id, change });
        // the default pool's, as before pools
        if (c.pool === undefined)
          this.inc(`prefix ${c.id}`, this.m.prefix_selection_changes_total, { prefix: c.id, change });
      }
    }

    this.updateTargets(snapshot);
    this.updateConfigReload(snapshot);
  }

  private updateTargets(snapshot: StateSnapshot): void {
    for (const t of snapshot.targets) {
      const owner = `target ${t.name}`;
      for (const result of APPLY_RESULTS) this.inc(owner, this.m.applies_total, { target: t.name, result }, 0);
      for (const result of ['success', 'failure']) this.inc(owner, this.m.reloads_total, { target: t.name, result }, 0);
      for (const result of ['applied', 'failed'])
        this.inc(owner, this.m.drift_repairs_total, { target: t.name, result }, 0);
      if (t.last_apply)
        this.m.target_last_apply_success.set({ target: t.name }, t.last_apply.result === 'failed' ? 0 : 1);
      // in sync: it serves the decided set of the default pool and of every client pool
      const inSync =
        sameSet(t.serving, snapshot.active) &&
        (snapshot.pools ?? []).every((p) => sameSet(t.serving_pools?.[p.name] ?? null, p.active));
      this.m.target_in_sync.set({ target: t.name }, inSync ? 1 : 0);
      if (t.verification) this.m.target_serves_decided_set.set({ target: t.name }, t.verification.ok ? 1 : 0);
    }
    const targets = new Set(snapshot.targets.map((t) => t.name));
    for (const name of this.lastApplied.keys()) if (!targets.has(name)) this.lastApplied.delete(name);
    this.m.last_successful_apply_timestamp_seconds.reset();
    for (const [target, at] of this.lastApplied) this.m.last_successful_apply_timestamp_seconds.set({ target }, at);
  }

  /** An apply that did something (the daemon's `applied` hook): counted once, when it happens. */
  countApply(a: AppliedRecord): void {
    const owner = `target ${a.target}`;
    this.inc(owner, this.m.applies_total, { target: a.target, result: a.result.replace(/-/g, '_') });
    if (a.result === 'failed')
      this.inc(owner, this.m.apply_failures_total, { target: a.target, stage: a.stage ?? 'unknown' });
    // a repair of a removed file needs no reload (runner.ts): no reload_ms
    if (a.result === 'applied' && a.reload_ms !== undefined)
      this.inc(owner, this.m.reloads_total, { target: a.target, result: 'success' });
    if (a.drift !== undefined && (a.result === 'applied' || a.result === 'failed'))
      this.inc(owner, this.m.drift_repairs_total, { target: a.target, result: a.result });
    if (a.result === 'failed' && a.stage === 'reload')
      this.inc(owner, this.m.reloads_total, { target: a.target, result: 'failure' });
    if (a.result === 'applied') {
      const at = Date.parse(a.at) / 1000;
      if (at > (this.lastApplied.get(a.target) ?? 0)) this.lastApplied.set(a.target, at);
      this.m.last_successful_apply_timestamp_seconds.set({ target: a.target }, at);
    }
  }

  private updateConfigReload(snapshot: StateSnapshot): void {
    const r = snapshot.last_config_reload;
    if (!r) return;
    const key = `${r.at} ${r.ok}`;
    if (key === this.lastConfigReload) return;
    this.lastConfigReload = key;
    this.m.config_reloads_total.inc({ result: r.ok ? 'success' : 'failure' });
    this.m.config_last_reload_successful.set(r.ok ? 1 : 0);
    this.m.config_last_reload_timestamp_seconds.set(Date.parse(r.at) / 1000);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
