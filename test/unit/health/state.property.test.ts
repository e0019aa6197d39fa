// The rise/fall state machine of src/health/state.ts over random histories of good and bad rounds.
// Seeded: a failure prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PrefixVerdict } from '../../../src/health/evaluate.js';
import { advanceHealth, initialHealth, lossRatio, type HealthStatus } from '../../../src/health/state.js';

const SEED = 20261203;

const verdict = (good: boolean, latency: number): PrefixVerdict => ({
  good,
  latency_ms: good ? latency : null,
  answered: good ? 1 : 0,
  counted: 1,
  required: 1,
  failures: good ? [] : [{ probe: 't', error: 'timeout' }],
});

describe('health properties', () => {
  it('down only after `fall` bad rounds in a row, up only after `rise` good ones (1,000 histories)', () => {
    fc.assert(
      fc.property(
        fc.record({
          rise: fc.integer({ min: 1, max: 5 }),
          fall: fc.integer({ min: 1, max: 5 }),
          latency_alpha: fc.double({ min: 0.01, max: 1, noNaN: true }),
          loss_window: fc.integer({ min: 1, max: 30 }),
        }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 500 })), { minLength: 1, maxLength: 40 }),
        (s, history) => {
          let h = initialHealth('p');
          let good = 0;
          let bad = 0;
          let now = 0;
          const seen: boolean[] = [];
          for (const [isGood, latency] of history) {
            now += 1000;
            const before = h;
            const r = advanceHealth(before, verdict(isGood, latency), s, now);
            expect(advanceHealth(before, verdict(isGood, latency), s, now), 'deterministic').toEqual(r);
            good = isGood ? good + 1 : 0;
            bad = isGood ? 0 : bad + 1;
            let expected: HealthStatus = before.status;
            if (before.status === 'unknown') expected = isGood ? 'up' : 'down';
            else if (before.status === 'up' && bad >= s.fall) expected = 'down';
            else if (before.status === 'down' && good >= s.rise) expected = 'up';
            expect(r.next).toMatchObject({ status: expected, good_streak: good, bad_streak: bad });
            if (expected !== before.status) {
              expect(r.transition).toMatchObject({ from: before.status, to: expected });
              expect(r.next.since).toBe(now);
            } else {
              expect(r.transition).toBeUndefined();
              expect(r.next.since).toBe(before.since);
            }
            if (!isGood) expect(r.next.latency_ms).toBe(before.latency_ms);
            else if (before.latency_ms === null) expect(r.next.latency_ms).toBe(latency);
            else {
              const [lo, hi] = [Math.min(before.latency_ms, latency), Math.max(before.latency_ms, latency)];
              expect(r.next.latency_ms!).toBeGreaterThanOrEqual(lo - 1e-9);
              expect(r.next.latency_ms!).toBeLessThanOrEqual(hi + 1e-9);
            }
            // the loss ratio is the unanswered share of the last loss_window rounds (one probe each)
            seen.push(isGood);
            const last = seen.slice(-s.loss_window);
            expect(r.next.recent.length).toBe(last.length);
            expect(lossRatio(r.next)).toBeCloseTo(last.filter((g) => !g).length / last.length, 12);
            h = r.next;
          }
        },
      ),
      { numRuns: 1000, seed: SEED },
    );
  });
});
