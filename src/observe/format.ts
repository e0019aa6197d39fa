// Words for the state file's parts, shared by the status page, the `status` table and the metrics.
import type { AppliedRecord } from '../apply/runner.js';
import { DEFAULT_POOL } from '../config/schema.js';
import { poolUse } from '../render/render.js';
import type { PrefixStatus, StateSnapshot } from '../daemon/state-file.js';

/** A client pool's selection as shown: the default pool's is the snapshot's own. */
export interface PoolSet {
  name: string;
  active: string[];
  draining: string[];
  /** prefix -> when its drain began (absent in state files of older versions) */
  draining_since: Record<string, string>;
}

/** Each pool's set: the default pool's first, then the configured pools in config order. */
export function poolSets(s: Pick<StateSnapshot, 'active' | 'draining' | 'draining_since' | 'pools'>): PoolSet[] {
  return [
    { name: DEFAULT_POOL, active: s.active, draining: s.draining, draining_since: s.draining_since ?? {} },
    ...(s.pools ?? []).map((p) => ({
      name: p.name,
      active: p.active,
      draining: Object.keys(p.draining_since),
      draining_since: p.draining_since,
    })),
  ];
}

/**
 * What is rendered over all pools (render.ts): the prefixes some pool uses, and those draining
 * (`clients { none; }`) because they left every pool while one still drains them.
 */
export function renderedSets(sets: readonly PoolSet[]): { active: string[]; draining: string[] } {
  const use = poolUse(
    sets.map((s) => ({
      name: s.name,
      active: s.active,
      draining: Object.fromEntries(s.draining.map((id) => [id, 1])),
    })),
  );
  const ids = [...new Set([...sets.flatMap((s) => s.active), ...sets.flatMap((s) => s.draining)])];
  return { active: ids.filter((id) => use.using(id).length > 0), draining: ids.filter(use.renderedDraining) };
}

export type Role = 'active' | 'draining' | 'standby';

/**
 * A prefix's role: without pools the (default pool's) selection's; with pools what BIND is given,
 * active while some pool uses it, draining once it left every pool (`drainingIds`: renderedSets').
 */
export function role(
  p: Pick<PrefixStatus, 'prefix' | 'active' | 'draining' | 'pools'>,
  drainingIds: readonly string[] = [],
): Role {
  if (p.pools !== undefined)
    return p.pools.length > 0 ? 'active' : drainingIds.includes(p.prefix) ? 'draining' : 'standby';
  return p.active ? 'active' : p.draining ? 'draining' : 'standby';
}

/** When the prefix's drain began: the earliest of the pools draining it. */
export function drainingSince(id: string, sets: readonly PoolSet[]): string | null {
  const since = sets.map((s) => s.draining_since[id]).filter((t): t is string => t !== undefined);
  return since.sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? null;
}

/** The last round in words: "2/2 answered" or "0/2 answered: tcp 192.0.2.10:80: timeout". */
export function lastRound(p: Pick<PrefixStatus, 'last_round'>): string {
  const r = p.last_round;
  if (!r) return '-';
  const head = `${r.answered}/${r.counted} answered`;
  return r.failures.length === 0 ? head : `${head}: ${r.failures.map((f) => `${f.probe}: ${f.error}`).join('; ')}`;
}

/** What an apply did, in a few words: "applied", "failed (reload): rndc: ..." */
export function applyDetail(a: AppliedRecord): string {
  if (a.result !== 'failed') return a.rolled_back ? `${a.result}, rolled back` : a.result;
  const stage = a.stage ? ` (${a.stage})` : '';
  return `failed${stage}${a.rolled_back ? ', rolled back' : ''}${a.error ? `: ${a.error}` : ''}`;
}

/** A prefix's maintenance in words: "maintenance until 18:00 (upgrade)", or '' when it has none. */
export function maintenanceNote(p: Pick<PrefixStatus, 'maintenance'>): string {
  const m = p.maintenance;
  if (!m) return '';
  const until = m.until ? ` until ${m.until}` : '';
  return `maintenance${until}${m.reason ? ` (${m.reason})` : ''}`;
}
