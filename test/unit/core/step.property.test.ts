// decide() end to end over random configs (1-12 prefixes, 0-3 groups, min/max, drain, quorum) and
// random histories of probe outcomes. Seeded: a failure prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../../src/config/load.js';
import { parsePrefix } from '../../../src/lib/prefix.js';
import { decide, decideConfirmation } from '../../../src/core/step.js';
import type { PrefixHealth } from '../../../src/health/state.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';
import { histories, playHistory, roundOutcomes } from '../../support/histories.js';
import { checkSelection } from '../../support/selection-invariants.js';

const SEED = 20261204;
const GROUPS = ['local', 'isp', 'public'];

const shape = fc.record({
  groupOf: fc.array(fc.integer({ min: -1, max: 2 }), { minLength: 1, maxLength: 12 }), // -1: no group
  groups: fc.integer({ min: 0, max: 3 }),
  probes: fc.integer({ min: 1, max: 3 }),
  quorum: fc.integer({ min: 1, max: 3 }),
  min: fc.integer({ min: 1, max: 3 }),
  extra: fc.integer({ min: 0, max: 2 }),
  drain: fc.constantFrom(0, 10, 60),
  rise: fc.integer({ min: 1, max: 3 }),
  fall: fc.integer({ min: 1, max: 3 }),
});
type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

// One parsed config (template, bind settings); each generated shape varies its prefixes, probes,
// health and select settings (parsing each anew would cost most of the test's time).
const base = parseConfig(
  `prefixes: ["2001:db8:64::/96"]
probes:
${[10, 11, 12].map((i) => `  - { type: tcp, address: 192.0.2.${i}, port: 80 }`).join('\n')}
`,
  'property.yaml',
  '/tmp',
);
function configOf(s: Shape): Config {
  const listed = GROUPS.slice(0, s.groups);
  const prefixes = s.groupOf.map((g, i) => {
    const prefix = parsePrefix(`2001:db8:64:${i.toString(16)}::/96`);
    const group = g >= 0 && g < s.groups ? GROUPS[g]! : null;
    const groupRank = group === null ? listed.length : g;
    return { prefix, id: prefix.text, name: prefix.text, group, groupRank, order: i, origin: `property.yaml:${i}` };
  });
  return {
    ...base,
    prefixes,
    probes: base.probes.slice(0, s.probes),
    health: { ...base.health, rise: s.rise, fall: s.fall, quorum: Math.min(s.quorum, s.probes) },
    select: { ...base.select, min_active: s.min, max_active: s.min + s.extra, drain: s.drain * 1000, groups: listed },
  };
}

// per prefix: dead, alive, or each target at random
const history = histories(
  shape,
  (s) => s.groupOf.length,
  (s) => fc.array(fc.boolean(), { minLength: s.probes, maxLength: s.probes }),
  [2, 5, 10, 40, 90],
  20,
);

