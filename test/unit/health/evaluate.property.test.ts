// The blame rule of src/health/evaluate.ts (and docs/rules.md, "Probing") over random rounds: 1-5 prefixes,
// 1-4 targets, any quorum, any outcome. Seeded: a failure prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateRound } from '../../../src/health/evaluate.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';

const SEED = 20261202;

const round = fc.record({ p: fc.integer({ min: 1, max: 5 }), t: fc.integer({ min: 1, max: 4 }) }).chain(({ p, t }) =>
  fc.record({
    prefixes: fc.constant(Array.from({ length: p }, (_, i) => `P${i}`)),
    targets: fc.constant(Array.from({ length: t }, (_, i) => `T${i}`)),
    quorum: fc.integer({ min: 1, max: t }),
    // mostly failures, so that "dead everywhere" and "no evidence" come up often
    ok: fc.array(fc.array(fc.boolean(), { minLength: t, maxLength: t }), { minLength: p, maxLength: p }),
    latency: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: p * t, maxLength: p * t }),
    order: fc.array(fc.nat(), { minLength: p * t, maxLength: p * t }),
  }),
);

describe('round evaluation properties', () => {
  it('a round is good exactly as the blame rule says (1,000 rounds)', () => {
    fc.assert(
      fc.property(round, ({ prefixes, targets, quorum, ok, latency, order }) => {
        const outcomes: ProbeOutcome[] = prefixes.flatMap((prefix, i) =>
          targets.map((probe, j) => ({
            prefix,
            probe,
            address: '::',
            ok: ok[i]![j]!,
            latency_ms: latency[i * targets.length + j]!,
            ...(ok[i]![j] ? {} : { error: 'timeout' }),
          })),
        );
        const v = evaluateRound(outcomes, prefixes, targets, quorum);
        // the order in which outcomes arrive changes nothing but the order of the failures listed
        const shuffled = outcomes.map((o, k) => ({ o, k: order[k]! })).sort((a, b) => a.k - b.k);
        const sortFailures = (r: typeof v) =>
          [...r.prefixes].map(([id, x]) => [
            id,
            { ...x, failures: [...x.failures].sort((a, b) => (a.probe < b.probe ? -1 : 1)) },
          ]);
        const w = evaluateRound(
          shuffled.map((x) => x.o),
          prefixes,
          targets,
          quorum,
        );
        expect(w.targetFaults).toEqual(v.targetFaults);
        expect(sortFailures(w)).toEqual(sortFailures(v));

        const dead = targets.filter((_, j) => prefixes.every((_, i) => !ok[i]![j]));
        const answeredBy = (i: number) => ok[i]!.filter(Boolean).length;
        let anyBlame = false;
        prefixes.forEach((prefix, i) => {
          const evidence = prefixes.some((_, k) => k !== i && answeredBy(k) > 0);
          anyBlame ||= evidence && dead.length > 0;
          const counted = targets.length - (evidence ? dead.length : 0);
          const required = Math.min(quorum, counted);
          const verdict = v.prefixes.get(prefix)!;
          expect(verdict).toMatchObject({ answered: answeredBy(i), counted, required });
          expect(verdict.good, prefix).toBe(counted > 0 && answeredBy(i) >= required);
          if (verdict.good && answeredBy(i) < Math.min(quorum, targets.length)) {
            // fewer answers than the quorum only by blame, with another prefix's evidence
            expect(evidence).toBe(true);
            expect(targets.filter((_, j) => !ok[i]![j]).every((t) => dead.includes(t))).toBe(true);
          }
          if (prefixes.length === 1) expect(verdict.good).toBe(answeredBy(i) >= quorum);
        });
        expect(v.targetFaults).toEqual(anyBlame ? dead : []);
        if (outcomes.every((o) => !o.ok)) expect([...v.prefixes.values()].every((x) => !x.good)).toBe(true);
      }),
      { numRuns: 1000, seed: SEED },
    );
  });
});
