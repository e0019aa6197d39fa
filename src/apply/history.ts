// The apply history: the last `history.keep` applies per target, each with what was written (a
// unified diff of the output file, old -> new), why, and how it ended. This module decides what an
// entry is, how one is added and trimmed, and how a history file is read back; it does no I/O
// (history-file.ts writes and reads the files). The rules:
// - An entry is kept for every apply that happened: written and reloaded, refused by
//   named-checkconf, rolled back after a failed reload, failed on the way (connect, prepare, write),
//   or reloaded again because BIND did not serve the decided set. A round that changed nothing, and
//   a dry run, leave no entry.
// - A failed apply that fails again the same way (same text, stage and error: a retry with backoff
//   of a target that is down) is counted in the entry before it (`attempts`, `last_at`), so a host
//   that stays down for a day does not push every real apply out of the history.
// - The newest `keep` entries are kept; ids count up per target and are never reused while the
//   file lives.
import path from 'node:path';
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import * as z from 'zod';
import { DEFAULT_POOL } from '../config/schema.js';
import type { ApplyOutcome, ApplyStage } from './target.js';
import type { ApplyReport, PoolSets } from './runner.js';

export const HISTORY_DIR_NAME = 'history';
/** a diff longer than this is cut (a full rewrite of 256 prefixes' blocks stays below it) */
export const MAX_DIFF_CHARS = 64 * 1024;
/** a history file larger than this is not read (keep x the longest diffs, with room to spare) */
export const MAX_HISTORY_BYTES = 128 * 1024 * 1024;

/** The history folder of a daemon: `history/` in its state file's folder. */
export function historyDir(stateFile: string): string {
  return path.join(path.dirname(stateFile), HISTORY_DIR_NAME);
}

/** One file per target; target names are labels (letters, digits, . _ : + -), safe as file names. */
export function historyFile(dir: string, target: string): string {
  return path.join(dir, `${target}.json`);
}

export type HistoryOutcome =
  'applied' | 'verify failed' | 'validation failed' | 'rolled back' | 'reload failed' | 'failed';

export interface HistoryEntry {
  /** counts up per target */
  id: number;
  /** when the apply ended (the state file's `applies[].at` of the same apply) */
  at: string;
  target: string;
  outcome: HistoryOutcome;
  /** where a failed apply stopped */
  stage?: ApplyStage;
  error?: string;
  /** the active set the target served before; null: not known (first apply since the daemon started) */
  old: string[] | null;
  /** the active set of the text applied */
  new: string[];
  draining: string[];
  /** why it was applied */
  reason: string;
  /** the selection changes of the decision that wanted this text (`pool`: a client pool's, not the default's) */
  changes: Array<{ id: string; change: string; reason: string; pool?: string }>;
  /** each pool's set before and after (the default pool last); absent without `pools:` and in older files */
  pools?: PoolSets;
  /** unified diff of the output file (old -> new; for a failed apply: what it would have written); '' same text */
  diff: string;
  /** what BIND answered after the apply; null: not asked (a failed apply, or verification off) */
  verification: { ok: boolean; detail: string; reapplied: boolean } | null;
  ms: number;
  /** a failure repeated the same way: how many times, and the last time */
  attempts?: number;
  last_at?: string;
}

/** Sorts entries of several targets newest first (by time, then id). */
export function newestFirst(a: HistoryEntry, b: HistoryEntry): number {
  return Date.parse(b.at) - Date.parse(a.at) || b.id - a.id;
}

/** How an apply ended, in the history's words. */
export function historyOutcome(
  o: Pick<ApplyOutcome, 'result' | 'stage' | 'rolled_back'>,
  verifiedOk: boolean | null,
): HistoryOutcome {
  if (o.result !== 'failed') return verifiedOk === false ? 'verify failed' : 'applied';
  if (o.stage === 'validate') return 'validation failed';
  if (o.stage === 'reload') return o.rolled_back ? 'rolled back' : 'reload failed';
  return 'failed';
}

/** Unified diff of `before` -> `after` with file headers ('' when they are the same), cut at `max` chars. */
export function unifiedDiff(file: string, before: string | null, after: string, max = MAX_DIFF_CHARS): string {
  const patch = structuredPatch(file, file, before ?? '', after, before === null ? '(no file)' : 'before', 'after', {
    context: 3,
  });
  if (patch.hunks.length === 0) return '';
  const text = formatPatch(patch, FILE_HEADERS_ONLY);
  if (text.length <= max) return text;
  const cut = text.lastIndexOf('\n', max) + 1;
  return `${text.slice(0, cut)}... (diff cut at ${max} characters; ${text.length - cut} more)\n`;
}

/** The entry for one apply the runner reports. Pure. */
export function historyEntry(report: ApplyReport, id: number): HistoryEntry {
  const o = report.outcome;
  const v = report.verification;
  const file = report.text.file ?? '(rendered text)';
  return {
    id,
    at: report.at,
    target: report.target,
    outcome: historyOutcome(o, v ? v.ok : null),
    ...(o.stage !== undefined && o.result === 'failed' ? { stage: o.stage } : {}),
    ...(o.error !== undefined ? { error: o.error } : {}),
    old: report.old && [...report.old],
    new: [...report.new],
    draining: [...report.draining],
    reason: report.reason,
    changes: report.changes.map((c) => ({ ...c })),
    ...(report.pools ? { pools: copyPoolSets(report.pools) } : {}),
    diff: unifiedDiff(file, report.text.before, report.text.after),
    verification: v && { ok: v.ok, detail: v.detail, reapplied: v.reapplied },
    ms: Math.round(o.ms),
  };
}

