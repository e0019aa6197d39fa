import { describe, expect, it } from 'vitest';
import { classifyOutcome, Metrics, probeType } from '../../../src/observe/metrics.js';
import { checkMetrics, promtoolMissing } from '../../support/prometheus.js';
import { itWith } from '../../support/real-parts.js';
import {
  A,
  apply,
  B,
  C,
  deadPrefix,
  decision,
  discoverySource,
  outcome,
  pooledSnapshot,
  prefix,
  sample,
  snapshot,
  T0,
} from '../../support/observe-fixtures.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('metrics', () => {
  it('per prefix state: a dead prefix is down and not active, a live one up and active', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(snapshot(), decision());
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_prefix_up', { prefix: A })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_active', { prefix: A })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_up', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_active', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_draining', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_state', { prefix: B, state: 'down' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_state', { prefix: B, state: 'up' })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_info', { prefix: A, name: 'gw-a', group: 'east' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_smoothed_latency_seconds', { prefix: A })).toBeCloseTo(0.012);
    expect(sample(text, 'nat64_health_prefix_smoothed_latency_seconds', { prefix: B })).toBeUndefined();
    expect(sample(text, 'nat64_health_prefix_loss_ratio', { prefix: A })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_loss_ratio', { prefix: B })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_score_seconds', { prefix: A })).toBeCloseTo(0.012);
    expect(sample(text, 'nat64_health_prefix_score_seconds', { prefix: B })).toBeUndefined();
    expect(sample(text, 'nat64_health_prefix_latency_seconds_count', { prefix: A })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_latency_seconds_bucket', { prefix: A, le: '0.01' })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_latency_seconds_bucket', { prefix: A, le: '0.025' })).toBe(1);
    expect(sample(text, 'nat64_health_rounds_total')).toBe(1);
    expect(sample(text, 'nat64_health_active_prefixes')).toBe(1);
    expect(sample(text, 'nat64_health_failsafe')).toBe(0);
    expect(sample(text, 'nat64_health_last_round_timestamp_seconds')).toBe(T0 / 1000);
  });

  it('counts probe results by type and outcome, and the duration of successes', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const outcomes = [
      outcome(A, 'tcp 192.0.2.10:80', true, 3),
      outcome(A, 'http 192.0.2.10:80/', true, 5),
      outcome(B, 'tcp 192.0.2.10:80', false, 1000, 'timeout'),
      outcome(B, 'http 192.0.2.10:80/', false, 0.2, 'ENETUNREACH'),
    ];
    m.update(snapshot({ round: 1 }), decision({ outcomes }));
    m.update(snapshot({ round: 2 }), decision({ outcomes }));
    m.update(snapshot({ round: 2 }), decision({ outcomes })); // the same round again: not counted twice
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: A, type: 'tcp', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: A, type: 'http', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: B, type: 'tcp', outcome: 'timeout' })).toBe(2);
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: B, type: 'http', outcome: 'unreachable' })).toBe(
      2,
    );
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: B, type: 'tcp', outcome: 'ok' })).toBe(0);
    expect(sample(text, 'nat64_health_probe_duration_seconds_count', { prefix: A, type: 'tcp' })).toBe(2);
    expect(sample(text, 'nat64_health_probe_duration_seconds_count', { prefix: B, type: 'tcp' })).toBeUndefined();
    expect(sample(text, 'nat64_health_rounds_total')).toBe(2);
  });

  it('classifies probe errors into a bounded set of outcomes', () => {
    expect(classifyOutcome({ ok: true })).toBe('ok');
    expect(classifyOutcome({ ok: false, error: 'timeout' })).toBe('timeout');
    expect(classifyOutcome({ ok: false, error: 'no echo reply' })).toBe('timeout');
    expect(classifyOutcome({ ok: false, error: 'ECONNREFUSED' })).toBe('refused');
    expect(classifyOutcome({ ok: false, error: 'EHOSTUNREACH' })).toBe('unreachable');
    expect(classifyOutcome({ ok: false, error: 'ECONNRESET' })).toBe('reset');
    expect(classifyOutcome({ ok: false, error: 'HTTP 503, expected 200' })).toBe('bad_response');
    expect(classifyOutcome({ ok: false, error: 'rcode SERVFAIL' })).toBe('bad_response');
    expect(classifyOutcome({ ok: false, error: 'no A record in the answer' })).toBe('bad_response');
    expect(classifyOutcome({ ok: false, error: 'something odd' })).toBe('error');
    expect(probeType('dns 192.0.2.53:53 example.test/A')).toBe('dns');
  });

  it('counts state and selection changes', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(
      snapshot(),
      decision({
        transitions: [{ id: B, from: 'up', to: 'down', reason: '3 bad rounds' }],
        changes: [
          { id: B, change: 'deactivated', reason: 'prefix is down' },
          { id: A, change: 'drain-ended', reason: 'over' },
        ],
      }),
    );
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_prefix_state_changes_total', { prefix: B, state: 'down' })).toBe(1);
    // a zero before the first change, so that increase() counts the first one
    expect(sample(text, 'nat64_health_prefix_state_changes_total', { prefix: B, state: 'up' })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_state_changes_total', { prefix: A, state: 'down' })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: B, change: 'deactivated' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: A, change: 'drain_ended' })).toBe(1);
  });

  it('without pools: pool "default" mirrors the active set', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(snapshot(), decision({ changes: [{ id: B, change: 'deactivated', reason: 'prefix is down' }] }));
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_pool_active', { pool: 'default', prefix: A })).toBe(1);
    expect(sample(text, 'nat64_health_pool_active', { pool: 'default', prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_pool_active_prefixes', { pool: 'default' })).toBe(1);
    expect(text.match(/^nat64_health_pool_active_prefixes\{/gm)).toHaveLength(1);
    const change = { pool: 'default', prefix: B, change: 'deactivated' };
    expect(sample(text, 'nat64_health_pool_selection_changes_total', change)).toBe(1);
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: B, change: 'deactivated' })).toBe(1);
  });

  it("with pools: each pool's set, the default's too; the per-prefix metrics stay the default pool's", async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(
      pooledSnapshot(),
      decision({
        changes: [
          { id: B, change: 'activated', reason: 'healthy', pool: 'site-b' },
          { id: C, change: 'deactivated', reason: 'better one', pool: 'site-b' },
          { id: A, change: 'activated', reason: 'healthy' },
        ],
      }),
    );
    const text = await m.metrics();
    const active = (pool: string) =>
      [A, B, C].map((prefix) => sample(text, 'nat64_health_pool_active', { pool, prefix }));
    expect(active('default')).toEqual([1, 0, 0]);
    expect(active('site-a')).toEqual([1, 0, 0]);
    expect(active('site-b')).toEqual([0, 1, 0]);
    for (const pool of ['default', 'site-a', 'site-b'])
      expect(sample(text, 'nat64_health_pool_active_prefixes', { pool }), pool).toBe(1);
    // the existing per-prefix metrics: the default pool's view
    expect([A, B, C].map((prefix) => sample(text, 'nat64_health_prefix_active', { prefix }))).toEqual([1, 0, 0]);
    expect(sample(text, 'nat64_health_active_prefixes')).toBe(1);
    const changes = (pool: string, prefix: string, change: string) =>
      sample(text, 'nat64_health_pool_selection_changes_total', { pool, prefix, change });
    expect(changes('site-b', B, 'activated')).toBe(1);
    expect(changes('site-b', C, 'deactivated')).toBe(1);
    expect(changes('default', A, 'activated')).toBe(1);
    expect(changes('default', B, 'activated')).toBeUndefined();
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: A, change: 'activated' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: B, change: 'activated' })).toBe(
      undefined,
    );
    // a pool removed from the config leaves no series
    m.update(pooledSnapshot({ round: 2, pools: [pooledSnapshot().pools![0]!] }), decision());
    const after = await m.metrics();
    expect(after).not.toContain('pool="site-b"');
    expect(sample(after, 'nat64_health_pool_active', { pool: 'site-a', prefix: A })).toBe(1);
    expect(
      sample(after, 'nat64_health_pool_selection_changes_total', { pool: 'default', prefix: A, change: 'activated' }),
    ).toBe(1);
  });

  it("with pools: a target is in sync only while it serves every pool's set, not the default's alone", async () => {
    const m = new Metrics({ defaultMetrics: false });
    const inSync = async (serving_pools?: Record<string, string[]>) => {
      m.update(pooledSnapshot({ targets: [{ name: 'local', last_apply: null, serving: [A], serving_pools }] }), null);
      return sample(await m.metrics(), 'nat64_health_target_in_sync', { target: 'local' });
    };
    expect(await inSync({ 'site-a': [A], 'site-b': [B] })).toBe(1);
    // site-b's new set failed to apply: the default pool's set alone is not enough
    expect(await inSync({ 'site-a': [A], 'site-b': [C] })).toBe(0);
    expect(await inSync()).toBe(0);
  });

  it('counts each apply once, from its event, reloads by result, and the last successful apply time', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const first = apply({ at: iso(T0) });
    m.countApply(first);
    m.update(
      snapshot({ round: 1, applies: [first], targets: [{ name: 'local', last_apply: first, serving: [A] }] }),
      decision(),
    );
    let text = await m.metrics();
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'applied' })).toBe(1);
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'failed' })).toBe(0);
    expect(sample(text, 'nat64_health_reloads_total', { target: 'local', result: 'success' })).toBe(1);
    expect(sample(text, 'nat64_health_last_successful_apply_timestamp_seconds', { target: 'local' })).toBe(T0 / 1000);
    expect(sample(text, 'nat64_health_target_last_apply_success', { target: 'local' })).toBe(1);
    expect(sample(text, 'nat64_health_target_in_sync', { target: 'local' })).toBe(1);
    expect(text).not.toMatch(/nat64_health_target_serves_decided_set\{/); // not asked yet
    const v = { at: iso(T0), served: [A], decided: [A], detail: '' };
    for (const ok of [true, false]) {
      m.update(
        snapshot({
          round: 1,
          applies: [first],
          targets: [{ name: 'local', last_apply: first, serving: [A], verification: { ...v, ok } }],
        }),
        decision(),
      );
      expect(sample(await m.metrics(), 'nat64_health_target_serves_decided_set', { target: 'local' })).toBe(ok ? 1 : 0);
    }

    const failedValidate = apply({
      at: iso(T0 + 5000),
      result: 'failed',
      stage: 'validate',
      error: 'bad',
      reload_ms: undefined,
      ms: 7,
    });
    const failedReload = apply({
      at: iso(T0 + 10_000),
      result: 'failed',
      stage: 'reload',
      error: 'rndc: failure',
      rolled_back: true,
      ms: 9,
    });
    m.countApply(failedValidate);
    m.update(
      snapshot({
        round: 2,
        applies: [failedValidate, first],
        targets: [{ name: 'local', last_apply: failedValidate, serving: [A] }],
      }),
      decision(),
    );
    m.countApply(failedReload);
    m.update(
      snapshot({
        round: 3,
        applies: [failedReload, failedValidate, first],
        targets: [{ name: 'local', last_apply: failedReload, serving: [A] }],
      }),
      decision(),
    );
    text = await m.metrics();
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'applied' })).toBe(1);
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'failed' })).toBe(2);
    expect(sample(text, 'nat64_health_apply_failures_total', { target: 'local', stage: 'validate' })).toBe(1);
    expect(sample(text, 'nat64_health_apply_failures_total', { target: 'local', stage: 'reload' })).toBe(1);
    expect(sample(text, 'nat64_health_reloads_total', { target: 'local', result: 'failure' })).toBe(1);
    expect(sample(text, 'nat64_health_last_successful_apply_timestamp_seconds', { target: 'local' })).toBe(T0 / 1000);
    expect(sample(text, 'nat64_health_target_last_apply_success', { target: 'local' })).toBe(0);
    // a dry run is counted as such; the snapshots' list of applies alone counts nothing
    m.countApply(apply({ at: iso(T0 + 20_000), result: 'dry-run' }));
    m.update(snapshot({ round: 4, applies: [apply({ at: iso(T0 + 30_000) })] }), decision());
    text = await m.metrics();
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'dry_run' })).toBe(1);
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'applied' })).toBe(1);
  });

  it('counts drift repairs by result; one that wrote back a removed file ran no reload', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const removed = apply({
      drift: 'the file was removed',
      reload_ms: undefined,
      reason: 'repair: the file was removed',
    });
    const edited = apply({ drift: 'the file was edited (1 line added, 0 removed)', at: iso(T0 + 1000) });
    const failed = apply({ drift: 'the file is empty', result: 'failed', stage: 'write', at: iso(T0 + 2000) });
    for (const a of [removed, edited, failed]) m.countApply(a);
    m.update(
      snapshot({
        round: 1,
        applies: [failed, edited, removed],
        targets: [{ name: 'local', last_apply: failed, serving: [A] }],
      }),
      decision(),
    );
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_drift_repairs_total', { target: 'local', result: 'applied' })).toBe(2);
    expect(sample(text, 'nat64_health_drift_repairs_total', { target: 'local', result: 'failed' })).toBe(1);
    expect(sample(text, 'nat64_health_reloads_total', { target: 'local', result: 'success' })).toBe(1);
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'applied' })).toBe(2);
  });

  it('reports every BIND target (SSH targets too) and forgets removed ones', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const ok = apply({ target: 'ssh:ns1.example.test' });
    m.countApply(ok);
    m.update(
      snapshot({
        applies: [ok],
        targets: [
          { name: 'local', last_apply: null, serving: null },
          { name: 'ssh:ns1.example.test', last_apply: ok, serving: [] },
        ],
      }),
      decision(),
    );
    let text = await m.metrics();
    expect(sample(text, 'nat64_health_target_in_sync', { target: 'local' })).toBe(0);
    // serves none of the active set
    expect(sample(text, 'nat64_health_target_in_sync', { target: 'ssh:ns1.example.test' })).toBe(0);
    expect(sample(text, 'nat64_health_applies_total', { target: 'ssh:ns1.example.test', result: 'applied' })).toBe(1);
    m.update(
      snapshot({ round: 2, applies: [ok], targets: [{ name: 'local', last_apply: null, serving: null }] }),
      decision(),
    );
    text = await m.metrics();
    expect(text).not.toContain('ssh:ns1.example.test');
  });

  it('drops the series of a prefix that is no longer configured', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(snapshot(), decision({ outcomes: [outcome(B, 'tcp 192.0.2.10:80', false, 1, 'timeout')] }));
    expect(await m.metrics()).toContain(B);
    m.update(
      snapshot({ round: 2, prefixes: [prefix(A)] }),
      decision({ outcomes: [outcome(A, 'tcp 192.0.2.10:80', true, 1)] }),
    );
    const text = await m.metrics();
    expect(text).not.toContain(B);
    expect(sample(text, 'nat64_health_probe_results_total', { prefix: A, type: 'tcp', outcome: 'ok' })).toBe(1);
  });

  it('the group rank of each prefix and the round interval (what the alerts compare with)', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(
      snapshot({
        interval_ms: 5000,
        prefixes: [prefix(A, { group: 'local', group_rank: 0 }), deadPrefix(B, { group: 'isp', group_rank: 1 })],
      }),
      decision(),
    );
    let text = await m.metrics();
    expect(sample(text, 'nat64_health_prefix_group_rank', { prefix: A })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_group_rank', { prefix: B })).toBe(1);
    expect(sample(text, 'nat64_health_round_interval_seconds')).toBe(5);
    // optional in the snapshot (state files of older versions lack them): no series, not a made-up value
    m.update(snapshot({ round: 2, prefixes: [prefix(A)] }), decision());
    text = await m.metrics();
    expect(sample(text, 'nat64_health_prefix_group_rank', { prefix: A })).toBeUndefined();
  });

  it('counts config reloads by result, once each', async () => {
    const m = new Metrics({ defaultMetrics: false });
    let text = await m.metrics();
    expect(sample(text, 'nat64_health_config_reloads_total', { result: 'failure' })).toBe(0);
    expect(sample(text, 'nat64_health_config_last_reload_successful')).toBe(1); // the load at startup
    const bad = { at: iso(T0), ok: false, error: 'unknown key' };
    m.update(snapshot({ round: 1, last_config_reload: bad }), decision());
    m.update(snapshot({ round: 2, last_config_reload: bad }), decision());
    text = await m.metrics();
    expect(sample(text, 'nat64_health_config_reloads_total', { result: 'failure' })).toBe(1);
    expect(sample(text, 'nat64_health_config_last_reload_successful')).toBe(0);
    m.update(snapshot({ round: 3, last_config_reload: { at: iso(T0 + 1000), ok: true } }), decision());
    text = await m.metrics();
    expect(sample(text, 'nat64_health_config_reloads_total', { result: 'success' })).toBe(1);
    expect(sample(text, 'nat64_health_config_last_reload_successful')).toBe(1);
    expect(sample(text, 'nat64_health_config_last_reload_timestamp_seconds')).toBe((T0 + 1000) / 1000);
  });

  it('fail-safe, draining and blamed probe targets', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.update(
      snapshot({
        failsafe: true,
        target_faults: ['dns 192.0.2.53:53 example.test/A'],
        prefixes: [deadPrefix(A, { active: true }), deadPrefix(B, { draining: true })],
      }),
      decision(),
    );
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_failsafe')).toBe(1);
    expect(sample(text, 'nat64_health_prefix_draining', { prefix: B })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_active', { prefix: A })).toBe(1);
    expect(sample(text, 'nat64_health_probe_target_fault', { probe: 'dns 192.0.2.53:53 example.test/A' })).toBe(1);
  });

  it('includes the process metrics of prom-client and follows the naming conventions', async () => {
    const m = new Metrics();
    m.update(snapshot(), decision({ outcomes: [outcome(A, 'tcp 192.0.2.10:80', true, 1)] }));
    const text = await m.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    for (const [, name, type] of text.matchAll(/^# TYPE (nat64_health_\w+) (\w+)$/gm)) {
      expect(name).toMatch(/^nat64_health_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      if (/latency|duration/.test(name!)) expect(name).toMatch(/_seconds$/);
    }
    // prom-client's own too (issue 22): no gauge named like a counter; the per-type gauges stay
    for (const [, name, type] of text.matchAll(/^# TYPE (\w+) (\w+)$/gm))
      if (type !== 'counter') expect(name).not.toMatch(/_total$/);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge$/m);
  });

  itWith(promtoolMissing())('promtool check metrics finds nothing wrong in the whole exposition', async () => {
    const m = new Metrics();
    m.countApply(apply());
    m.update(snapshot(), decision({ outcomes: [outcome(A, 'tcp 192.0.2.10:80', true, 1)] }));
    expect(await checkMetrics(await m.metrics())).toEqual({ exitCode: 0, said: '' });
  });

  itWith(promtoolMissing())('promtool check metrics finds nothing wrong with pools either', async () => {
    const m = new Metrics();
    const changes = [{ id: B, change: 'activated' as const, reason: 'healthy', pool: 'site-b' }];
    m.update(pooledSnapshot(), decision({ changes, outcomes: [outcome(A, 'tcp 192.0.2.10:80', true, 1)] }));
    expect(await checkMetrics(await m.metrics())).toEqual({ exitCode: 0, said: '' });
  });

  it('per discovery source: prefixes in use, last answer, whether the last query answered, the kept set', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const ok = '[2001:db8:53::1]:53';
    const failing = '[2001:db8:53::2]:53';
    const never = '[2001:db8:53::3]:53';
    const asking = '[2001:db8:53::4]:53';
    const at = iso(T0 - 60_000);
    m.update(
      snapshot({
        discovery: [
          discoverySource(ok, { prefixes: [A, B], answered_at: at }),
          discoverySource(failing, {
            prefixes: [A],
            answered_at: at,
            error: 'timeout',
            kept_until: iso(T0 + 3_540_000),
          }),
          discoverySource(never, { error: 'not a DNS message' }),
          discoverySource(asking, {}),
        ],
      }),
      decision(),
    );
    const text = await m.metrics();
    expect(sample(text, 'nat64_health_discovery_prefixes', { source: ok })).toBe(2);
    expect(sample(text, 'nat64_health_discovery_prefixes', { source: failing })).toBe(1);
    expect(sample(text, 'nat64_health_discovery_prefixes', { source: never })).toBe(0);
    expect(sample(text, 'nat64_health_discovery_last_query_ok', { source: ok })).toBe(1);
    expect(sample(text, 'nat64_health_discovery_last_query_ok', { source: failing })).toBe(0);
    expect(sample(text, 'nat64_health_discovery_last_query_ok', { source: never })).toBe(0);
    expect(sample(text, 'nat64_health_discovery_last_query_ok', { source: asking })).toBeUndefined();
    expect(sample(text, 'nat64_health_discovery_last_answer_timestamp_seconds', { source: ok })).toBe(
      (T0 - 60_000) / 1000,
    );
    expect(sample(text, 'nat64_health_discovery_last_answer_timestamp_seconds', { source: never })).toBeUndefined();
    expect(sample(text, 'nat64_health_discovery_kept_until_timestamp_seconds', { source: failing })).toBe(
      (T0 + 3_540_000) / 1000,
    );
    expect(sample(text, 'nat64_health_discovery_kept_until_timestamp_seconds', { source: ok })).toBeUndefined();
    // a source no longer configured leaves no series
    m.update(snapshot({ round: 2, discovery: [discoverySource(ok, { prefixes: [A], answered_at: at })] }), decision());
    const after = await m.metrics();
    expect(sample(after, 'nat64_health_discovery_prefixes', { source: failing })).toBeUndefined();
    expect(sample(after, 'nat64_health_discovery_prefixes', { source: ok })).toBe(1);
  });
});
