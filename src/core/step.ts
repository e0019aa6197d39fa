// One decision step: round outcomes -> health -> selection -> rendered text. Pure; the daemon and
// the one-shot CLI commands share it.
import type { Config } from '../config/load.js';
import { confirmationsDue, confirmHealth, type Confirmation } from '../health/confirm.js';
import { evaluateRound, type RoundVerdict } from '../health/evaluate.js';
import { advanceHealth, initialHealth, wantsFastRecheck, type PrefixHealth, type Transition } from '../health/state.js';
import type { ProbeOutcome } from '../probe/types.js';
import { renderContext } from '../render/render.js';
import type { TemplateContext } from '../config/template.js';
import type { PoolConfig } from '../config/load.js';
import {
  EMPTY_SELECTION,
  selectActive,
  type Maintenance,
  type SelectionChange,
  type SelectionState,
} from '../select/select.js';

export interface Decision {
  verdict: RoundVerdict;
  health: Map<string, PrefixHealth>;
  transitions: Transition[];
  /** the default pool's selection (every client's without `pools:`) */
  selection: SelectionState;
  /** each client pool's selection, by pool name (same rules, its own groups and set size) */
  pools: Map<string, SelectionState>;
  changes: SelectionChange[];
  /** what is rendered: each prefix with the pools that use it, and the draining ones */
  context: TemplateContext;
  rendered: string;
  /** the round's raw probe outcomes (counted by the metrics) */
  outcomes: ProbeOutcome[];
  /** confirmation bursts due now (health.confirm_burst); never after a burst */
  confirm: Confirmation[];
}

export function decide(
  config: Config,
  prevHealth: ReadonlyMap<string, PrefixHealth>,
  prevSelection: SelectionState,
  outcomes: ProbeOutcome[],
  now: number,
  maintenance: ReadonlyMap<string, Maintenance> = new Map(),
  prevPools: ReadonlyMap<string, SelectionState> = new Map(),
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
  const confirm = confirmationsDue(health, verdict, config.health);
  return {
    ...choose(config, health, prevSelection, prevPools, now, maintenance),
    verdict,
    transitions,
    outcomes,
    confirm,
  };
}

/**
 * The step after a confirmation burst: `round` is the decision whose `confirm` asked for it, `sets`
 * each set's outcomes (any prefixes). Health changes only by confirmHealth; the round's verdict
 * (target blame) stays.
 */
export function decideConfirmation(
  config: Config,
  round: Decision,
  sets: ReadonlyArray<readonly ProbeOutcome[]>,
  now: number,
  maintenance: ReadonlyMap<string, Maintenance> = new Map(),
): Decision {
  const health = new Map(round.health);
  const transitions: Transition[] = [];
  for (const { prefix } of round.confirm) {
    const prev = health.get(prefix);
    if (!prev) continue;
    const mine = sets.map((set) => set.filter((o) => o.prefix === prefix)).filter((set) => set.length > 0);
    const { next, transition } = confirmHealth(prev, mine, config.health, now);
    health.set(prefix, next);
    if (transition) transitions.push(transition);
  }
  return {
    // part of its round: no second swap (selection rule 3)
    ...choose(config, health, round.selection, round.pools, now, maintenance, false),
    verdict: round.verdict,
    transitions,
    outcomes: sets.flat(),
    confirm: [],
  };
}

/** A pool's own group order: a group it does not list ranks after those it lists (selection rule 1). */
function rankedFor(pool: PoolConfig, prefixes: Config['prefixes']): Config['prefixes'] {
  return prefixes.map((p) => {
    const i = p.group === null ? -1 : pool.groups.indexOf(p.group);
    return { ...p, groupRank: i < 0 ? pool.groups.length : i };
  });
}

/** Every pool's selection in one step: the default pool's and each configured pool's, with their changes. */
export interface PoolsSelection {
  /** the default pool's selection (every client's without `pools:`) */
  selection: SelectionState;
  /** each configured pool's, by name */
  pools: Map<string, SelectionState>;
  /** the default pool's changes, then each pool's (named by `pool`) */
  changes: SelectionChange[];
}

/**
 * The selection rules (select.ts) run for the default pool with `select` and for each configured pool
 * with its own group order and set size, on the same health and maintenance. The daemon's step and
 * the maintenance guard's prediction (maintenance-guard.ts) both select by this one function.
 */
export function selectPools(
  config: Pick<Config, 'prefixes' | 'select' | 'pools'>,
  health: ReadonlyMap<string, PrefixHealth>,
  prevSelection: SelectionState,
  prevPools: ReadonlyMap<string, SelectionState>,
  now: number,
  maintenance: ReadonlyMap<string, Maintenance>,
  { swap = true }: { swap?: boolean } = {},
): PoolsSelection {
  const { next: selection, changes } = selectActive(
    prevSelection,
    config.prefixes,
    health,
    config.select,
    now,
    maintenance,
    { swap },
  );
  const pools = new Map<string, SelectionState>();
  for (const pool of config.pools) {
    const { next, changes: own } = selectActive(
      prevPools.get(pool.name) ?? EMPTY_SELECTION,
      rankedFor(pool, config.prefixes),
      health,
      { ...config.select, min_active: pool.min_active, max_active: pool.max_active },
      now,
      maintenance,
      { swap },
    );
    pools.set(pool.name, next);
    changes.push(...own.map((c) => ({ ...c, pool: pool.name })));
  }
  return { selection, pools, changes };
}

function choose(
  config: Config,
  health: Map<string, PrefixHealth>,
  prevSelection: SelectionState,
  prevPools: ReadonlyMap<string, SelectionState>,
  now: number,
  maintenance: ReadonlyMap<string, Maintenance>,
  swap = true,
): Pick<Decision, 'health' | 'selection' | 'pools' | 'changes' | 'context' | 'rendered'> {
  const { selection, pools, changes } = selectPools(config, health, prevSelection, prevPools, now, maintenance, {
    swap,
  });
  const context = renderContext(config, selection, pools);
  return { health, selection, pools, changes, context, rendered: config.template.render(context) };
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

/** A decision from scratch, without history (what `check` reports and `render` prints). */
export function firstDecision(config: Config, outcomes: ProbeOutcome[], now: number): Decision {
  return decide(config, new Map(), EMPTY_SELECTION, outcomes, now);
}
