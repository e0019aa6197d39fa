// What becomes of a client pool's set when the pool is no longer configured (a config reload, or a
// restart whose state file names a pool the config does not): its prefixes leave like any prefix
// that leaves a set (select.ts, rule 5). Those no remaining pool uses drain: they go into the default
// pool's drains, from the time they left (an active one: now; a draining one: when its drain began),
// so they stay rendered with `clients { none; }` for `select.drain` and reverse lookups of their
// addresses keep working; `drain: 0` removes them at once. Pure.
import type { Config } from '../config/load.js';
import type { SelectionState } from '../select/select.js';

export interface PoolsAfterRemoval {
  /** the default pool's selection, with the removed pools' prefixes draining */
  selection: SelectionState;
  /** the configured pools' selections only */
  pools: Map<string, SelectionState>;
  /** each removed pool with the prefixes of its set that drain now (for the log) */
  removed: Array<{ pool: string; draining: string[] }>;
}

export function drainRemovedPools(
  config: Pick<Config, 'pools' | 'select'>,
  selection: SelectionState,
  pools: ReadonlyMap<string, SelectionState>,
  now: number,
): PoolsAfterRemoval {
  const configured = new Set(config.pools.map((p) => p.name));
  const kept = new Map([...pools].filter(([name]) => configured.has(name)));
  const used = new Set([selection.active, ...[...kept.values()].map((s) => s.active)].flat());
  const draining = { ...selection.draining };
  const removed: PoolsAfterRemoval['removed'] = [];
  for (const [pool, s] of pools) {
    if (configured.has(pool)) continue;
    const left: Array<[string, number]> = [
      ...s.active.map((id) => [id, now] as [string, number]),
      ...Object.entries(s.draining),
    ];
    const drains = config.select.drain > 0 ? left.filter(([id]) => !used.has(id)) : [];
    // the latest time wins: a prefix drains while any set still drains it (render.ts)
    for (const [id, since] of drains) draining[id] = Math.max(draining[id] ?? since, since);
    removed.push({ pool, draining: [...new Set(drains.map(([id]) => id))] });
  }
  return { selection: removed.length > 0 ? { ...selection, draining } : selection, pools: kept, removed };
}
