// The shell around nextDiscovery(): asks each due source (src/lib/ipv4only.ts), keeps the state
// per source and logs what appeared and disappeared. The daemon refreshes in the background; the
// one-shot commands once before their round.
import type { Config, DiscoverSource } from '../config/load.js';
import { MAX_PREFIXES } from '../config/schema.js';
import { errorMessage } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import { askIpv4only, type Ipv4onlyAnswer, type Ipv4onlyQuery } from '../lib/ipv4only.js';
import { initialDiscovery, nextDiscovery, type DiscoveryResult, type DiscoveryState } from './discovery.js';
import { withDiscovered } from './prefixes.js';
import { restoredDiscovery } from './restore.js';

export type Asker = (q: Ipv4onlyQuery) => Promise<Ipv4onlyAnswer>;

/** A source's state as the state file and `status` show it. */
export interface DiscoveryStatus {
  source: string;
  name: string;
  group: string | null;
  prefixes: string[];
  answered_at: string | null;
  next_at: string;
  error: string | null;
  kept_until: string | null;
}

export class Discovery {
  private states = new Map<string, DiscoveryState>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly ask: Asker = askIpv4only,
  ) {}

  /** Asks every due source, all at once. True when some source's set changed. */
  async refresh(sources: readonly DiscoverSource[]): Promise<boolean> {
    let changed = false;
    // a source no longer configured takes its prefixes with it (they drain like removed ones)
    for (const [id, state] of this.states)
      if (!sources.some((x) => x.id === id)) {
        this.states.delete(id);
        changed ||= state.prefixes.length > 0;
      }
    const due = sources.filter((source) => (this.states.get(source.id)?.next_at ?? -Infinity) <= this.now());
    const results = await Promise.all(due.map((source) => this.query(source)));
    due.forEach((source, i) => {
      const prev = this.states.get(source.id) ?? initialDiscovery(this.now());
      const step = nextDiscovery(prev, results[i]!, this.now(), source.settings);
      this.states.set(source.id, step.state);
      this.report(source, prev.error, step.state, step.appeared, step.disappeared);
      changed ||= step.appeared.length > 0 || step.disappeared.length > 0;
    });
    return changed;
  }

  private async query(source: DiscoverSource): Promise<DiscoveryResult> {
    const { server, port, timeout } = source;
    try {
      return { ok: true, ...(await this.ask({ server, port, timeout })) };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  /**
   * What changed is logged at info or warn: the set, the first failure, a different error, the
   * end of a failure. A source that keeps failing the same way is retried often (min_refresh), so
   * the repeats go to debug; status, the state file and the metrics show it all along.
   */
  private report(
    source: DiscoverSource,
    prevError: string | null,
    state: DiscoveryState,
    appeared: string[],
    disappeared: string[],
  ) {
    const next_in_s = Math.round((state.next_at - this.now()) / 1000);
    const fields = { source: source.id, prefixes: state.prefixes, appeared, disappeared, next_in_s };
    if (state.error === null) {
      if (appeared.length || disappeared.length) this.log.info(`discovered prefixes from ${source.id}`, fields);
      else if (prevError !== null)
        this.log.info(`discovery from ${source.id} answers again`, { ...fields, was: prevError });
      else this.log.debug(`discovery from ${source.id}: unchanged`, fields);
      return;
    }
    const kept =
      state.kept_until === null ? '' : `; keeping the last set until ${new Date(state.kept_until).toISOString()}`;
    const gone = disappeared.length ? '; the last set is no longer kept, its prefixes leave (they drain)' : '';
    const news = prevError !== state.error || disappeared.length > 0;
    this.log[news ? 'warn' : 'debug'](`discovery from ${source.id} ${news ? 'failed' : 'still fails'}${kept}${gone}`, {
      ...fields,
      error: state.error,
    });
  }

  /**
   * After a restart: the previous run's sets (state file), so a resolver that does not answer now
   * keeps them until `keep` after their answer, as if the daemon had not restarted (restoredDiscovery,
   * which `maintenance` reads the state file with too). Hands back what was dropped, for the log.
   */
  restore(previous: unknown, sources: readonly DiscoverSource[]): string[] {
    const { states, dropped } = restoredDiscovery(previous, sources, this.now());
    for (const [id, state] of states) this.states.set(id, state);
    return dropped;
  }

  /** Source id -> its discovered prefixes now. */
  sets(): Map<string, string[]> {
    return new Map([...this.states].map(([id, s]) => [id, s.prefixes]));
  }

  /** The config with the discovered prefixes added; what cannot be added is logged. */
  apply(config: Config): Config {
    const r = withDiscovered(config, this.sets());
    if (r.left_out.length)
      this.log.warn('too many prefixes: discovered ones left out', { left_out: r.left_out, limit: MAX_PREFIXES });
    return r.config;
  }

  status(sources: readonly DiscoverSource[]): DiscoveryStatus[] {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return sources.map((src) => {
      const state = this.states.get(src.id) ?? initialDiscovery(this.now());
      return {
        source: src.id,
        name: src.name,
        group: src.group,
        prefixes: state.prefixes,
        answered_at: iso(state.answered_at),
        next_at: new Date(state.next_at).toISOString(),
        error: state.error,
        kept_until: iso(state.kept_until),
      };
    });
  }
}
