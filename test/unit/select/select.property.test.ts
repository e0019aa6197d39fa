// Invariants of the selection (rules in src/select/select.ts), over random configs and random
// histories of health. Seeded: a failure prints the seed and path to replay it with fast-check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_SELECTION,
  selectActive,
  type SelectablePrefix,
  type SelectionState,
  type SelectSettings,
} from '../../../src/select/select.js';
import { initialHealth, type HealthStatus, type PrefixHealth } from '../../../src/health/state.js';

const SEED = 20261201;

interface Scenario {
  prefixes: SelectablePrefix[];
  settings: SelectSettings;
  start: SelectionState;
  rounds: Array<{ dt: number; health: Array<{ status: HealthStatus; latency: number }> }>;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    groups: fc.integer({ min: 0, max: 3 }),
    min: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 0, max: 3 }),
    drain: fc.constantFrom(0, 5_000, 30_000, 120_000),
    switch_after: fc.constantFrom(0, 10_000, 60_000),
  })
  .chain(({ n, groups, min, extra, drain, switch_after }) =>
    fc.record({
      prefixes: fc
        .tuple(...Array.from({ length: n }, () => fc.integer({ min: 0, max: groups })))
        .map((ranks) => ranks.map((groupRank, order) => ({ id: `p${order}`, groupRank, order }))),
      settings: fc.constant({
        min_active: min,
        max_active: min + extra,
        drain,
        switch_margin: 0.2,
        switch_min_gain: 10,
        switch_after,
      }),
      // a previous run's set, possibly with prefixes no longer configured, and drains in progress
      start: fc.oneof(
        fc.constant(EMPTY_SELECTION),
        fc.record({
          active: fc.subarray([...Array.from({ length: n }, (_, i) => `p${i}`), 'gone1', 'gone2']),
          draining: fc.dictionary(fc.constantFrom('p0', 'p1', 'gone1', 'gone3'), fc.integer({ min: -200_000, max: 0 })),
          challengers: fc.constant({}),
          failsafe: fc.constant(false),
        }),
      ),
      rounds: fc.array(
        fc.record({
          dt: fc.integer({ min: 1, max: 40_000 }),
          health: fc.tuple(
            ...Array.from({ length: n }, () =>
              fc.record({
                status: fc.constantFrom<HealthStatus>('up', 'up', 'up', 'down', 'unknown'),
                latency: fc.constantFrom(1, 5, 10, 20, 50, 100),
              }),
            ),
          ),
        }),
        { minLength: 1, maxLength: 25 },
      ),
    }),
  );

function healthMap(prefixes: SelectablePrefix[], h: Scenario['rounds'][number]['health']) {
  return new Map<string, PrefixHealth>(
    prefixes.map((p, i) => [p.id, { ...initialHealth(p.id), status: h[i]!.status, latency_ms: h[i]!.latency }]),
  );
}

/** Checks one round's result against the rules; returns nothing, throws on a violation. */
function checkSelection(
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

describe('selection properties', () => {
  it('every round of every history keeps the selection rules (1,000 histories)', () => {
    fc.assert(
      fc.property(scenario, ({ prefixes, settings, start, rounds }) => {
        let state = start;
        let now = 1_000_000;
        for (const r of rounds) {
          now += r.dt;
          const health = healthMap(prefixes, r.health);
          const before = structuredClone(state);
          const result = selectActive(state, prefixes, health, settings, now);
          expect(selectActive(before, prefixes, health, settings, now), 'deterministic').toEqual(result);
          expect(state, 'the previous state is not changed').toEqual(before);
          checkSelection(state, prefixes, health, settings, now, result.next);
          state = result.next;
        }
      }),
      { numRuns: 1000, seed: SEED },
    );
  });
});
