// Latency of the last hour per prefix, for the status page's charts. In memory only, fed from the
// daemon's snapshots; a fixed-size ring buffer per prefix keeps it bounded whatever the round rate.

export interface HistoryPoint {
  /** ms since the epoch */
  t: number;
  /** the round's latency (median of the targets that answered), ms; null for a bad round */
  latency_ms: number | null;
}

export const DEFAULT_WINDOW_MS = 3_600_000;
/** one hour of one-second rounds */
export const DEFAULT_CAPACITY = 3_600;

/** A fixed-capacity ring of (time, latency) pairs; NaN marks a bad round. */
class Ring {
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }

  push(t: number, v: number): void {
    const i = (this.start + this.size) % this.capacity;
    this.t[i] = t;
    this.v[i] = v;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
  }

  get length(): number {
    return this.size;
  }

  lastTime(): number | null {
    return this.size === 0 ? null : this.t[(this.start + this.size - 1) % this.capacity]!;
  }

  points(since: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    for (let k = 0; k < this.size; k++) {
      const i = (this.start + k) % this.capacity;
      const t = this.t[i]!;
      if (t < since) continue;
      const v = this.v[i]!;
      out.push({ t, latency_ms: Number.isNaN(v) ? null : v });
    }
    return out;
  }
}

export class LatencyHistory {
  private readonly rings = new Map<string, Ring>();

  constructor(
    readonly windowMs = DEFAULT_WINDOW_MS,
    readonly capacity = DEFAULT_CAPACITY,
  ) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  /** Records one round for a prefix. Rounds out of time order (a clock step back) restart its history. */
  record(prefix: string, t: number, latency_ms: number | null): void {
    let ring = this.rings.get(prefix);
    const last = ring?.lastTime();
    if (!ring || (last != null && t < last)) {
      ring = new Ring(this.capacity);
      this.rings.set(prefix, ring);
    }
    ring.push(t, latency_ms == null || !Number.isFinite(latency_ms) ? Number.NaN : latency_ms);
  }

  /** Forgets prefixes that are no longer configured. */
  retain(prefixes: Iterable<string>): void {
    const keep = new Set(prefixes);
    for (const id of this.rings.keys()) if (!keep.has(id)) this.rings.delete(id);
  }

  /** Points of the last window (oldest first) relative to `now`. */
  points(prefix: string, now: number): HistoryPoint[] {
    return this.rings.get(prefix)?.points(now - this.windowMs) ?? [];
  }

  size(prefix: string): number {
    return this.rings.get(prefix)?.length ?? 0;
  }

  prefixes(): string[] {
    return [...this.rings.keys()];
  }
}
