// The maintenance file: prefixes an operator took out of the active set (select.ts, rule 6). It lives
// beside the state file; the CLI writes it and the running daemon watches it, so whoever may write
// the state directory may change maintenance - no network port is involved. The file holds only
// maintenance in force: every write drops what has ended (its `until` has come), and the daemon
// rewrites it when an `until` comes. Both change it only while holding its lock file (O_EXCL), so
// a read-modify-write of the CLI and one of the daemon never interleave.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { parseDuration } from '../config/duration.js';
import { parsePrefix, PrefixError } from '../lib/prefix.js';
import { writeFileAtomic } from '../lib/files.js';
import { LockHeldError, waitForLock, type HeldLock } from '../lib/lock.js';
import { inMaintenance, type Maintenance } from '../select/select.js';

export const MAINTENANCE_FILE_NAME = 'maintenance.json';
const MAX_REASON = 200;
const MAX_BYTES = 64 * 1024;

/** The maintenance file of a daemon: in its state file's folder. */
export function maintenanceFile(stateFile: string): string {
  return path.join(path.dirname(stateFile), MAINTENANCE_FILE_NAME);
}

export interface MaintenanceEntry extends Maintenance {
  /** when it was put into maintenance, ms since the epoch */
  since: number;
}

/** canonical prefix id -> its maintenance */
export type MaintenanceSet = ReadonlyMap<string, MaintenanceEntry>;

export class MaintenanceFileError extends Error {}

const time = z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'expected an ISO 8601 time' });
const schema = z.strictObject({
  version: z.literal(1),
  prefixes: z.record(
    z.string(),
    z.strictObject({
      reason: z
        .string()
        .max(MAX_REASON)
        .regex(/^[^\n\r]*$/, 'one line'),
      since: time,
      until: time.nullable(),
    }),
  ),
});

/** Parses the file's text; every problem names the file and the field. Pure. */
export function parseMaintenance(text: string, file: string): Map<string, MaintenanceEntry> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new MaintenanceFileError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MaintenanceFileError(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const out = new Map<string, MaintenanceEntry>();
  for (const [key, e] of Object.entries(parsed.data.prefixes)) {
    let id: string;
    try {
      id = parsePrefix(key).text;
    } catch (err) {
      const message = err instanceof PrefixError ? err.message : String(err);
      throw new MaintenanceFileError(`${file}: prefixes.${key}: ${message}`);
    }
    if (out.has(id)) throw new MaintenanceFileError(`${file}: prefixes.${key}: ${id} is listed twice`);
    out.set(id, { reason: e.reason, since: Date.parse(e.since), until: e.until === null ? null : Date.parse(e.until) });
  }
  return out;
}

/** The file's maintenance; no file: none. */
export async function readMaintenance(file: string): Promise<Map<string, MaintenanceEntry>> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_BYTES) throw new MaintenanceFileError(`${file}: larger than ${MAX_BYTES} bytes`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err instanceof MaintenanceFileError ? err : new MaintenanceFileError(`${file}: ${(err as Error).message}`);
  }
  return parseMaintenance(text, file);
}

export function formatMaintenance(set: MaintenanceSet): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const prefixes = Object.fromEntries(
    [...set].map(([id, e]) => [
      id,
      { reason: e.reason, since: iso(e.since), until: e.until === null ? null : iso(e.until) },
    ]),
  );
  return JSON.stringify({ version: 1, prefixes }, null, 2) + '\n';
}

/** Writes the entries in force at `now` (ended ones are dropped: the file stays small). Hold the lock. */
export async function writeMaintenance(file: string, set: MaintenanceSet, now: number): Promise<void> {
  await writeFileAtomic(file, formatMaintenance(maintenanceInForce(set, now)));
}

export function maintenanceLockFile(file: string): string {
  return `${file}.lock`;
}

export type Locked<T> = { ok: true; value: T } | { ok: false; holder: string };

/**
 * Runs `fn` holding the maintenance file's lock (lib/lock.ts: flock, let go by the kernel when its
 * process dies, so a crashed holder leaves nothing to break). When another holds it, waits for up
 * to `waitMs` (0: not at all) and then hands back who holds it.
 */
export async function withMaintenanceLock<T>(file: string, waitMs: number, fn: () => Promise<T>): Promise<Locked<T>> {
  const lockFile = maintenanceLockFile(file);
  await fs.mkdir(path.dirname(file), { recursive: true });
  let lock: HeldLock;
  try {
    lock = await waitForLock(lockFile, waitMs);
  } catch (err) {
    if (err instanceof LockHeldError) return { ok: false, holder: `${lockFile} (pid ${err.pid ?? '?'})` };
    throw err;
  }
  try {
    return { ok: true, value: await fn() };
  } finally {
    lock.release();
  }
}

/** The entries in force at `now` (an `until` that has come ends it). */
export function maintenanceInForce(set: MaintenanceSet, now: number): Map<string, MaintenanceEntry> {
  return new Map([...set].filter(([, e]) => inMaintenance(e, now)));
}

/** `--until`: an ISO 8601 time or a duration from now ("2h"); it must lie in the future. */
export function parseUntil(text: string, now: number): number {
  const relative = /^\s*\d/.test(text) && !/^\s*\d{4}-/.test(text) ? parseDuration(text) : null;
  const at = typeof relative === 'number' ? now + relative : Date.parse(text);
  if (!Number.isFinite(at))
    throw new MaintenanceFileError(
      `--until ${JSON.stringify(text)}: expected a time such as 2026-12-01T18:00:00Z or a duration such as 2h`,
    );
  if (at <= now) throw new MaintenanceFileError(`--until ${text}: that time has passed`);
  return at;
}

/** As the state file shows it. */
export function maintenanceStatus(e: MaintenanceEntry): MaintenanceStatus {
  return {
    reason: e.reason,
    since: new Date(e.since).toISOString(),
    until: e.until === null ? null : new Date(e.until).toISOString(),
  };
}

export interface MaintenanceStatus {
  reason: string;
  since: string;
  /** null: until `maintenance off` */
  until: string | null;
}
