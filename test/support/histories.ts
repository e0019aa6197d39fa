// Generated histories of probe rounds played through decide(), shared by its property tests: the
// loop that carries health and selections from round to round, each round decided twice (the same
// inputs must give the same decision), and the round handed to the test's checks.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { decide, type Decision } from '../../src/core/step.js';
import type { PrefixHealth } from '../../src/health/state.js';
import type { ProbeOutcome } from '../../src/probe/types.js';
import { EMPTY_SELECTION, type SelectionState } from '../../src/select/select.js';

/**
 * Generated histories: a shape (a config's) and 1 to `maxRounds` rounds, each 1 to 30 s after the one
 * before, with `ok(shape)` (what answers) and a latency from `latencies` for each of `prefixes(shape)`.
 */
export function histories<S, O>(
  shape: fc.Arbitrary<S>,
  prefixes: (s: S) => number,
  ok: (s: S) => fc.Arbitrary<O>,
  latencies: number[],
  maxRounds: number,
) {
  return shape.chain((s) => {
    const each = { minLength: prefixes(s), maxLength: prefixes(s) };
    return fc.record({
      shape: fc.constant(s),
      rounds: fc.array(
        fc.record({
          dt: fc.integer({ min: 1000, max: 30_000 }),
          ok: fc.array(ok(s), each),
          latency: fc.array(fc.constantFrom(...latencies), each),
        }),
        { minLength: 1, maxLength: maxRounds },
      ),
    });
  });
}

/** What the decisions so far left: the next round starts from it. */
export interface HistoryState {
  health: ReadonlyMap<string, PrefixHealth>;
  selection: SelectionState;
  pools: ReadonlyMap<string, SelectionState>;
  /** the last decision's text; null before the first round */
  rendered: string | null;
}

/** The probe outcomes of one round: prefix i answers probe j when ok(i, j), in latency[i] ms. */
export function roundOutcomes(
  config: Pick<Config, 'prefixes' | 'probes'>,
  ok: (prefix: number, probe: number) => boolean,
  latency: readonly number[],
): ProbeOutcome[] {
  return config.prefixes.flatMap((p, i) =>
    config.probes.map((probe, j) => ({
      prefix: p.id,
      probe: probe.id,
      address: '::',
      ok: ok(i, j),
      latency_ms: latency[i]!,
      ...(ok(i, j) ? {} : { error: 'timeout' }),
    })),
  );
}

/**
 * Plays `rounds` (each `dt` ms after the one before) through decide(), without maintenance; `check`
 * sees each decision with the state it was decided from and its time.
 */
export function playHistory<R extends { dt: number }>(
  config: Config,
  rounds: readonly R[],
  outcomesOf: (round: R) => ProbeOutcome[],
  check: (d: Decision, before: HistoryState, now: number) => void,
): void {
  let state: HistoryState = { health: new Map(), selection: EMPTY_SELECTION, pools: new Map(), rendered: null };
  let now = 1_700_000_000_000;
  for (const r of rounds) {
    now += r.dt;
    const outcomes = outcomesOf(r);
    const d = decide(config, state.health, state.selection, outcomes, now, new Map(), state.pools);
    const again = decide(config, state.health, state.selection, outcomes, now, new Map(), state.pools);
    expect(again, 'same inputs, same decision').toEqual(d);
    check(d, state, now);
    state = { health: d.health, selection: d.selection, pools: d.pools, rendered: d.rendered };
  }
}
