// Prometheus metrics, updated from the daemon's snapshot after every round. The names and labels
// are an interface (dashboards, alerts): the README (Watching it) lists them; keep them stable.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { AppliedRecord } from '../apply/runner.js';
import type { StateSnapshot } from '../daemon/state-file.js';
import type { Decision } from '../core/step.js';
import type { ProbeOutcome } from '../probe/types.js';

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

type Labels = Record<string, string>;

function applyKey(a: AppliedRecord): string {
  return `${a.at}\u0000${a.target}\u0000${a.result}\u0000${a.stage ?? ''}\u0000${a.ms}`;
}

export class Metrics {
  readonly registry = new Registry();
  /** label sets of counters and histograms, by the prefix or target they belong to: removed with it */
  private readonly owned = new Map<string, Map<string, { metric: Metric<string>; labels: Labels }>>();
  private seenApplies = new Set<string>();
  /** target -> Unix seconds of its last successful apply */
  private readonly lastApplied = new Map<string, number>();
  private lastConfigReload: string | null = null;
  private lastRound = -1;

  // per prefix
  private readonly prefixInfo = this.gauge('prefix_info', 'Configured prefix: its name and group (value always 1)', [
    'prefix',
    'name',
    'group',
  ]);
  private readonly prefixUp = this.gauge(
    'prefix_up',
    'Whether the prefix is up (1) or down or not yet known (0), after rise/fall hysteresis',
    ['prefix'],
  );
  private readonly prefixState = this.gauge(
    'prefix_state',
    'Health state of the prefix: 1 for the current state (up, down, unknown), 0 for the others',
    ['prefix', 'state'],
  );
  private readonly prefixActive = this.gauge(
    'prefix_active',
    'Whether the prefix is in the active set rendered for BIND (1) or not (0)',
    ['prefix'],
  );
  private readonly prefixDraining = this.gauge(
    'prefix_draining',
    'Whether the prefix is draining (rendered with clients { none; }) (1) or not (0)',
    ['prefix'],
  );
  private readonly prefixMaintenance = this.gauge(
    'prefix_maintenance',
    'Whether an operator put the prefix into maintenance (1) or not (0) (`nat64-health maintenance`)',
    ['prefix'],
  );
  private readonly prefixSmoothed = this.gauge(
    'prefix_smoothed_latency_seconds',
    'Smoothed (EWMA) latency of good rounds, used for ranking',
    ['prefix'],
  );
  private readonly prefixLoss = this.gauge(
    'prefix_loss_ratio',
    'Share of unanswered probes through the prefix over the last health.loss_window rounds',
    ['prefix'],
  );
  private readonly prefixScore = this.gauge(
    'prefix_score_seconds',
    'Ranking score: smoothed latency plus loss ratio times select.loss_penalty',
    ['prefix'],
  );
  private readonly prefixLatency = this.histogram(
    'prefix_latency_seconds',
    "A good round's latency through the prefix (median over the targets that answered)",
    ['prefix'],
    LATENCY_BUCKETS,
  );
  private readonly prefixStateChanges = this.counter(
    'prefix_state_changes_total',
    'Health state changes of the prefix, by the state entered',
    ['prefix', 'state'],
  );
  private readonly selectionChanges = this.counter(
    'prefix_selection_changes_total',
    'Selection changes of the prefix (activated, deactivated, drain_ended)',
    ['prefix', 'change'],
  );
  private readonly probeResults = this.counter(
    'probe_results_total',
    'Probe results through each prefix, by probe type and outcome',
    ['prefix', 'type', 'outcome'],
  );
  private readonly probeDuration = this.histogram(
    'probe_duration_seconds',
    'Time to a successful probe answer through the prefix, by probe type',
    ['prefix', 'type'],
    LATENCY_BUCKETS,
  );
  // per probe target
  private readonly targetFault = this.gauge(
    'probe_target_fault',
    'Probe target that failed through every prefix in the last round and is blamed on the target (value 1)',
    ['probe'],
  );
  // per discovery source (RFC 7050), labelled "[server]:port"
  private readonly discoveryPrefixes = this.gauge(
    'discovery_prefixes',
    'Prefixes discovered from the source and in use now (also while its last set is kept after failures)',
    ['source'],
  );
  private readonly discoveryOk = this.gauge(
    'discovery_last_query_ok',
    'Whether the last query of the source got a usable answer (1) or not (0); absent before the first query',
    ['source'],
  );
  private readonly discoveryAnswered = this.gauge(
    'discovery_last_answer_timestamp_seconds',
    'When the source last gave a usable answer (Unix time); absent before the first',
    ['source'],
  );
  private readonly discoveryKeptUntil = this.gauge(
    'discovery_kept_until_timestamp_seconds',
    'While the source does not answer: when its last set is dropped (Unix time); absent while it answers',
    ['source'],
  );
  // rounds
  private readonly rounds = this.counter('rounds_total', 'Probe rounds completed', []);
  private readonly roundDuration = this.histogram(
    'round_duration_seconds',
    'Duration of a probe round',
    [],
    ROUND_BUCKETS,
  );
  private readonly lastRoundTime = this.gauge(
    'last_round_timestamp_seconds',
    'When the last round completed (Unix time)',
    [],
  );
  private readonly failsafe = this.gauge(
    'failsafe',
    'Whether the fail-safe is on: no prefix is healthy and the last good set is kept (1) or not (0)',
    [],
  );
  private readonly activePrefixes = this.gauge('active_prefixes', 'Number of prefixes in the active set', []);
  // applies (per BIND target: local, SSH targets)
  private readonly applies = this.counter(
    'applies_total',
    'Applies of a new dns64 configuration to a BIND target, by result (applied, failed, dry_run)',
    ['target', 'result'],
  );
  private readonly applyFailures = this.counter(
    'apply_failures_total',
    'Failed applies by the stage that failed (prepare, validate, write, reload)',
    ['target', 'stage'],
  );
  private readonly reloads = this.counter(
    'reloads_total',
    'BIND reload commands (rndc) run by an apply, by result (success, failure)',
    ['target', 'result'],
  );
  private readonly lastApplySuccess = this.gauge(
    'last_successful_apply_timestamp_seconds',
    'When an apply last succeeded on the target (Unix time)',
    ['target'],
  );
  private readonly targetLastOk = this.gauge(
    'target_last_apply_success',
    'Whether the last apply to the target succeeded (1) or failed (0); absent before the first apply',
    ['target'],
  );
  private readonly targetInSync = this.gauge(
    'target_in_sync',
    'Whether the target is known to serve the current active set (1) or not (0)',
    ['target'],
  );
  private readonly targetServesDecided = this.gauge(
    'target_serves_decided_set',
    'Whether BIND answered ipv4only.arpa with exactly the decided set (1) or not (0); absent before the first check',
    ['target'],
  );
  // config reloads
  private readonly configReloads = this.counter(
    'config_reloads_total',
    'Configuration reloads (SIGHUP or file change), by result (success, failure)',
    ['result'],
  );
  private readonly configLastOk = this.gauge(
    'config_last_reload_successful',
    'Whether the last configuration load or reload succeeded (1) or was rejected (0); 1 after the load at startup',
    [],
  );
  private readonly configLastTime = this.gauge(
    'config_last_reload_timestamp_seconds',
    'When the configuration was last loaded, reloaded or rejected (Unix time); the start time until the first reload',
    [],
  );
  // the HTTP server itself
  readonly httpRequests = this.counter(
    'http_requests_total',
    'Requests to the metrics and status server, by handler and status code',
    ['handler', 'code'],
  );

