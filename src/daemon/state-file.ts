// The state file: what the daemon knows after each round, for `status`, operators and tools.
import fs from 'node:fs/promises';
import * as z from 'zod';
import { parsePrefix } from '../lib/prefix.js';
import { MAX_PREFIXES } from '../config/schema.js';
import type { PrefixHealth } from '../health/state.js';
import type { AppliedRecord, Verification } from '../apply/runner.js';
import type { PrefixVerdict } from '../health/evaluate.js';
import type { DiscoveryStatus } from '../discover/discover.js';
import { writeFileAtomic } from '../lib/files.js';
import type { MaintenanceStatus } from './maintenance.js';

export interface PrefixStatus {
  prefix: string;
  name: string;
  group: string | null;
  /** the group's place in `select.groups`: 0 is the best (select.ts, rule 1); absent in older files */
  group_rank?: number;
  status: PrefixHealth['status'];
  active: boolean;
  draining: boolean;
  draining_since: string | null;
  /**
   * with pools: the pools whose set holds it (`default`: the clients in no pool), the default first,
   * then in config order; absent without pools. `active` and `draining` are the default pool's.
   */
  pools?: string[];
  /** in maintenance (select.ts, rule 6); absent in files of older versions */
  maintenance?: MaintenanceStatus | null;
  latency_ms: number | null;
  /** unanswered share of the probes over the last `health.loss_window` rounds */
  loss_ratio: number | null;
  /** the ranking score (select rule 1): latency plus loss ratio x loss_penalty, ms */
  score_ms: number | null;
  good_streak: number;
  bad_streak: number;
  since: string | null;
  last_round: PrefixVerdict | null;
  /** the discovery source (RFC 7050) that found it, "[server]:port"; null or absent: configured only */
  discovered_from?: string | null;
}

export interface TargetStatus {
  name: string;
  /** the last apply that did something (applied or failed) */
  last_apply: AppliedRecord | null;
  /** active prefixes of the text this target serves, as far as we know */
  serving: string[] | null;
  /** with client pools: each pool's set of that text, by pool name (the default pool's is `serving`) */
  serving_pools?: Record<string, string[]>;
  /** what BIND answered when last asked (ipv4only.arpa); absent or null: not asked (yet) */
  verification?: Verification | null;
}

/** A client pool's selection as the state file holds it (restored at start, like the default's). */
export interface PoolStatus {
  name: string;
  active: string[];
  draining_since: Record<string, string>;
  failsafe: boolean;
}

export interface StateSnapshot {
  version: 1;
  pid: number;
  config: string;
  updated_at: string;
  round: number;
  round_ms: number | null;
  next_round_at: string | null;
  /** `health.interval`: rounds start this often (at `fast_interval` while a prefix changes state) */
  interval_ms?: number;
  failsafe: boolean;
  dry_run: boolean;
  active: string[];
  draining: string[];
  /** when each draining prefix started draining (also prefixes no longer configured) */
  draining_since?: Record<string, string>;
  target_faults: string[];
  /** where `nat64-health maintenance` writes */
  maintenance_file?: string;
  /** prefix -> its maintenance, for those in force */
  maintenance?: Record<string, MaintenanceStatus>;
  prefixes: PrefixStatus[];
  targets: TargetStatus[];
  applies: AppliedRecord[];
  /** each client pool's selection (`pools:`), in config order; absent without pools */
  pools?: PoolStatus[];
  /** each discovery source (RFC 7050): what it answered and when it is asked again */
  discovery?: DiscoveryStatus[];
  last_config_reload: { at: string; ok: boolean; error?: string } | null;
}

export async function writeState(file: string, snapshot: StateSnapshot): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(snapshot, null, 2) + '\n');
}

/** What the last written snapshot held of the parts that matter, and when it was written. */
export interface StateWriteMemo {
  key: string;
  at: number;
}

/**
 * Whether a snapshot is written to the state file now. At once when something an operator or a
 * restart acts on changed (the set, drains, fail-safe, a prefix's state, a target's apply or
 * verification, a config reload); otherwise at most every `heartbeatMs`, so that a daemon running
 * several rounds a second does not rewrite and fsync the file on each (the status page, /metrics
 * and /status.json still see every round).
 */
