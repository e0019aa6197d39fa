// The loop's one wake-up path: everything that concerns the next round arrives here as a typed
// event (consul-template's runner is the model: one select over typed events). The loop sleeps in
// wait() until the round is due or an event that must not wait arrives, then takes all events at
// once and handles them between rounds, so none of them ever races an apply.

export type WakeEvent =
  /** re-read the configuration (SIGHUP, `systemctl reload`, a watched file changed) */
  | 'reload'
  /** the maintenance file changed */
  | 'maintenance'
  /** a background discovery changed the discovered set: counts from the next round, wakes nothing */
  | 'discovered'
  /** stop after the round in flight */
  | 'stop';

/** Events that end the sleep between rounds; the others wait for the round that is due anyway. */
const WAKES: ReadonlySet<WakeEvent> = new Set(['reload', 'maintenance', 'stop']);

export class WakeQueue {
  private pending = new Set<WakeEvent>();
  private wakeUp: (() => void) | null = null;

  post(event: WakeEvent): void {
    this.pending.add(event);
    if (WAKES.has(event)) this.wakeUp?.();
  }

  /** Whether `event` is waiting (it stays queued). */
  has(event: WakeEvent): boolean {
    return this.pending.has(event);
  }

  /** Every event posted since the last take(), in no particular order; the queue is empty after. */
  take(): Set<WakeEvent> {
    const taken = this.pending;
    this.pending = new Set();
    return taken;
  }

  /** Resolves after `ms`, or at once when an event that wakes is queued or arrives. */
  wait(ms: number): Promise<void> {
    if ([...this.pending].some((e) => WAKES.has(e))) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