  constructor(opts: { defaultMetrics?: boolean; now?: number } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    for (const result of ['success', 'failure']) this.configReloads.inc({ result }, 0);
    // The daemon starts only with a valid config: that load counts as the first successful one.
    this.configLastOk.set(1);
    this.configLastTime.set((opts.now ?? Date.now()) / 1000);
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    return new Gauge({ name: `${NS}_${name}`, help, labelNames, registers: [this.registry] });
  }

  private counter(name: string, help: string, labelNames: string[]): Counter<string> {
    return new Counter({ name: `${NS}_${name}`, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
    return new Histogram({ name: `${NS}_${name}`, help, labelNames, buckets, registers: [this.registry] });
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
    const owners = new Set<string>([
      ...snapshot.prefixes.map((p) => `prefix ${p.prefix}`),
      ...snapshot.targets.map((t) => `target ${t.name}`),
    ]);
    this.forget(owners);

    for (const g of [
      this.prefixInfo,
      this.prefixUp,
      this.prefixState,
      this.prefixActive,
      this.prefixDraining,
      this.prefixMaintenance,
      this.prefixSmoothed,
      this.prefixLoss,
      this.prefixScore,
      this.targetFault,
      this.targetLastOk,
      this.targetInSync,
      this.targetServesDecided,
      this.discoveryPrefixes,
      this.discoveryOk,
      this.discoveryAnswered,
      this.discoveryKeptUntil,
    ])
      g.reset();
    for (const d of snapshot.discovery ?? []) {
      const source = d.source;
      this.discoveryPrefixes.set({ source }, d.prefixes.length);
      if (d.error !== null || d.answered_at !== null) this.discoveryOk.set({ source }, d.error === null ? 1 : 0);
      if (d.answered_at) this.discoveryAnswered.set({ source }, Date.parse(d.answered_at) / 1000);
      if (d.kept_until) this.discoveryKeptUntil.set({ source }, Date.parse(d.kept_until) / 1000);
    }
    for (const p of snapshot.prefixes) {
      const prefix = p.prefix;
      this.prefixInfo.set({ prefix, name: p.name, group: p.group ?? '' }, 1);
      this.prefixUp.set({ prefix }, p.status === 'up' ? 1 : 0);
      for (const state of HEALTH_STATES) this.prefixState.set({ prefix, state }, p.status === state ? 1 : 0);
      this.prefixActive.set({ prefix }, p.active ? 1 : 0);
      this.prefixDraining.set({ prefix }, p.draining ? 1 : 0);
      this.prefixMaintenance.set({ prefix }, p.maintenance ? 1 : 0);
      if (p.latency_ms != null) this.prefixSmoothed.set({ prefix }, p.latency_ms / 1000);
      if (p.loss_ratio != null) this.prefixLoss.set({ prefix }, p.loss_ratio);
      if (p.score_ms != null) this.prefixScore.set({ prefix }, p.score_ms / 1000);
      if (newRound && p.last_round?.good && p.last_round.latency_ms != null) {
        this.observe(`prefix ${prefix}`, this.prefixLatency, { prefix }, p.last_round.latency_ms / 1000);
      }
    }
    for (const probe of snapshot.target_faults) this.targetFault.set({ probe }, 1);
    this.failsafe.set(snapshot.failsafe ? 1 : 0);
    this.activePrefixes.set(snapshot.active.length);
    if (newRound) {
      this.rounds.inc();
      if (snapshot.round_ms != null) this.roundDuration.observe(snapshot.round_ms / 1000);
      this.lastRoundTime.set(Date.parse(snapshot.updated_at) / 1000);
    }

    if (decision && newRound) {
      const known = new Set(snapshot.prefixes.map((p) => p.prefix));
      for (const o of decision.outcomes) {
        if (!known.has(o.prefix)) continue;
        const type = probeType(o.probe);
        const outcome = classifyOutcome(o);
        // a zero "ok" series for every prefix and type, so rate() works before the first success
        this.inc(`prefix ${o.prefix}`, this.probeResults, { prefix: o.prefix, type, outcome: 'ok' }, 0);
        this.inc(`prefix ${o.prefix}`, this.probeResults, { prefix: o.prefix, type, outcome });
        if (o.ok)
          this.observe(`prefix ${o.prefix}`, this.probeDuration, { prefix: o.prefix, type }, o.latency_ms / 1000);
      }
      for (const t of decision.transitions)
        if (known.has(t.id)) this.inc(`prefix ${t.id}`, this.prefixStateChanges, { prefix: t.id, state: t.to });
      for (const c of decision.changes) {
        if (known.has(c.id))
          this.inc(`prefix ${c.id}`, this.selectionChanges, { prefix: c.id, change: c.change.replace(/-/g, '_') });
      }
    }

    this.updateTargets(snapshot);
    this.updateConfigReload(snapshot);
  }

  private updateTargets(snapshot: StateSnapshot): void {
    for (const t of snapshot.targets) {
      const owner = `target ${t.name}`;
      for (const result of APPLY_RESULTS) this.inc(owner, this.applies, { target: t.name, result }, 0);
      for (const result of ['success', 'failure']) this.inc(owner, this.reloads, { target: t.name, result }, 0);
      if (t.last_apply) this.targetLastOk.set({ target: t.name }, t.last_apply.result === 'failed' ? 0 : 1);
      const inSync =
        t.serving !== null &&
        t.serving.length === snapshot.active.length &&
        snapshot.active.every((id) => t.serving!.includes(id));
      this.targetInSync.set({ target: t.name }, inSync ? 1 : 0);
      if (t.verification) this.targetServesDecided.set({ target: t.name }, t.verification.ok ? 1 : 0);
    }
    // Applies are kept newest first and capped; count the records not seen in the previous snapshot.
    const keys = new Set<string>();
    const targets = new Set(snapshot.targets.map((t) => t.name));
    for (const a of snapshot.applies) {
      const key = applyKey(a);
      keys.add(key);
      if (this.seenApplies.has(key) || !targets.has(a.target)) continue;
      const owner = `target ${a.target}`;
      this.inc(owner, this.applies, { target: a.target, result: a.result.replace(/-/g, '_') });
      if (a.result === 'failed') this.inc(owner, this.applyFailures, { target: a.target, stage: a.stage ?? 'unknown' });
      if (a.result === 'applied') this.inc(owner, this.reloads, { target: a.target, result: 'success' });
      if (a.result === 'failed' && a.stage === 'reload')
        this.inc(owner, this.reloads, { target: a.target, result: 'failure' });
      if (a.result === 'applied') {
        const at = Date.parse(a.at) / 1000;
        if (at > (this.lastApplied.get(a.target) ?? 0)) this.lastApplied.set(a.target, at);
      }
    }
    this.seenApplies = keys;
    for (const name of this.lastApplied.keys()) if (!targets.has(name)) this.lastApplied.delete(name);
    this.lastApplySuccess.reset();
    for (const [target, at] of this.lastApplied) this.lastApplySuccess.set({ target }, at);
  }

  private updateConfigReload(snapshot: StateSnapshot): void {
    const r = snapshot.last_config_reload;
    if (!r) return;
    const key = `${r.at} ${r.ok}`;
    if (key === this.lastConfigReload) return;
    this.lastConfigReload = key;
    this.configReloads.inc({ result: r.ok ? 'success' : 'failure' });
    this.configLastOk.set(r.ok ? 1 : 0);
    this.configLastTime.set(Date.parse(r.at) / 1000);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
