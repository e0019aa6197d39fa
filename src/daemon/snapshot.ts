// What the daemon knows after a round, as the state file, `status`, the status page and the
// metrics see it. A pure function of the daemon's values and the clock.
import type { AppliedRecord } from '../apply/runner.js';
import type { Config } from '../config/load.js';
import type { DiscoveryStatus } from '../discover/discover.js';
import { lossRatio, type PrefixHealth } from '../health/state.js';
import { EMPTY_SELECTION, rankScore, type SelectionState } from '../select/select.js';
import { DEFAULT_POOL } from '../config/schema.js';
import { poolUse } from '../render/render.js';
import { maintenanceFile, maintenanceStatus, type MaintenanceEntry } from './maintenance.js';
import type { StateSnapshot, TargetStatus } from './state-file.js';

export interface SnapshotInput {
  /** what rounds work on: the configured and the discovered prefixes */
  config: Pick<Config, 'source' | 'state_file' | 'prefixes' | 'select' | 'health' | 'pools'>;
  health: ReadonlyMap<string, PrefixHealth>;
  selection: SelectionState;
  /** each client pool's selection, by name */
  pools: ReadonlyMap<string, SelectionState>;
  /** the last decision's verdict on the probe targets; empty before the first round */
  targetFaults: string[];
  round: number;
  roundMs: number | null;
  /** when the next round starts; null while stopping */
  nextRoundAt: number | null;
  dryRun: boolean;
  /** the maintenance entries in force now */
  held: ReadonlyMap<string, MaintenanceEntry>;
  targets: TargetStatus[];
  applies: AppliedRecord[];
  discovery: DiscoveryStatus[];
  lastConfigReload: StateSnapshot['last_config_reload'];
  pid: number;
}

export function buildSnapshot(s: SnapshotInput, now: number): StateSnapshot {
  const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
  const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
  const { selection, held } = s;
  // with pools: each prefix names the pools whose set holds it, by the rendering's rule (render.ts)
  const { using } = poolUse([
    { name: DEFAULT_POOL, ...selection },
    ...s.config.pools.map((p) => ({ name: p.name, ...(s.pools.get(p.name) ?? EMPTY_SELECTION) })),
  ]);
  const usedBy = (id: string) => (s.config.pools.length > 0 ? { pools: using(id) } : {});
  return {
    version: 1,
    pid: s.pid,
    config: s.config.source,
    updated_at: new Date(now).toISOString(),
    round: s.round,
    round_ms: s.roundMs,
    next_round_at: iso(s.nextRoundAt),
    interval_ms: s.config.health.interval,
    failsafe: selection.failsafe,
    dry_run: s.dryRun,
    active: selection.active,
    draining: Object.keys(selection.draining),
    draining_since: Object.fromEntries(
      Object.entries(selection.draining).map(([id, since]) => [id, new Date(since).toISOString()]),
    ),
    target_faults: s.targetFaults,
    maintenance_file: maintenanceFile(s.config.state_file),
    maintenance: Object.fromEntries([...held].map(([id, m]) => [id, maintenanceStatus(m)])),
    prefixes: s.config.prefixes.map((p) => {
      const h = s.health.get(p.id)!;
      const m = held.get(p.id);
      return {
        prefix: p.id,
        name: p.name,
        group: p.group,
        group_rank: p.groupRank,
        status: h.status,
        active: selection.active.includes(p.id),
        draining: p.id in selection.draining,
        draining_since: iso(selection.draining[p.id]),
        ...usedBy(p.id),
        maintenance: m ? maintenanceStatus(m) : null,
        latency_ms: h.latency_ms,
        loss_ratio: lossRatio(h),
        score_ms: finiteOrNull(rankScore(h, s.config.select.loss_penalty)),
        good_streak: h.good_streak,
        bad_streak: h.bad_streak,
        discovered_from: p.discovered ?? null,
        since: iso(h.since),
        last_round: h.last_round,
      };
    }),
    ...(s.config.pools.length > 0
      ? {
          pools: s.config.pools.map((p) => {
            const sel = s.pools.get(p.name) ?? EMPTY_SELECTION;
            return {
              name: p.name,
              active: sel.active,
              draining_since: Object.fromEntries(
                Object.entries(sel.draining).map(([id, since]) => [id, new Date(since).toISOString()]),
              ),
              failsafe: sel.failsafe,
            };
          }),
        }
      : {}),
    targets: s.targets,
    applies: s.applies,
    discovery: s.discovery,
    last_config_reload: s.lastConfigReload,
  };
}
