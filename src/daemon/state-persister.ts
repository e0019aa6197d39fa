// The state file's writer: snapshots are written one at a time and in order (rounds and background
// applies both publish), each one handed to the hooks (systemd status, metrics, status page).
import { setCondition } from '../core/condition.js';
import type { Logger } from '../lib/log.js';
import { stateWriteDue, writeState, type StateSnapshot, type StateWriteMemo } from './state-file.js';

/** unchanged snapshots are written at most this often (stateWriteDue) */
export const STATE_HEARTBEAT_MS = 1000;

export interface Publish {
  /** the snapshot's one-line summary (systemd STATUS=) */
  status?(text: string): void;
  /** every snapshot, after it is written */
  snapshot?(snapshot: StateSnapshot): void;
}

export class StatePersister {
  private queue: Promise<void> = Promise.resolve();
  private written: StateWriteMemo | null = null;

  constructor(
    /** where to write; null: nowhere (a dry run), the hooks still get every snapshot */
    private readonly file: (() => string) | null,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly build: (now: number) => StateSnapshot,
    private readonly publish: Publish,
    /** the name of a prefix id, for the status line */
    private readonly nameOf: (id: string) => string,
  ) {}

  /** Writes a snapshot as of `now` (or later, when others queue before it). */
  persist(now: number): Promise<void> {
    const next = this.queue.then(() => this.write(Math.max(now, this.now())));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(now: number) {
    const snapshot = this.build(now);
    const file = this.file?.();
    // every round while rounds are a second or more apart; faster ones only on change or each second
    const write = stateWriteDue(this.written, snapshot, now, STATE_HEARTBEAT_MS);
    if (file !== undefined && write.due) {
      try {
        await writeState(file, snapshot);
        this.written = write.memo;
      } catch (err) {
        this.log.warn('cannot write the state file', { file, error: (err as Error).message });
      }
    }
    this.publish.status?.(statusLine(snapshot, this.nameOf));
    this.publish.snapshot?.(snapshot);
  }
}

/** systemd's one-line status: "active: a, b", marked when the fail-safe or maintenance holds the set. */
export function statusLine(snapshot: StateSnapshot, nameOf: (id: string) => string): string {
  const names = snapshot.active.map(nameOf);
  const condition = setCondition(snapshot)?.kind;
  const mark =
    condition === 'failsafe' ? 'FAIL-SAFE ' : condition === 'all-in-maintenance' ? 'ALL IN MAINTENANCE ' : '';
  return `${mark}active: ${names.join(', ') || 'none'}`;
}
