// The selection rules (src/select/select.ts) as checks of one round's result, shared by the property
// tests of selectActive and of decide.
import { expect } from 'vitest';
import type { PrefixHealth } from '../../src/health/state.js';
import type { SelectablePrefix, SelectionState, SelectSettings } from '../../src/select/select.js';

/** Checks one round's result against the rules; returns nothing, throws on a violation. */
export function checkSelection(
  prev: SelectionState,
  prefixes: SelectablePrefix[],
  health: ReadonlyMap<string, PrefixHealth>,
  s: SelectSettings,
  now: number,
  next: SelectionState,
) {
  const rank = new Map(prefixes.map((p) => [p.id, p.groupRank]));
  const up = prefixes.filter((p) => health.get(p.id)?.status === 'up');
  const active = new Set(next.active);

  expect(next.active.length, 'never empty while a prefix is configured').toBeGreaterThan(0);
  expect(next.active.length, 'never more than max_active').toBeLessThanOrEqual(s.max_active);
  expect(next.active, 'configured prefixes, in config order').toEqual(
    prefixes.filter((p) => active.has(p.id)).map((p) => p.id),
  );
  expect(next.failsafe, 'fail-safe exactly when nothing is eligible').toBe(up.length === 0);
  for (const id of next.active) expect(next.draining[id], `${id} active and draining`).toBeUndefined();

  if (!next.failsafe) {
    for (const id of next.active) expect(health.get(id)?.status, `active ${id} is up`).toBe('up');
    // Rule 2, computed from its words: the groups used, and the size.
    const groups = [...new Set(up.map((p) => p.groupRank))].sort((a, b) => a - b);
    let usable = 0;
    const used = new Set<number>();
    for (const g of groups) {
      if (usable >= s.min_active) break;
      used.add(g);
      usable += up.filter((p) => p.groupRank === g).length;
    }
    expect(next.active.length, 'the set holds the eligible prefixes of the used groups, at most max').toBe(
      Math.min(s.max_active, usable),
    );
    expect(next.active.length).toBeGreaterThanOrEqual(Math.min(s.min_active, up.length));
    expect(
      next.active.some((id) => rank.get(id) === groups[0]),
      'the best group with an up prefix is used',
    ).toBe(true);
    for (const id of next.active) {
      const better = up.filter((p) => p.groupRank < rank.get(id)!);
      expect(used.has(rank.get(id)!), `${id}: a worse group only while needed for min_active`).toBe(true);
      for (const b of better) expect(active.has(b.id), `${b.id} (better group) before ${id}`).toBe(true);
    }
    // Rule 3: at most one swap; an incumbent leaves only if its group lost slots, or by that swap.
    let swaps = 0;
    for (const g of new Set(prefixes.map((p) => p.groupRank))) {
      const incumbents = prev.active.filter((id) => rank.get(id) === g && health.get(id)?.status === 'up');
      const left = incumbents.filter((id) => !active.has(id)).length;
      const lost = Math.max(0, incumbents.length - next.active.filter((id) => rank.get(id) === g).length);
      swaps += Math.max(0, left - lost);
    }
    expect(swaps, 'at most one same-group swap a round').toBeLessThanOrEqual(1);
  } else {
    const kept = prev.active.filter((id) => rank.has(id)).slice(0, s.max_active);
    if (kept.length > 0) expect([...next.active].sort(), 'fail-safe keeps the set').toEqual([...kept].sort());
  }

  // Rule 5: drains begin when a prefix leaves and end in the first round at least `drain` later.
  const expected: Record<string, number> = {};
  for (const [id, since] of Object.entries(prev.draining)) {
    if (!active.has(id) && now - since < s.drain) expected[id] = since;
  }
  for (const id of prev.active) if (!active.has(id) && s.drain > 0) expected[id] = now;
  expect(next.draining, 'drains').toEqual(expected);
}
