// The daemon's view of the maintenance file (maintenance.ts): polled, re-read every round, pruned
// when an `until` has come, and every change logged once. A malformed file is logged once and
// changes nothing: the last good maintenance stays.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../lib/log.js';
import { inMaintenance } from '../select/select.js';
import {
  maintenanceFile,
  maintenanceInForce,
  readMaintenance,
  withMaintenanceLock,
  writeMaintenance,
  type MaintenanceEntry,
} from './maintenance.js';

/** how often the maintenance file is looked at (see start) */
const MAINTENANCE_POLL_MS = 1000;

export class MaintenancePoller {
  /** the last good file's entries (a malformed file leaves them as they are) */
  private entries = new Map<string, MaintenanceEntry>();
  private text: string | null = null;
  private readError: string | null = null;
  private pruneError: string | null = null;
  /** the prefixes whose maintenance held in the last round (to log an `until` that has come) */
  private heldLastRound = new Set<string>();
  private watcher: FSWatcher | null = null;
  private file: string;

  constructor(
    stateFile: string,
    private readonly log: Logger,
    private readonly now: () => number,
    /** the file changed (the next round should start now) */
    private readonly changed: () => void,
  ) {
    this.file = maintenanceFile(stateFile);
  }

  /**
   * `nat64-health maintenance` writes the file: the next round starts within a second and takes it
   * into account. Polled (one stat a second), not watched: the file lives beside the state file,
   * which is rewritten about once a second, and watching a file that may not exist means watching
   * its folder, whose every change chokidar answers by listing and stat-ing the folder (~15% of the
   * fast profile's CPU, docs/benchmarks.md). The command writes it atomically (rename).
   */
  start(): void {
    this.watcher = watch(this.file, { ignoreInitial: true, usePolling: true, interval: MAINTENANCE_POLL_MS });
    this.watcher.on('all', () => this.changed());
    this.watcher.on('error', (err) => this.log.warn('maintenance watcher error', { error: String(err) }));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }

  /** The state file moved to another folder (config reload): poll the maintenance file there. */
  moveTo(stateFile: string): void {
    const file = maintenanceFile(stateFile);
    if (file === this.file) return;
    void this.watcher?.close();
    this.file = file;
    this.text = null;
    this.start();
  }

  /** The entries in force at `now`. */
  inForce(now: number): Map<string, MaintenanceEntry> {
    return maintenanceInForce(this.entries, now);
  }

  /** The entries in force for a round at `now`; logs the ones whose `until` came since the last round. */
  forRound(now: number): Map<string, MaintenanceEntry> {
    const held = this.inForce(now);
    for (const id of this.heldLastRound)
      if (!held.has(id) && this.entries.has(id)) this.log.info(`prefix ${id}: maintenance ended (--until)`);
    this.heldLastRound = new Set(held.keys());
    return held;
  }

  /**
   * Re-reads the file (every round: cheap, and it also covers a missed poll).
   * `configured`: whether a prefix is in the config, for the log line.
   */
  async refresh(configured: (id: string) => boolean): Promise<void> {
    const file = this.file;
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text === this.text) return;
    let next: Map<string, MaintenanceEntry>;
    try {
      next = await readMaintenance(file);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.readError)
        this.log.error('maintenance file rejected; keeping the previous maintenance', { file, error: message });
      this.readError = message;
      return;
    }
    this.text = text;
    this.readError = null;
    for (const [id, e] of next)
      if (!this.entries.has(id))
        this.log.info(`prefix ${id} put into maintenance`, {
          reason: e.reason,
          until: e.until === null ? null : new Date(e.until).toISOString(),
          configured: configured(id),
        });
    const now = this.now();
    for (const [id, e] of this.entries)
      // an entry that had ended was dropped from the file (prune): its end is logged already
      if (!next.has(id) && inMaintenance(e, now)) this.log.info(`prefix ${id} taken out of maintenance`);
    this.entries = next;
  }

  /**
   * Drops the entries whose `until` has come from the file, so it holds only maintenance in force.
   * Under the file's lock and from the file as it is now (not the entries read before), so a change
   * the CLI just made is kept; when the CLI holds the lock, a later round tries again.
   */
  async prune(): Promise<void> {
    const now = this.now();
    if (this.readError !== null || [...this.entries.values()].every((e) => inMaintenance(e, now))) return;
    const file = this.file;
    try {
      const r = await withMaintenanceLock(file, 0, async () => {
        const set = await readMaintenance(file);
        const ended = [...set].filter(([, e]) => !inMaintenance(e, now)).map(([id]) => id);
        if (ended.length > 0) await writeMaintenance(file, set, now);
        return ended;
      });
      if (r.ok && r.value.length > 0)
        this.log.info('maintenance file: dropped the ended entries', { file, ended: r.value });
      this.pruneError = null;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.pruneError)
        this.log.warn('cannot drop the ended entries from the maintenance file', { file, error: message });
      this.pruneError = message;
    }
  }
}