export function stateWriteDue(
  memo: StateWriteMemo | null,
  snapshot: StateSnapshot,
  now: number,
  heartbeatMs: number,
): { due: boolean; memo: StateWriteMemo | null } {
  const key = JSON.stringify([
    snapshot.failsafe,
    snapshot.dry_run,
    snapshot.active,
    snapshot.draining_since ?? snapshot.draining,
    snapshot.target_faults,
    snapshot.prefixes.map((p) => [p.prefix, p.status, p.active, p.draining]),
    snapshot.pools?.map((p) => [p.name, p.active, p.draining_since, p.failsafe]),
    snapshot.targets,
    snapshot.applies,
    snapshot.last_config_reload,
  ]);
  if (memo && memo.key === key && now - memo.at < heartbeatMs) return { due: false, memo };
  return { due: true, memo: { key, at: now } };
}

// What a later run reads back. The file sits on /run and is written by the daemon, but anyone with
// write access there could have changed it: what goes from it towards BIND is checked (restoredSelection).
const stateFileSchema = z.looseObject({
  version: z.literal(1),
  prefixes: z.array(z.looseObject({ prefix: z.string(), active: z.boolean() })),
  draining_since: z.record(z.string(), z.string()).optional(),
  pools: z
    .array(
      z.looseObject({
        name: z.string(),
        active: z.array(z.string()),
        draining_since: z.record(z.string(), z.string()),
      }),
    )
    .optional(),
});

export async function readState(file: string): Promise<StateSnapshot> {
  const text = await fs.readFile(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not a nat64-health state file: ${(err as Error).message}`);
  }
  const parsed = stateFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file} is not a nat64-health state file: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return data as StateSnapshot; // as written (the schema's output would reorder the keys `status --json` prints)
}

export interface RestoredSelection {
  /** canonical prefix ids that were active and are still configured */
  active: string[];
  /** canonical prefix id -> when its drain began, never later than now */
  draining: Record<string, number>;
  /** what was left out or changed, one line each, for the log */
  dropped: string[];
}

/**
 * The selection a restart continues from. Every prefix is canonicalised with the config's own parser
 * (so another spelling of a prefix is that prefix), anything that is not a well-formed prefix or
 * time is dropped, and a drain that claims to have begun in the future begins now. Pure.
 */
export function restoredSelection(
  previous: { prefixes: Array<Pick<PrefixStatus, 'prefix' | 'active'>>; draining_since?: Record<string, string> },
  configured: ReadonlySet<string>,
  now: number,
): RestoredSelection {
  const dropped: string[] = [];
  const canonical = (text: string, what: string): string | null => {
    try {
      return parsePrefix(text).text;
    } catch (err) {
      dropped.push(`${what} ${JSON.stringify(text)}: ${(err as Error).message}`);
      return null;
    }
  };
  const active = new Set<string>();
  for (const p of previous.prefixes.filter((x) => x.active)) {
    const id = canonical(p.prefix, 'active prefix');
    if (id !== null && configured.has(id)) active.add(id);
  }
  const draining: Record<string, number> = {};
  for (const [key, since] of Object.entries(previous.draining_since ?? {})) {
    const id = canonical(key, 'draining prefix');
    if (id === null) continue;
    let t = Date.parse(since);
    if (!Number.isFinite(t)) {
      dropped.push(`draining prefix ${id}: ${JSON.stringify(since)} is not a time`);
      continue;
    }
    if (t > now) {
      dropped.push(`draining prefix ${id}: began ${since}, in the future; draining from now`);
      t = now;
    }
    if (!active.has(id)) draining[id] = Math.min(t, draining[id] ?? t);
  }
  // No more drains than prefixes a config may hold: each one is a dns64 block in named.conf.
  const ids = Object.keys(draining);
  if (ids.length > MAX_PREFIXES) {
    ids.sort((a, b) => draining[b]! - draining[a]!); // keep the most recent
    for (const id of ids.slice(MAX_PREFIXES)) delete draining[id];
    dropped.push(`${ids.length - MAX_PREFIXES} drains beyond the ${MAX_PREFIXES} most recent`);
  }
  return { active: [...active], draining, dropped };
}
