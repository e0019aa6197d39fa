// What `nat64-health maintenance PREFIX on` would do to the set, decided before the file is written.
// Rule: putting a prefix into maintenance is refused (without --force) when it is in the active set
// now and the set the next round would select holds no healthy prefix: the operator would take the
// last working gateway away from every client. The prediction runs the selection rules
// (select.ts) on the health the daemon's state file records; a round's new probe results may still
// differ. The prefixes are those the daemon works on (effectivePrefixes: the configured ones and
// the discovered ones its state file records), so a discovered prefix counts, and can be held, as
// in the daemon. Without a state file only the configuration is known: every configured prefix
// counts as healthy. Pure.
import type { Config } from '../config/load.js';
import { effectivePrefixes } from '../discover/restore.js';
import { initialHealth, type PrefixHealth } from '../health/state.js';
import { EMPTY_SELECTION, inMaintenance, selectActive, type Maintenance } from '../select/select.js';

/** What a state file says of the set and the prefixes' health (the parts the prediction uses). */
export interface RecordedState {
  active: string[];
  failsafe: boolean;
  prefixes: ReadonlyArray<{ prefix: string; status: PrefixHealth['status']; latency_ms: number | null }>;
  /** each discovery source's set (StateSnapshot.discovery); absent: none */
  discovery?: unknown;
}

/** What the prediction needs of the loaded config (the discovered prefixes come from the state). */
export type GuardConfig = Pick<Config, 'prefixes' | 'discover' | 'select'>;

/** What the daemon's next selection would be with a given maintenance, from its last state. */
export interface Prediction {
  /** the set after the change, in config order */
  active: string[];
  failsafe: boolean;
  /** of those, the ones that are up */
  healthy: string[];
  /** false: no state file, the health of the prefixes is not known */
  known: boolean;
}

/** The selection the daemon would make in its next round with this maintenance. */
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
  const prev = { ...EMPTY_SELECTION, active: recorded?.active ?? [], failsafe: !!recorded?.failsafe };
  const held = new Map([...maintenance].filter(([, m]) => inMaintenance(m, now)));
  const { next } = selectActive(prev, config.prefixes, health, config.select, now, held);
  return {
    active: next.active,
    failsafe: next.failsafe,
    healthy: next.active.filter((id) => health.get(id)?.status === 'up'),
    known: recorded !== null,
  };
}

export interface MaintenanceGuard<M extends Maintenance> {
  /** the maintenance with `id` in it: what is written when it is not refused */
  after: Map<string, M>;
  /** the set the next round would select with the maintenance as it is */
  before: Prediction;
  /** the set it would select with `id` in maintenance too */
  next: Prediction;
  /** every prefix (configured and discovered) would be in maintenance */
  everyHeld: boolean;
  /** the rule above: refused unless forced */
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
  return { after, before, next, everyHeld, refused: next.healthy.length === 0 && before.active.includes(id) };
}
