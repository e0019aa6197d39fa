// Chooses the active prefix set. A pure function of the previous selection, health, config and clock.
//
// Rules (docs/rules.md, "Selection rules", states them word for word; a unit test keeps the two equal):
// 1. Only `up` prefixes not in maintenance are eligible; loss never makes a prefix ineligible (up and
//    down stay the rise/fall decision). Rank: earlier group in `select.groups` first (prefixes with no
//    group, or a group not listed, rank after the listed ones), then lower score, then config order. The
//    score is the smoothed latency plus the loss ratio times `select.loss_penalty` (1 s): the loss ratio
//    is the share of unanswered probes over the last `health.loss_window` (20) rounds, so a gateway that
//    drops packets ranks behind a clean one.
// 2. Groups and size: the best group that has an eligible prefix is always used; each next worse
//    group is used only while the eligible prefixes of the better groups number fewer than
//    `min_active`. The set holds the eligible prefixes of the used groups, at most `max_active`.
//    Slots go to the groups in rank order: a worse group gets a slot only when every eligible prefix
//    of the better groups has one. So a recovered `local` prefix displaces an `isp` one in the same
//    round, and the prefixes of a group that is no longer used leave at once.
// 3. Stability: an active prefix stays while it is eligible and its group keeps its slot (when a group
//    gets fewer slots than it has active prefixes, the best ranked of them stay). Free slots are filled in
//    rank order at once. A prefix of the same group replaces the worst-scored active one only when its
//    score has been clearly better - lower by `switch_margin` (20%) and `switch_min_gain` (10 ms) - for
//    `switch_after` (2 min); at most one swap a round, and none in its confirmation burst. So within a
//    group a healed gateway comes back only into a free slot or by being clearly better for a while; a
//    full, healthy set is left alone.
// 4. Fail-safe: when no prefix is eligible (and not every prefix is in maintenance, rule 6) the active
//    set stays as it was (after a restart: the set recorded in the state file), at most `max_active` of
//    it, and is marked fail-safe. If there never was a set, the first `max_active` configured prefixes
//    by group and config order (the static configuration) are used. The set is never emptied because
//    every probe failed.
// 5. Drain: a prefix that leaves the set stays rendered for `select.drain` with `clients { none; }`:
//    BIND stops synthesizing with it but still answers reverse (PTR) lookups of its addresses. A
//    prefix removed from the config drains the same way (`drain: 0` removes it at once). A drain ends
//    in the first round at least `drain` after it began, or when the prefix is active again.
// 6. Maintenance: a prefix put into maintenance (`nat64-health maintenance PREFIX on`) is not eligible
//    and is left out of the fail-safe set too, so it leaves the set in the next round and drains like
//    any prefix that leaves it; it is still probed. When its maintenance ends (`off`, or the `--until`
//    time has come) it is eligible again and comes back by these rules. With every configured prefix
//    in maintenance (only `--force` gets there) the set is empty; that is not the fail-safe (no probe
//    failed), and the log, `status` and the status page say that every prefix is in maintenance.
import { formatMs } from '../lib/format.js';
import { lossRatio, type PrefixHealth } from '../health/state.js';

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
  loss_penalty: number;
}

export interface SelectionState {
  /** active prefix ids in config order */
  active: string[];
  /** id -> when it started draining */
  draining: Record<string, number>;
  /** id -> since when it has been clearly better than the worst active prefix of its group */
  challengers: Record<string, number>;
  failsafe: boolean;
}

export interface SelectionChange {
  id: string;
  change: 'activated' | 'deactivated' | 'drain-ended';
  reason: string;
  /** the client pool whose set changed (`pools:`); absent: the default pool */
  pool?: string;
}

/** A prefix an operator took out (rule 6); `until` null: until `maintenance off`. */
export interface Maintenance {
  reason: string;
  /** ms since the epoch */
  until: number | null;
}

/** Whether `m` holds at `now` (its `until` has not come yet). */
export function inMaintenance(m: Maintenance | undefined, now: number): m is Maintenance {
  return m !== undefined && (m.until === null || now < m.until);
}

export const EMPTY_SELECTION: SelectionState = { active: [], draining: {}, challengers: {}, failsafe: false };

