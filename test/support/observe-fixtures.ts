// Synthetic snapshots and decisions for the observability unit tests.
import type { AppliedRecord } from '../../src/apply/runner.js';
import type { PrefixStatus, StateSnapshot } from '../../src/daemon/state-file.js';
import type { DiscoveryStatus } from '../../src/discover/discover.js';
import type { Decision } from '../../src/core/step.js';
import type { ProbeOutcome } from '../../src/probe/types.js';
import type { Logger } from '../../src/lib/log.js';
import { dns64Context } from '../../src/config/template.js';

import { A, B } from './prefixes.js';

export { A, B };
export const T0 = Date.parse('2025-01-01T12:00:00Z');

export function prefix(id: string, over: Partial<PrefixStatus> = {}): PrefixStatus {
  return {
    prefix: id,
    name: id,
    group: null,
    status: 'up',
    active: true,
    draining: false,
    draining_since: null,
    latency_ms: 12,
    loss_ratio: 0,
    score_ms: 12,
    good_streak: 3,
    bad_streak: 0,
    since: new Date(T0 - 60_000).toISOString(),
    last_round: { good: true, latency_ms: 12, answered: 2, counted: 2, required: 1, failures: [] },
    ...over,
  };
}

export function deadPrefix(id: string, over: Partial<PrefixStatus> = {}): PrefixStatus {
  return prefix(id, {
    status: 'down',
    active: false,
    latency_ms: null,
    loss_ratio: 1,
    score_ms: null,
    good_streak: 0,
    bad_streak: 4,
    last_round: {
      good: false,
      latency_ms: null,
      answered: 0,
      counted: 2,
      required: 1,
      failures: [
        { probe: 'tcp 192.0.2.10:80', error: 'timeout' },
        { probe: 'http 192.0.2.10:80/', error: 'ENETUNREACH' },
      ],
    },
    ...over,
  });
}

export function apply(over: Partial<AppliedRecord> = {}): AppliedRecord {
  return {
    target: 'local',
    result: 'applied',
    ms: 41.5,
    reload_ms: 38.2,
    at: new Date(T0).toISOString(),
    reason: 'selection changed: 2001:db8:64:a::/96 activated',
    ...over,
  };
}

/** A discovery source's entry in the snapshot: asked, never answered, asked again in a minute */
export function discoverySource(source: string, over: Partial<DiscoveryStatus> = {}): DiscoveryStatus {
  return {
    source,
    name: 'isp',
    group: null,
    prefixes: [],
    answered_at: null,
    next_at: new Date(T0 + 60_000).toISOString(),
    error: null,
    kept_until: null,
    ...over,
  };
}

export function snapshot(over: Partial<StateSnapshot> = {}): StateSnapshot {
  const prefixes = over.prefixes ?? [
    prefix(A, { name: 'gw-a', group: 'east' }),
    deadPrefix(B, { name: 'gw-b', group: 'east' }),
  ];
  return {
    version: 1,
    pid: 4242,
    config: '/etc/nat64-health/config.yaml',
    updated_at: new Date(T0).toISOString(),
    round: 1,
    round_ms: 105.2,
    next_round_at: new Date(T0 + 5000).toISOString(),
    failsafe: false,
    dry_run: false,
    active: prefixes.filter((p) => p.active).map((p) => p.prefix),
    draining: prefixes.filter((p) => p.draining).map((p) => p.prefix),
    target_faults: [],
    prefixes,
    targets: [{ name: 'local', last_apply: null, serving: null }],
    applies: [],
    last_config_reload: null,
    ...over,
  };
}

/** C of the pooled snapshot: the last resort, left site-b's set and drains */
export const C = '2001:db8:64:c::/96';

/**
 * A snapshot with client pools: the default pool and site-a on A, site-b on B, C standby in every
 * set and still drained by site-b (it left every set) since 30 s.
 */
export function pooledSnapshot(over: Partial<StateSnapshot> = {}): StateSnapshot {
  return snapshot({
    prefixes: [
      prefix(A, { name: 'gw-a', group: 'site-a', pools: ['default', 'site-a'] }),
      prefix(B, { name: 'gw-b', group: 'site-b', active: false, pools: ['site-b'] }),
      prefix(C, { name: 'public', group: 'public', active: false, pools: [] }),
    ],
    active: [A],
    pools: [
      { name: 'site-a', active: [A], draining_since: {}, failsafe: false },
      { name: 'site-b', active: [B], draining_since: { [C]: new Date(T0 - 30_000).toISOString() }, failsafe: false },
    ],
    ...over,
  });
}

export function outcome(
  prefixId: string,
  probe: string,
  ok: boolean,
  latency_ms: number,
  error?: string,
): ProbeOutcome {
  return { prefix: prefixId, probe, address: '2001:db8::1', ok, latency_ms, ...(error ? { error } : {}) };
}

export function decision(over: Partial<Decision> = {}): Decision {
  return {
    verdict: { prefixes: new Map(), targetFaults: [] },
    health: new Map(),
    transitions: [],
    selection: { active: [], draining: {}, challengers: {}, failsafe: false },
    pools: new Map(),
    changes: [],
    context: {
      prefixes: [],
      active: [],
      draining: [],
      dns64: dns64Context({ clients: ['any'] }),
      failsafe: false,
      pools: [],
    },
    rendered: '',
    outcomes: [],
    confirm: [],
    ...over,
  };
}

export function silentLogger(lines: string[] = []): Logger {
  const rec = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

/** The value of one sample in Prometheus text output, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    if (
      Object.entries(labels).every(([k, v]) => got[k] === v) &&
      Object.keys(got).length === Object.keys(labels).length
    )
      return Number(m[3]);
  }
  return undefined;
}
