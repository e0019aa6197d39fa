// What `nat64-health maintenance PREFIX on` would do to the sets, decided before the file is written.
// Rule: putting a prefix into maintenance is refused (without --force) when some pool (the default
// pool included; without `pools:` the default pool is every client) has it in its set now and the
// set that pool's next round would select holds no healthy prefix: the operator would take the last
// working gateway away from that pool's clients. The prediction runs the daemon's own selection
// (selectPools: each pool by the selection rules of select.ts) on the health and the sets the
// daemon's state file records; a round's new probe results may still differ. The prefixes are those
// the daemon works on (effectivePrefixes: the configured ones and the discovered ones its state file
// records), so a discovered prefix counts, and can be held, as in the daemon. Without a state file
// only the configuration is known: every configured prefix counts as healthy and every set is new.
// Pure.
import type { Config } from '../config/load.js';
import { DEFAULT_POOL } from '../config/schema.js';
import { effectivePrefixes } from '../discover/restore.js';
import { initialHealth, type PrefixHealth } from '../health/state.js';
import { EMPTY_SELECTION, inMaintenance, type Maintenance, type SelectionState } from '../select/select.js';
import { selectPools } from './step.js';

/** What a state file says of the sets and the prefixes' health (the parts the prediction uses). */
export interface RecordedState {
  /** the default pool's set */
  active: string[];
  failsafe: boolean;
  prefixes: ReadonlyArray<{ prefix: string; status: PrefixHealth['status']; latency_ms: number | null }>;
  /** each client pool's set (StateSnapshot.pools); absent: none recorded */
  pools?: ReadonlyArray<{ name: string; active: string[]; failsafe: boolean }>;
  /** each discovery source's set (StateSnapshot.discovery); absent: none */
  discovery?: unknown;
}

/** What the prediction needs of the loaded config (the discovered prefixes come from the state). */
export type GuardConfig = Pick<Config, 'prefixes' | 'discover' | 'select' | 'pools'>;

/** One pool's set as its next round would select it. */
export interface SetPrediction {
  /** the set, in config order */
  active: string[];
  failsafe: boolean;
  /** of those, the ones that are up */
  healthy: string[];
}

/** What the daemon's next selection would be with a given maintenance, from its last state. */
export interface Prediction extends SetPrediction {
  /** each configured client pool's set, by name, in config order (empty without pools) */
  pools: Map<string, SetPrediction>;
  /** false: no state file, the health of the prefixes is not known */
  known: boolean;
}

/** The selections the daemon would make in its next round with this maintenance. */
export function predictSelection(
  loaded: GuardConfig,
  recorded: RecordedState | null,
  maintenance: ReadonlyMap<string, Maintenance>,
  now: number,
): Prediction {
  const config = effectivePrefixes(loaded, recorded, now);
  const health = new Map<string, PrefixHealth>(
    config.prefixes.map((p) => {
      const s = recorded?.prefixes.find((x) => x.prefix === p.id);
      const h: PrefixHealth = {
        ...initialHealth(p.id),
        status: recorded ? (s?.status ?? 'unknown') : 'up',
        latency_ms: s?.latency_ms ?? null,
      };
      return [p.id, h];
    }),
  );
  const recordedSet = (r: { active: string[]; failsafe: boolean }): SelectionState => ({
    ...EMPTY_SELECTION,
    active: r.active,
    failsafe: !!r.failsafe,
  });
  const prev = recordedSet({ active: recorded?.active ?? [], failsafe: !!recorded?.failsafe });
  const prevPools = new Map((recorded?.pools ?? []).map((p) => [p.name, recordedSet(p)]));
  const held = new Map([...maintenance].filter(([, m]) => inMaintenance(m, now)));
  const next = selectPools(config, health, prev, prevPools, now, held);
  const predicted = (s: SelectionState): SetPrediction => ({
    active: s.active,
    failsafe: s.failsafe,
    healthy: s.active.filter((id) => health.get(id)?.status === 'up'),
  });
  return {
    ...predicted(next.selection),
    pools: new Map(config.pools.map((p) => [p.name, predicted(next.pools.get(p.name)!)])),
    known: recorded !== null,
  };
}

/** Each pool's prediction by name: the default pool's first, then the configured ones in config order. */
export function eachPool(p: Prediction): Array<[string, SetPrediction]> {
  return [[DEFAULT_POOL, p], ...p.pools];
}

export interface MaintenanceGuard<M extends Maintenance> {
  /** the maintenance with `id` in it: what is written when it is not refused */
  after: Map<string, M>;
  /** the sets the next round would select with the maintenance as it is */
  before: Prediction;
  /** the sets it would select with `id` in maintenance too */
  next: Prediction;
  /** every prefix (configured and discovered) would be in maintenance */
  everyHeld: boolean;
  /** the pools (DEFAULT_POOL for the default one) whose set holds `id` and would then hold no healthy prefix */
  refusedFor: string[];
  /** the rule above: refused unless forced (some pool is in refusedFor) */
  refused: boolean;
}

/** The rule on top of this file, for putting `id` into maintenance (`entry`) next to `maintenance`. */
export function guardMaintenanceOn<M extends Maintenance>(
  config: GuardConfig,
  recorded: RecordedState | null,
  maintenance: ReadonlyMap<string, M>,
  id: string,
  entry: M,
  now: number,
): MaintenanceGuard<M> {
  const before = predictSelection(config, recorded, maintenance, now);
  const after = new Map(maintenance).set(id, entry);
  const next = predictSelection(config, recorded, after, now);
  const everyHeld = effectivePrefixes(config, recorded, now).prefixes.every((p) => inMaintenance(after.get(p.id), now));
  const nextOf = new Map(eachPool(next));
  const refusedFor = eachPool(before)
    .filter(([name, set]) => set.active.includes(id) && nextOf.get(name)!.healthy.length === 0)
    .map(([name]) => name);
  return { after, before, next, everyHeld, refusedFor, refused: refusedFor.length > 0 };
}