function copyPoolSets(pools: PoolSets): PoolSets {
  return Object.fromEntries(
    Object.entries(pools).map(([name, s]) => [name, { old: s.old && [...s.old], new: [...s.new] }]),
  );
}

const FAILED: ReadonlySet<HistoryOutcome> = new Set(['validation failed', 'rolled back', 'reload failed', 'failed']);

/** The same failure again: same outcome, stage, error, set and text. */
function sameFailure(a: HistoryEntry, b: HistoryEntry): boolean {
  return (
    FAILED.has(a.outcome) &&
    a.outcome === b.outcome &&
    a.stage === b.stage &&
    a.error === b.error &&
    a.diff === b.diff &&
    a.new.join() === b.new.join()
  );
}

/** The next id of a history: one past its newest. */
export function nextId(entries: readonly HistoryEntry[]): number {
  return (entries.at(-1)?.id ?? 0) + 1;
}

/** The history with `entry` added (a repeated failure counted in the last entry), trimmed to `keep`. Pure. */
export function addEntry(entries: readonly HistoryEntry[], entry: HistoryEntry, keep: number): HistoryEntry[] {
  const last = entries.at(-1);
  const next =
    last && sameFailure(last, entry)
      ? [...entries.slice(0, -1), { ...last, attempts: (last.attempts ?? 1) + 1, last_at: entry.at }]
      : [...entries, entry];
  return keep > 0 ? next.slice(-keep) : [];
}

/** The entry an apply of the state file (target, at) belongs to: its own, or the repeated failure counting it. */
export function entryAt(entries: readonly HistoryEntry[], at: string): HistoryEntry | undefined {
  const t = Date.parse(at);
  return entries.find((e) => e.at === at || (e.last_at && Date.parse(e.at) <= t && t <= Date.parse(e.last_at)));
}

export class HistoryFileError extends Error {}

const time = z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'expected an ISO 8601 time' });
const prefixList = z.array(z.string());
const entrySchema = z.looseObject({
  id: z.number().int().min(1),
  at: time,
  target: z.string(),
  outcome: z.enum(['applied', 'verify failed', 'validation failed', 'rolled back', 'reload failed', 'failed']),
  stage: z.enum(['connect', 'prepare', 'validate', 'write', 'reload']).optional(),
  error: z.string().optional(),
  old: prefixList.nullable(),
  new: prefixList,
  draining: prefixList,
  reason: z.string(),
  changes: z.array(
    z.looseObject({ id: z.string(), change: z.string(), reason: z.string(), pool: z.string().optional() }),
  ),
  pools: z.record(z.string(), z.looseObject({ old: prefixList.nullable(), new: prefixList })).optional(),
  diff: z.string(),
  verification: z.looseObject({ ok: z.boolean(), detail: z.string(), reapplied: z.boolean() }).nullable(),
  ms: z.number().min(0),
  attempts: z.number().int().min(2).optional(),
  last_at: time.optional(),
});
const fileSchema = z.looseObject({ version: z.literal(1), target: z.string(), entries: z.array(entrySchema) });

/** A history file's entries, oldest first; every problem names the file and the field. Pure. */
export function parseHistory(text: string, file: string, target: string): HistoryEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HistoryFileError(`${file}: not a nat64-health apply history: not JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(data);
  const bad = (where: string, message: string) =>
    new HistoryFileError(`${file}: not a nat64-health apply history: ${where}: ${message}`);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(issue.path.join('.') || '(top)', issue.message);
  }
  if (parsed.data.target !== target) throw bad('target', `"${parsed.data.target}", expected "${target}"`);
  const entries = parsed.data.entries as HistoryEntry[];
  entries.forEach((e, i) => {
    if (e.target !== target) throw bad(`entries.${i}.target`, `"${e.target}", expected "${target}"`);
    if (i > 0 && e.id <= entries[i - 1]!.id) throw bad(`entries.${i}.id`, `${e.id} does not count up`);
  });
  return entries;
}

export function formatHistory(target: string, entries: readonly HistoryEntry[]): string {
  return JSON.stringify({ version: 1, target, entries }, null, 1) + '\n';
}

/** What an entry changed in the set, for one column: "+A -B", "same set", or the new set when the old is unknown. */
export function setChange(e: { old: readonly string[] | null; new: readonly string[] }): string {
  if (e.old === null) return `now ${e.new.join(', ') || 'none'}`;
  const added = e.new.filter((p) => !e.old!.includes(p)).map((p) => `+${p}`);
  const removed = e.old.filter((p) => !e.new.includes(p)).map((p) => `-${p}`);
  return [...added, ...removed].join(' ') || 'same set';
}

/**
 * What an entry changed, for one column: without pools its set's change (setChange); with pools
 * each pool whose set changed or was not known ("site-a: +A -B; default: +A -B"), or "same sets".
 */
export function entrySetChange(e: Pick<HistoryEntry, 'old' | 'new' | 'pools'>): string {
  if (!e.pools) return setChange(e);
  const changed = Object.entries(e.pools)
    .map(([name, sets]) => [name, setChange(sets)])
    .filter(([, change]) => change !== 'same set');
  return changed.map(([name, change]) => `${name}: ${change}`).join('; ') || 'same sets';
}

/** The pool a selection change of an entry belongs to, for a label: null without pools (no label). */
export function changePool(e: Pick<HistoryEntry, 'pools'>, c: HistoryEntry['changes'][number]): string | null {
  return e.pools ? (c.pool ?? DEFAULT_POOL) : null;
}