export function selectActive(
  prev: SelectionState,
  prefixes: SelectablePrefix[],
  health: ReadonlyMap<string, PrefixHealth>,
  settings: SelectSettings,
  now: number,
  maintenance: ReadonlyMap<string, Maintenance> = new Map(),
  { swap = true }: { swap?: boolean } = {},
): { next: SelectionState; changes: SelectionChange[] } {
  const byId = new Map(prefixes.map((p) => [p.id, p]));
  const held = (id: string) => inMaintenance(maintenance.get(id), now);
  const score = (id: string) => rankScore(health.get(id), settings.loss_penalty);
  const byRank = (a: SelectablePrefix, b: SelectablePrefix) =>
    a.groupRank - b.groupRank || score(a.id) - score(b.id) || a.order - b.order;
  const eligible = prefixes.filter((p) => health.get(p.id)?.status === 'up' && !held(p.id)).sort(byRank);
  const why = new Map<string, string>();
  let challengers: Record<string, number> = {};
  let chosen: SelectablePrefix[];
  let failsafe = false;

  const allHeld = prefixes.length > 0 && prefixes.every((p) => held(p.id));
  if (allHeld) {
    // rule 6: an operator's choice, not a failure; the set is empty
    chosen = [];
  } else if (eligible.length === 0) {
    failsafe = true;
    chosen = prev.active.flatMap((id) => (held(id) ? [] : (byId.get(id) ?? []))).slice(0, settings.max_active);
    if (chosen.length === 0) {
      chosen = prefixes
        .filter((p) => !held(p.id))
        .sort((a, b) => a.groupRank - b.groupRank || a.order - b.order)
        .slice(0, settings.max_active);
      const was = prev.active.length === 0 ? 'none was active yet' : 'the active ones are in maintenance';
      const none = prefixes.some((p) => held(p.id))
        ? 'no prefix outside maintenance is healthy'
        : 'no prefix is healthy';
      chosen.forEach((p) => why.set(p.id, `fail-safe: ${none} and ${was}; using the static set`));
    }
  } else {
    // Rule 2: the groups used, and how many slots each gets (better groups first).
    const groups = [...new Set(eligible.map((p) => p.groupRank))]; // ascending: eligible is in rank order
    const used: number[] = [];
    let usable = 0;
    for (const g of groups) {
      if (usable >= settings.min_active) break;
      used.push(g);
      usable += eligible.filter((p) => p.groupRank === g).length;
    }
    let free = Math.min(settings.max_active, usable);
    chosen = [];
    for (const g of used) {
      const members = eligible.filter((p) => p.groupRank === g);
      const slots = Math.min(members.length, free);
      free -= slots;
      // Rule 3: incumbents keep their group's slots (the best of them, if the group got fewer).
      const kept = members.filter((p) => prev.active.includes(p.id)).slice(0, slots);
      const fill = members.filter((p) => !kept.includes(p)).slice(0, slots - kept.length);
      const worseActive = prev.active.some((id) => (byId.get(id)?.groupRank ?? -1) > g);
      for (const p of fill)
        why.set(
          p.id,
          prev.active.length === 0
            ? 'healthy; initial selection'
            : worseActive
              ? 'healthy; its group is preferred to the active ones'
              : 'healthy; fills a free slot',
        );
      chosen.push(...kept, ...fill);
    }
    ({ chosen, challengers } = challenge(chosen, eligible, prev, settings, now, score, why, swap));
  }

  const activeIds = new Set(chosen.map((p) => p.id));
  const active = prefixes.filter((p) => activeIds.has(p.id)).map((p) => p.id);
  const changes: SelectionChange[] = [];
  const draining: Record<string, number> = {};
  for (const [id, since] of Object.entries(prev.draining)) {
    if (activeIds.has(id)) continue;
    if (now - since >= settings.drain)
      changes.push({ id, change: 'drain-ended', reason: 'drain time is over; no longer rendered' });
    else draining[id] = since;
  }
  for (const id of active) {
    if (!prev.active.includes(id)) changes.push({ id, change: 'activated', reason: why.get(id) ?? 'selected' });
  }
  for (const id of prev.active) {
    if (activeIds.has(id)) continue;
    const h = health.get(id);
    const m = maintenance.get(id);
    const reason = !byId.has(id)
      ? 'no longer configured'
      : held(id)
        ? `in maintenance${m!.reason ? `: ${m!.reason}` : ''}`
        : (why.get(id) ?? (h?.status !== 'up' ? `prefix is ${h?.status ?? 'unknown'}` : 'a better group is available'));
    if (settings.drain > 0) draining[id] = now;
    changes.push({ id, change: 'deactivated', reason: settings.drain > 0 ? `${reason}; draining` : reason });
  }
  return { next: { active, draining, challengers, failsafe }, changes };
}

/**
 * Rule 1's score, in ms: the smoothed latency plus the loss ratio times `loss_penalty` (a lost
 * probe stands for a retransmission: TCP's first SYN retry comes after 1 s, RFC 6298). Infinite
 * before the prefix ever answered.
 */
export function rankScore(h: PrefixHealth | undefined, lossPenalty: number): number {
  if (!h || h.latency_ms === null) return Number.POSITIVE_INFINITY;
  return h.latency_ms + (lossRatio(h) ?? 0) * lossPenalty;
}

/**
 * Rule 3: the best outsider of a group may replace that group's worst active prefix (when `swap`;
 * otherwise the challengers' times are kept and the swap waits for the next round).
 */
function challenge(
  chosen: SelectablePrefix[],
  eligible: SelectablePrefix[],
  prev: SelectionState,
  settings: SelectSettings,
  now: number,
  score: (id: string) => number,
  why: Map<string, string>,
  swap: boolean,
): { chosen: SelectablePrefix[]; challengers: Record<string, number> } {
  const challengers: Record<string, number> = {};
  let swapped: { out: SelectablePrefix; in: SelectablePrefix } | undefined;
  for (const c of eligible) {
    if (chosen.includes(c)) continue;
    const sameGroup = chosen.filter((p) => p.groupRank === c.groupRank);
    if (sameGroup.length === 0) continue;
    const worst = sameGroup.reduce((a, b) => (score(b.id) > score(a.id) ? b : a));
    const gain = score(worst.id) - score(c.id);
    const clearlyBetter =
      gain >= settings.switch_min_gain && score(c.id) < score(worst.id) * (1 - settings.switch_margin);
    if (!clearlyBetter) continue;
    const since = prev.challengers[c.id] ?? now;
    challengers[c.id] = since;
    if (swap && !swapped && now - since >= settings.switch_after) swapped = { out: worst, in: c };
  }
  if (!swapped) return { chosen, challengers };
  const { out, in: incoming } = swapped;
  delete challengers[incoming.id];
  const scores = `score ${formatMs(score(incoming.id))} vs ${formatMs(score(out.id))}`;
  why.set(incoming.id, `better than ${out.id} (${scores}) for ${Math.round(settings.switch_after / 1000)}s`);
  why.set(out.id, `replaced by better ${incoming.id} (${scores})`);
  return { chosen: chosen.map((p) => (p === out ? incoming : p)), challengers };
}
