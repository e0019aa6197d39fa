// The confirmation burst of src/health/confirm.ts with the rounds of evaluate.ts and state.ts, over
// random histories of several prefixes and targets (quorum 1, the default). Seeded: a failure
// prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confirmationsDue, confirmHealth } from '../../../src/health/confirm.js';
import { evaluateRound } from '../../../src/health/evaluate.js';
import { advanceHealth, initialHealth, type HealthStatus, type PrefixHealth } from '../../../src/health/state.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';

const SEED = 20261205;
const PREFIXES = ['A', 'B', 'C'];
const TARGETS = ['t1', 't2', 't3', 't4'];
const MAX_FALL = 5;

/** which targets answer through which prefix, one row per prefix; `dead` rows answer nothing */
const answers = (targets: number) =>
  fc.array(fc.oneof(fc.constant(null), fc.array(fc.boolean(), { minLength: targets, maxLength: targets })), {
    minLength: PREFIXES.length,
    maxLength: PREFIXES.length,
  });

const outcomes = (rows: Array<boolean[] | null>, targets: string[]): ProbeOutcome[] =>
  PREFIXES.flatMap((prefix, i) =>
    targets.map((probe, j) => {
      const ok = rows[i]?.[j] ?? false;
      return { prefix, probe, address: '::', ok, latency_ms: ok ? 2 : 100, ...(ok ? {} : { error: 'timeout' }) };
    }),
  );

const settings = fc.record({
  rise: fc.integer({ min: 1, max: 4 }),
  fall: fc.integer({ min: 1, max: MAX_FALL }),
  latency_alpha: fc.constant(0.3),
  loss_window: fc.integer({ min: 1, max: 10 }),
  confirm_burst: fc.constant(true),
});

/** the rules restated: the rounds' rise/fall, and a burst that counts only when silent throughout */
interface Model {
  status: HealthStatus;
  bad: number;
  good: number;
}

function modelRound(m: Model, silent: boolean, s: { rise: number; fall: number }) {
  m.bad = silent ? m.bad + 1 : 0;
  m.good = silent ? 0 : m.good + 1;
  if (m.status === 'unknown') m.status = silent ? 'down' : 'up';
  else if (m.status === 'up' && m.bad >= s.fall) m.status = 'down';
  else if (m.status === 'down' && m.good >= s.rise) m.status = 'up';
}

describe('confirmation burst properties', () => {
  it('down only after `fall` silent rounds or burst sets in a row; a burst with an answer changes nothing', () => {
    fc.assert(
      fc.property(
        settings,
        fc.integer({ min: 1, max: TARGETS.length }),
        fc.array(fc.tuple(answers(TARGETS.length), fc.array(answers(TARGETS.length), { maxLength: MAX_FALL })), {
          minLength: 1,
          maxLength: 30,
        }),
        (s, n, history) => {
          const targets = TARGETS.slice(0, n);
          let health = new Map<string, PrefixHealth>(PREFIXES.map((p) => [p, initialHealth(p)]));
          const model = new Map<string, Model>(PREFIXES.map((p) => [p, { status: 'unknown', bad: 0, good: 0 }]));
          let now = 0;
          for (const [round, burst] of history) {
            now += 200;
            const verdict = evaluateRound(outcomes(round, targets), PREFIXES, targets, 1);
            health = new Map(
              PREFIXES.map((p) => [p, advanceHealth(health.get(p)!, verdict.prefixes.get(p)!, s, now).next]),
            );
            // with quorum 1 a round is bad exactly when no probe through the prefix answered
            const silent = PREFIXES.map((_, i) => !round[i] || round[i].slice(0, n).every((ok) => !ok));
            PREFIXES.forEach((p, i) => modelRound(model.get(p)!, silent[i]!, s));
            const due = confirmationsDue(health, verdict, s);
            expect(due).toEqual(
              PREFIXES.flatMap((p, i) => {
                const m = model.get(p)!;
                return m.status === 'up' && silent[i] && m.bad < s.fall ? [{ prefix: p, sets: s.fall - m.bad }] : [];
              }),
            );

            // the burst: set k of a prefix answers as burst[k] says (missing: nothing answers)
            now += 100;
            for (const { prefix, sets } of due) {
              const mine = Array.from({ length: sets }, (_, k) =>
                outcomes(burst[k] ?? [null, null, null], targets).filter((o) => o.prefix === prefix),
              );
              const before = health.get(prefix)!;
              const r = confirmHealth(before, mine, s, now);
              const m = model.get(prefix)!;
              if (mine.every((set) => set.every((o) => !o.ok))) {
                m.bad += sets;
                m.status = 'down'; // sets = fall - bad: a silent burst always completes `fall`
                expect(r.transition).toMatchObject({ id: prefix, from: 'up', to: 'down' });
                expect(r.next.since).toBe(now);
              } else {
                expect(r).toEqual({ next: before });
              }
              health.set(prefix, r.next);
            }
            for (const p of PREFIXES) {
              const m = model.get(p)!;
              expect(health.get(p)).toMatchObject({ status: m.status, bad_streak: m.bad, good_streak: m.good });
            }
          }
        },
      ),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('with at least one target answering through it in every round, an up prefix never goes down', () => {
    fc.assert(
      fc.property(
        settings,
        fc.integer({ min: 1, max: TARGETS.length }),
        fc.array(
          fc.array(fc.integer({ min: 0, max: 15 }), { minLength: PREFIXES.length, maxLength: PREFIXES.length }),
          { minLength: 1, maxLength: 40 },
        ),
        (s, n, history) => {
          const targets = TARGETS.slice(0, n);
          let health = new Map<string, PrefixHealth>(PREFIXES.map((p) => [p, initialHealth(p)]));
          let now = 0;
          for (const masks of history) {
            // bit j of a mask: target j answers; target (mask mod n) always does
            const rows = masks.map((mask) => targets.map((_, j) => j === mask % n || ((mask >> j) & 1) === 1));
            const verdict = evaluateRound(outcomes(rows, targets), PREFIXES, targets, 1);
            health = new Map(
              PREFIXES.map((p) => [p, advanceHealth(health.get(p)!, verdict.prefixes.get(p)!, s, (now += 200)).next]),
            );
            expect(confirmationsDue(health, verdict, s)).toEqual([]);
            for (const h of health.values()) expect(h.status).toBe('up');
          }
        },
      ),
      { numRuns: 500, seed: SEED },
    );
  });
});
