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
import { checkSelection } from '../../support/selection-invariants.js';

const SEED = 20261201;

interface Scenario {
  prefixes: SelectablePrefix[];
  settings: SelectSettings;
  start: SelectionState;
  rounds: Array<{ dt: number; health: Array<{ status: HealthStatus; latency: number; lost: number }> }>;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    groups: fc.integer({ min: 0, max: 3 }),
    min: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 0, max: 3 }),
    drain: fc.constantFrom(0, 5_000, 30_000, 120_000),
    switch_after: fc.constantFrom(0, 10_000, 60_000),
    loss_penalty: fc.constantFrom(0, 1000),
  })
  .chain(({ n, groups, min, extra, drain, switch_after, loss_penalty }) =>
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
        loss_penalty,
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
                // probes lost of the last 10 (the loss ratio is lost / 10)
                lost: fc.constantFrom(0, 0, 1, 3, 9),
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
    prefixes.map((p, i) => [
      p.id,
      {
        ...initialHealth(p.id),
        status: h[i]!.status,
        latency_ms: h[i]!.latency,
        recent: Array.from({ length: 10 }, (_, k) => ({ counted: 1, answered: k < h[i]!.lost ? 0 : 1 })),
      },
    ]),
  );
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
