// Invariants of the discovered set over random histories of answers and failures, on a fake clock.
// Seeded: a failure prints the seed and path to replay it with fast-check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialDiscovery, nextDiscovery, type DiscoveryResult } from '../../../src/discover/discovery.js';
import type { DiscoverySettings } from '../../../src/config/schema-types.js';

const SEED = 20261212;
const POOL = ['2001:db8:1::/96', '2001:db8:2::/64', '2001:db8:3::/48', '2001:db8:4::/32'];

const settings: fc.Arbitrary<DiscoverySettings> = fc
  .record({
    min: fc.integer({ min: 1000, max: 120_000 }),
    extra: fc.integer({ min: 0, max: 3_600_000 }),
    keep: fc.constantFrom(0, 30_000, 600_000, 3_600_000),
  })
  .map(({ min, extra, keep }) => ({ min_refresh: min, max_refresh: min + extra, keep }));

const result: fc.Arbitrary<DiscoveryResult> = fc.oneof(
  fc.record({
    ok: fc.constant(true as const),
    prefixes: fc.subarray(POOL),
    ttl: fc.option(fc.integer({ min: 0, max: 100_000 })),
  }),
  fc.record({ ok: fc.constant(false as const), error: fc.constantFrom('no answer', 'garbage', 'REFUSED') }),
);

describe('nextDiscovery: invariants', () => {
  it('the set is the last usable answer while it is younger than keep, else empty; refresh within bounds', () => {
    fc.assert(
      fc.property(settings, fc.array(fc.tuple(fc.integer({ min: 0, max: 900_000 }), result)), (s, history) => {
        let state = initialDiscovery(0);
        let now = 0;
        let last: { at: number; prefixes: string[] } | null = null;
        for (const [dt, r] of history) {
          now += dt;
          const before = state.prefixes;
          const step = nextDiscovery(state, r, now, s);
          state = step.state;
          if (r.ok && r.prefixes.length > 0) last = { at: now, prefixes: [...r.prefixes].sort() };
          const expected = last && (last.at === now || now - last.at < s.keep) ? last.prefixes : [];
          expect(state.prefixes).toEqual(expected);
          expect(state.answered_at).toBe(last?.at ?? null);
          expect(state.error === null).toBe(r.ok && r.prefixes.length > 0);
          // asked again after at least a second, within max_refresh after an answer, min_refresh after a failure
          expect(state.next_at).toBeGreaterThan(now);
          expect(state.next_at - now).toBeLessThanOrEqual(state.error === null ? s.max_refresh : s.min_refresh);
          if (state.kept_until !== null) expect(state.next_at).toBeLessThanOrEqual(state.kept_until);
          // appeared and disappeared are exactly the difference
          expect([...step.appeared].sort()).toEqual(state.prefixes.filter((p) => !before.includes(p)));
          expect([...step.disappeared].sort()).toEqual(before.filter((p) => !state.prefixes.includes(p)));
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
