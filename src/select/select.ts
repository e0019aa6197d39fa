// Chooses the active prefix set. A pure function of the previous selection, health, config and clock.
//
// Rules (the README repeats them for operators):
// 1. Only prefixes that are up are eligible. Rank: earlier group first, then lower smoothed latency,
//    then config order.
// 2. Size: take eligible prefixes in rank order up to max_active; go on into a worse group only
//    while fewer than min_active are taken. Prefixes of a group that is no longer needed leave at once.
// 3. Stability: an active prefix stays while it is eligible. Free slots are filled in rank order at
//    once. A prefix of the same group replaces the slowest active one only when it has been
//    clearly faster (switch_margin and switch_min_gain) for switch_after; at most one swap a round.
// 4. Fail-safe: when no prefix is eligible the set is kept as it was (or, if there never was one,
//    the first max_active configured prefixes, i.e. the static configuration) and marked failsafe.
// 5. Drain: a prefix that leaves the set, also by being removed from the config, stays rendered
//    with `clients { none; }` for `drain` (reverse lookups of its addresses keep working).
import type { PrefixHealth } from '../health/state.js';

export interface SelectablePrefix {
  id: string;
  groupRank: number;
  order: number;
}

export interface SelectSettings {
  min_active: number;
  max_active: number;
  drain: number;
  switch_margin: number;
  switch_min_gain: number;
  switch_after: number;
}

export interface SelectionState {
  /** active prefix ids in config order */
  active: string[];
  /** id -> when it started draining */
  draining: Record<string, number>;
  /** id -> since when it has been clearly faster than the slowest active prefix of its group */
  challengers: Record<string, number>;
  failsafe: boolean;
}

export interface SelectionChange {
  id: string;
  change: 'activated' | 'deactivated' | 'drain-ended';
  reason: string;
}

export const EMPTY_SELECTION: SelectionState = { active: [], draining: {}, challengers: {}, failsafe: false };

export function selectActive(
  prev: SelectionState,
  prefixes: SelectablePrefix[],
  health: ReadonlyMap<string, PrefixHealth>,
  s: SelectSettings,
  now: number,
): { next: SelectionState; changes: SelectionChange[] } {
  const byId = new Map(prefixes.map((p) => [p.id, p]));
  const latency = (id: string) => health.get(id)?.latency_ms ?? Number.POSITIVE_INFINITY;
  const byRank = (a: SelectablePrefix, b: SelectablePrefix) =>
    a.groupRank - b.groupRank || latency(a.id) - latency(b.id) || a.order - b.order;
  const eligible = prefixes.filter((p) => health.get(p.id)?.status === 'up').sort(byRank);
  const why = new Map<string, string>();
  let challengers: Record<string, number> = {};
  let chosen: SelectablePrefix[];
  let failsafe = false;

  if (eligible.length === 0) {
    failsafe = true;
    chosen = prev.active.flatMap((id) => byId.get(id) ?? []);
    if (chosen.length === 0) {
      chosen = [...prefixes].sort((a, b) => a.groupRank - b.groupRank || a.order - b.order).slice(0, s.max_active);
      chosen.forEach((p) =>
        why.set(p.id, 'fail-safe: no prefix is healthy and none was active yet; using the static set'),
      );
    }
  } else {
    const ideal: SelectablePrefix[] = [];
    for (const p of eligible) {
      if (ideal.length >= s.max_active) break;
      if (ideal.length >= s.min_active && p.groupRank > ideal[ideal.length - 1]!.groupRank) break;
      ideal.push(p);
    }
    const size = ideal.length;
    const worstRank = ideal[size - 1]!.groupRank;
    chosen = eligible.filter((p) => prev.active.includes(p.id) && p.groupRank <= worstRank).slice(0, size);
    for (const p of eligible) {
      if (chosen.length >= size) break;
      if (p.groupRank <= worstRank && !chosen.includes(p)) {
        chosen.push(p);
        why.set(p.id, prev.active.length === 0 ? 'healthy; initial selection' : 'healthy; fills a free slot');
      }
    }
    ({ chosen, challengers } = challenge(chosen, eligible, prev, s, now, latency, why));
  }

  const activeIds = new Set(chosen.map((p) => p.id));
  const active = prefixes.filter((p) => activeIds.has(p.id)).map((p) => p.id);
  const changes: SelectionChange[] = [];
  const draining: Record<string, number> = {};
  for (const [id, since] of Object.entries(prev.draining)) {
    if (activeIds.has(id)) continue;
    if (now - since >= s.drain)
      changes.push({ id, change: 'drain-ended', reason: 'drain time is over; no longer rendered' });
    else draining[id] = since;
  }
  for (const id of active) {
    if (!prev.active.includes(id)) changes.push({ id, change: 'activated', reason: why.get(id) ?? 'selected' });
  }
  for (const id of prev.active) {
    if (activeIds.has(id)) continue;
    const h = health.get(id);
    const reason = !byId.has(id)
      ? 'no longer configured'
      : (why.get(id) ?? (h?.status !== 'up' ? `prefix is ${h?.status ?? 'unknown'}` : 'a better group is available'));
    if (s.drain > 0) draining[id] = now;
    changes.push({ id, change: 'deactivated', reason: s.drain > 0 ? `${reason}; draining` : reason });
  }
  return { next: { active, draining, challengers, failsafe }, changes };
}

/** Rule 3: the fastest outsider of a group may replace that group's slowest active prefix. */
function challenge(
  chosen: SelectablePrefix[],
  eligible: SelectablePrefix[],
  prev: SelectionState,
  s: SelectSettings,
  now: number,
  latency: (id: string) => number,
  why: Map<string, string>,
): { chosen: SelectablePrefix[]; challengers: Record<string, number> } {
  const challengers: Record<string, number> = {};
  let swap: { out: SelectablePrefix; in: SelectablePrefix } | undefined;
  for (const c of eligible) {
    if (chosen.includes(c)) continue;
    const sameGroup = chosen.filter((p) => p.groupRank === c.groupRank);
    if (sameGroup.length === 0) continue;
    const slowest = sameGroup.reduce((a, b) => (latency(b.id) > latency(a.id) ? b : a));
    const gain = latency(slowest.id) - latency(c.id);
    const clearlyFaster = gain >= s.switch_min_gain && latency(c.id) < latency(slowest.id) * (1 - s.switch_margin);
    if (!clearlyFaster) continue;
    const since = prev.challengers[c.id] ?? now;
    challengers[c.id] = since;
    if (!swap && now - since >= s.switch_after) swap = { out: slowest, in: c };
  }
  if (!swap) return { chosen, challengers };
  const { out, in: incoming } = swap;
  delete challengers[incoming.id];
  why.set(
    incoming.id,
    `faster than ${out.id} (${fmt(latency(incoming.id))} vs ${fmt(latency(out.id))}) for ${Math.round(s.switch_after / 1000)}s`,
  );
  why.set(out.id, `replaced by faster ${incoming.id}`);
  return { chosen: chosen.map((p) => (p === out ? incoming : p)), challengers };
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