const dns64Blocks = (text: string) => [...text.matchAll(/^dns64 (\S+) \{\n(.*)\n/gm)].map((m) => [m[1], m[2]]);

describe('decide properties', () => {
  it('health, selection and the rendered text stay consistent over every history (1,000 histories)', () => {
    fc.assert(
      fc.property(history, ({ shape: s, rounds }) => {
        const config = configOf(s);
        const outcomesOf = (r: (typeof rounds)[number]) => roundOutcomes(config, (i, j) => r.ok[i]![j]!, r.latency);
        playHistory(config, rounds, outcomesOf, (d, { health, selection, rendered }, now) => {
          for (const p of config.prefixes) {
            const before = health.get(p.id);
            const h = d.health.get(p.id)!;
            const good = d.verdict.prefixes.get(p.id)!.good;
            expect(h.good_streak).toBe(good ? (before?.good_streak ?? 0) + 1 : 0);
            expect(h.bad_streak).toBe(good ? 0 : (before?.bad_streak ?? 0) + 1);
            if (before?.status === 'up' && h.status === 'down') expect(h.bad_streak).toBeGreaterThanOrEqual(s.fall);
            if (before?.status === 'down' && h.status === 'up') expect(h.good_streak).toBeGreaterThanOrEqual(s.rise);
          }
          checkSelection(selection, config.prefixes, d.health, config.select, now, d.selection);

          // The text: every active prefix once with the configured clients, every draining one once
          // with clients { none; }, nothing else; it changes exactly when the set or the drains do.
          const blocks = dns64Blocks(d.rendered);
          expect(blocks.map(([id]) => id).sort()).toEqual(
            [...d.selection.active, ...Object.keys(d.selection.draining)].sort(),
          );
          for (const [id, first] of blocks)
            expect(first, id).toMatch(id! in d.selection.draining ? /draining/ : /^\t\/\/ /);
          if (rendered !== null) {
            const same =
              d.selection.active.join() === selection.active.join() &&
              Object.keys(d.selection.draining).sort().join() === Object.keys(selection.draining).sort().join();
            expect(d.rendered === rendered, 'the text changes exactly when the set or the drains change').toBe(same);
          }
        });
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('a round and its confirmation burst together make at most one swap (1,000 histories)', () => {
    // Steady gateways whose latencies change (so challengers come due, switch_after being 10 s),
    // each with a bad round now and then (1 in 10), which brings a burst whose probes answer or
    // not; one group, so that swaps compete.
    const steady = fc
      .record({
        n: fc.integer({ min: 3, max: 8 }),
        min: fc.integer({ min: 1, max: 3 }),
        extra: fc.integer({ min: 0, max: 2 }),
        fall: fc.integer({ min: 2, max: 3 }),
      })
      .chain((t) =>
        fc.record({
          shape: fc.constant<Shape>({
            groupOf: Array.from({ length: t.n }, () => -1),
            groups: 0,
            probes: 1,
            quorum: 1,
            min: t.min,
            extra: t.extra,
            drain: 0,
            rise: 1,
            fall: t.fall,
          }),
          rounds: fc.array(
            fc.record({
              dt: fc.integer({ min: 1000, max: 30_000 }),
              latency: fc.array(fc.constantFrom(2, 10, 90), { minLength: t.n, maxLength: t.n }),
              bad: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: t.n, maxLength: t.n }),
              answers: fc.boolean(),
            }),
            { minLength: 5, maxLength: 40 },
          ),
        }),
      );
    const swaps = (d: { changes: Array<{ change: string; reason: string }> }) =>
      d.changes.filter((c) => c.change === 'deactivated' && c.reason.startsWith('replaced by better')).length;
    let bursts = 0;
    fc.assert(
      fc.property(steady, ({ shape: s, rounds }) => {
        const c = configOf(s);
        const config = {
          ...c,
          health: { ...c.health, confirm_burst: true },
          select: { ...c.select, switch_after: 10_000 },
        };
        let health: ReadonlyMap<string, PrefixHealth> = new Map();
        let selection: SelectionState = EMPTY_SELECTION;
        let now = 1_700_000_000_000;
        for (const r of rounds) {
          now += r.dt;
          const outcome = (p: Config['prefixes'][number], i: number, ok: boolean): ProbeOutcome => ({
            prefix: p.id,
            probe: config.probes[0]!.id,
            address: '::',
            ok,
            latency_ms: r.latency[i]!,
            ...(ok ? {} : { error: 'timeout' }),
          });
          let d = decide(
            config,
            health,
            selection,
            config.prefixes.map((p, i) => outcome(p, i, r.bad[i] !== 0)),
            now,
          );
          let inRound = swaps(d);
          if (d.confirm.length > 0) {
            bursts++;
            const burst = config.prefixes.flatMap((p, i) =>
              d.confirm.some((x) => x.prefix === p.id) ? [outcome(p, i, r.answers)] : [],
            );
            d = decideConfirmation(config, d, [burst], now + config.health.timeout);
            inRound += swaps(d);
          }
          expect(inRound, 'swaps in a round and its burst').toBeLessThanOrEqual(1);
          health = d.health;
          selection = d.selection;
        }
      }),
      { numRuns: 1000, seed: SEED },
    );
    expect(bursts, 'rounds with a burst').toBeGreaterThan(100);
  });
});
