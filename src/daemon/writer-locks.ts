// One writer: the locks `run` holds while it may write - one beside the state file (its history and
// maintenance pruning go with it) and one beside each local output - so that a second `run` on the
// same state file or output is refused before it writes anything. flock(2) locks (lib/lock.ts):
// the kernel drops them when the process dies, so a kill -9 leaves no stale lock. A lock file that
// is removed (its directory with it) or replaced is taken again, since a lock on a file nobody
// else can open any more excludes nobody.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { targetsOf } from '../apply/fleet.js';
import { LockHeldError, takeLock, type HeldLock } from '../lib/lock.js';
import type { Logger } from '../lib/log.js';

/** `state.json` -> `state.json.lock` */
export function stateLockFile(stateFile: string): string {
  return `${stateFile}.lock`;
}

/** `/dir/dns64.conf` -> `/dir/.dns64.conf.nat64-health.lock` (not a temp name: the sweep keeps it) */
export function outputLockFile(output: string): string {
  return path.join(path.dirname(output), `.${path.basename(output)}.nat64-health.lock`);
}

interface Wanted {
  file: string;
  /** what it guards, for messages */
  what: string;
  /** create the directory first (an include file's directory; the first apply would create it too) */
  mkdir: boolean;
}

/** The lock files a config's `run` holds. */
export function lockFilesOf(config: Pick<Config, 'state_file' | 'targets' | 'bind'>): Wanted[] {
  const wanted: Wanted[] = [{ file: stateLockFile(config.state_file), what: config.state_file, mkdir: true }];
  if (targetsOf(config).some((t) => t.kind === 'local'))
    wanted.push({
      file: outputLockFile(config.bind.output),
      what: config.bind.output,
      mkdir: config.bind.mode === 'include',
    });
  return wanted;
}

/** Another process holds one of the locks: a second writer of the same files. */
export class SecondWriterError extends Error {
  constructor(
    readonly lock: LockHeldError,
    readonly guards: string,
  ) {
    const holder = lock.pid === null ? 'another process' : `PID ${lock.pid}`;
    super(
      `another nat64-health run (${holder}) holds ${lock.file}, the lock of ${guards}; ` +
        'nothing changed (one daemon per state file and output)',
    );
  }
}

export class WriterLocks {
  private held = new Map<string, HeldLock>();
  /** the lock files of the config in use */
  private wanted: Wanted[] = [];
  /** lock files whose failure was logged (said once until it works) */
  private failing = new Set<string>();

  constructor(private readonly log: Logger) {}

  /**
   * Holds the locks of `config`, and only those. Throws SecondWriterError when another process
   * holds one: then nothing changed (the locks taken for it are let go, the old ones kept). A lock
   * that cannot be taken for another reason (a read-only file system, say) is logged and tried
   * again every round (refresh); the applies report that fault on their own.
   */
  hold(config: Pick<Config, 'state_file' | 'targets' | 'bind'>): void {
    const wanted = lockFilesOf(config);
    const taken: HeldLock[] = [];
    try {
      for (const w of wanted) {
        if (this.held.has(w.file)) continue;
        const lock = this.take(w);
        if (lock) taken.push(lock);
      }
    } catch (err) {
      for (const l of taken) l.release();
      throw err;
    }
    for (const l of taken) this.held.set(l.file, l);
    const keep = new Set(wanted.map((w) => w.file));
    for (const [file, lock] of this.held)
      if (!keep.has(file)) {
        lock.release();
        this.held.delete(file);
      }
    this.wanted = wanted;
  }

  private take(w: Wanted): HeldLock | null {
    try {
      if (w.mkdir) mkdirSync(path.dirname(w.file), { recursive: true });
      const lock = takeLock(w.file);
      if (this.failing.delete(w.file)) this.log.info('lock taken', { file: w.file });
      return lock;
    } catch (err) {
      if (err instanceof LockHeldError) throw new SecondWriterError(err, w.what);
      if (!this.failing.has(w.file)) {
        this.failing.add(w.file);
        this.log.warn('cannot take the lock; trying again every round', {
          file: w.file,
          error: (err as Error).message,
        });
      }
      return null;
    }
  }

  /**
   * Every round: takes the locks that could not be taken, and again those whose file was removed
   * or replaced. Another process holding one now is logged once (an error: two writers), not thrown.
   */
  refresh(): void {
    for (const w of this.wanted) {
      const lock = this.held.get(w.file);
      if (lock?.inPlace()) continue;
      try {
        const next = this.take(w);
        if (!next) continue;
        lock?.release();
        this.held.set(w.file, next);
        if (lock) this.log.warn('lock file was removed or replaced; taken again', { file: w.file });
      } catch (err) {
        if (this.failing.has(w.file)) continue;
        this.failing.add(w.file);
        this.log.error('another process holds a lock of this daemon', { error: (err as Error).message });
      }
    }
  }

  /** the lock files held now */
  get files(): string[] {
    return [...this.held.keys()];
  }

  release(): void {
    for (const l of this.held.values()) l.release();
    this.held.clear();
    this.wanted = [];
  }
}
