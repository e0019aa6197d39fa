// One decision step: round outcomes -> health -> selection -> rendered text. Pure; the daemon and
// the one-shot CLI commands share it.
import type { Config } from '../config/load.js';
import { evaluateRound, type RoundVerdict } from '../health/evaluate.js';
import { advanceHealth, initialHealth, wantsFastRecheck, type PrefixHealth, type Transition } from '../health/state.js';
import type { ProbeOutcome } from '../probe/types.js';
import { renderDns64 } from '../render/render.js';
import { selectActive, type Maintenance, type SelectionChange, type SelectionState } from '../select/select.js';

export interface Decision {
  verdict: RoundVerdict;
  health: Map<string, PrefixHealth>;
  transitions: Transition[];
  selection: SelectionState;
  changes: SelectionChange[];
  rendered: string;
  /** the round's raw probe outcomes (counted by the metrics) */
  outcomes: ProbeOutcome[];
}

export function decide(
  config: Config,
  prevHealth: ReadonlyMap<string, PrefixHealth>,
  prevSelection: SelectionState,
  outcomes: ProbeOutcome[],
  now: number,
  maintenance: ReadonlyMap<string, Maintenance> = new Map(),
): Decision {
  const verdict = evaluateRound(
    outcomes,
    config.prefixes.map((p) => p.id),
    config.probes.map((p) => p.id),
    config.health.quorum,
  );
  const health = new Map<string, PrefixHealth>();
  const transitions: Transition[] = [];
  for (const p of config.prefixes) {
    const { next, transition } = advanceHealth(
      prevHealth.get(p.id) ?? initialHealth(p.id),
      verdict.prefixes.get(p.id)!,
      config.health,
      now,
    );
    health.set(p.id, next);
    if (transition) transitions.push(transition);
  }
  const { next: selection, changes } = selectActive(
    prevSelection,
    config.prefixes,
    health,
    config.select,
    now,
    maintenance,
  );
  return { verdict, health, transitions, selection, changes, rendered: renderDns64(config, selection), outcomes };
}

/** Milliseconds until the next round: fast while any prefix is failing or recovering, jittered. */
export function nextDelay(
  config: Config,
  health: ReadonlyMap<string, PrefixHealth>,
  random: () => number = Math.random,
): number {
  const fast = [...health.values()].some(wantsFastRecheck);
  const base = fast ? config.health.fast_interval : config.health.interval;
  return Math.max(0, Math.round(base * (1 + config.health.jitter * (2 * random() - 1))));
}

/** Keeps what is known about prefixes still configured after a config reload (selection drops the rest). */
export function carryOverHealth(config: Config, health: ReadonlyMap<string, PrefixHealth>): Map<string, PrefixHealth> {
  return new Map(config.prefixes.map((p) => [p.id, health.get(p.id) ?? initialHealth(p.id)]));
}
