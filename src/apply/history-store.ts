// The apply history on disk: `history/TARGET.json` in the state file's folder, one file per target,
// replaced atomically on each entry (apply-history.ts decides what goes in). The daemon's writer
// never lets the history stop or delay an apply: a file it cannot read is set aside as
// TARGET.json.bad (replacing an older one) and a fresh history begins; a failed write is logged.
import fs from 'node:fs/promises';
import { writeFileAtomic } from '../lib/files.js';
import { errorMessage } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import type { ApplyReport } from './runner.js';
import {
  addEntry,
  entryAt,
  formatHistory,
  historyEntry,
  HistoryFileError,
  historyFile,
  MAX_HISTORY_BYTES,
  newestFirst,
  nextId,
  parseHistory,
  type HistoryEntry,
} from './history.js';

/**
 * The entries of one target's file, oldest first; no file: none. What is not a history throws
 * HistoryFileError; a file that cannot be read at all (permissions) throws the system's error.
 */
export async function readHistory(dir: string, target: string): Promise<HistoryEntry[]> {
  const file = historyFile(dir, target);
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_HISTORY_BYTES) throw new HistoryFileError(`${file}: larger than ${MAX_HISTORY_BYTES} bytes`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseHistory(text, file, target);
}

interface TargetHistory {
  entries: HistoryEntry[];
  /** false: its bad file could not be set aside, so nothing is written over it */
  writable: boolean;
  /** writes of this file, one at a time and in order */
  queue: Promise<void>;
}

/** What the status page reads: the daemon's histories, in memory. */
export interface ApplyHistoryView {
  /** every loaded target's entries, newest first */
  all(): HistoryEntry[];
  find(target: string, id: number): HistoryEntry | undefined;
  /** the entry of the state file's apply (target, at) */
  entryFor(target: string, at: string): HistoryEntry | undefined;
}

/** The daemon's apply history: loaded once per file, then kept in memory and written on each entry. */
export class ApplyHistoryStore implements ApplyHistoryView {
  /** by file path: a config reload may move the state folder */
  private readonly files = new Map<string, Promise<TargetHistory>>();
  /** the same, once read */
  private readonly ready = new Map<string, TargetHistory>();
  /** configured target -> its file */
  private current = new Map<string, string>();
  private pending = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  /** Loads the targets' files of `dir` (at the start and after a config reload); never throws. */
  async use(dir: string, targets: string[]): Promise<void> {
    this.current = new Map(targets.map((t) => [t, historyFile(dir, t)]));
    await Promise.all(targets.map((t) => this.load(dir, t)));
  }

  private load(dir: string, target: string): Promise<TargetHistory> {
    const file = historyFile(dir, target);
    let h = this.files.get(file);
    if (!h) {
      h = this.open(dir, target, file).then((loaded) => {
        this.ready.set(file, loaded);
        return loaded;
      });
      this.files.set(file, h);
    }
    return h;
  }

  private async open(dir: string, target: string, file: string): Promise<TargetHistory> {
    try {
      return { entries: await readHistory(dir, target), writable: true, queue: Promise.resolve() };
    } catch (err) {
      const aside = `${file}.bad`;
      const writable = await fs.rename(file, aside).then(
        () => true,
        () => false,
      );
      this.log.error(
        writable
          ? 'apply history file unreadable; kept aside, starting a fresh history'
          : 'apply history file unreadable and cannot be set aside; not writing this history',
        { file, error: errorMessage(err), ...(writable ? { kept_as: aside } : {}) },
      );
      return { entries: [], writable, queue: Promise.resolve() };
    }
  }

  /** Adds the entry for one apply and writes the file in the background; never throws. */
  record(dir: string, keep: number, report: ApplyReport): void {
    if (keep <= 0) return;
    const file = historyFile(dir, report.target);
    this.current.set(report.target, file);
    const work = this.load(dir, report.target).then((h) => {
      h.entries = addEntry(h.entries, historyEntry(report, nextId(h.entries)), keep);
      if (!h.writable) return;
      const text = formatHistory(report.target, h.entries);
      h.queue = h.queue.then(() =>
        writeFileAtomic(file, text).catch((err: unknown) =>
          this.log.warn('cannot write the apply history', { file, error: errorMessage(err) }),
        ),
      );
      return h.queue;
    });
    const done = work.catch((err: unknown) =>
      this.log.error('apply history failed', { file, error: errorMessage(err) }),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /** Resolves when every entry recorded so far is written (stop, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private loaded(target: string): HistoryEntry[] {
    const file = this.current.get(target);
    return (file && this.ready.get(file)?.entries) || [];
  }

  all(): HistoryEntry[] {
    return [...this.current.keys()].flatMap((t) => this.loaded(t)).sort(newestFirst);
  }

  find(target: string, id: number): HistoryEntry | undefined {
    return this.loaded(target).find((e) => e.id === id);
  }

  entryFor(target: string, at: string): HistoryEntry | undefined {
    return entryAt(this.loaded(target), at);
  }
}
