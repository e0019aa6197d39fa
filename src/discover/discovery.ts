// What the discovered set of a source is now. A pure function of the last state, the new answer
// (or failure) and the clock; the query itself is src/lib/ipv4only.ts.
//
// Rules (docs/rules.md, "Discovered prefixes (RFC 7050)"):
// 1. A usable answer - at least one AAAA record embedding 192.0.0.170 or 192.0.0.171 - replaces the
//    set: the set is exactly the answer's prefixes. The next query is due when the answer's TTL ends,
//    but never sooner than `min_refresh` nor later than `max_refresh` after it.
// 2. No usable answer (no reply, garbage, an error code, an answer without a well-known address):
//    the last set is kept until `keep` after the last usable answer, and the query is retried after
//    `min_refresh`. Then the set is empty: its prefixes leave like prefixes removed from the config
//    (they drain). Before any usable answer the set is empty.
import type { DiscoverySettings } from '../config/schema-types.js';

export interface DiscoveryState {
  /** canonical prefix texts in use, sorted */
  prefixes: string[];
  /** when the last usable answer came; null: never */
  answered_at: number | null;
  /** when to ask again */
  next_at: number;
  /** why the last query gave no usable answer; null after a usable one */
  error: string | null;
  /** while the last set is kept after failures: when it is dropped */
  kept_until: number | null;
}

export type DiscoveryResult = { ok: true; prefixes: string[]; ttl: number | null } | { ok: false; error: string };

export interface DiscoveryStep {
  state: DiscoveryState;
  appeared: string[];
  disappeared: string[];
}

const NO_WELL_KNOWN = 'the answer embeds neither 192.0.0.170 nor 192.0.0.171 (no DNS64 for this asker)';

/** A source nothing is known of yet: asked at once. */
export function initialDiscovery(now: number): DiscoveryState {
  return { prefixes: [], answered_at: null, next_at: now, error: null, kept_until: null };
}

export function nextDiscovery(
  prev: DiscoveryState,
  result: DiscoveryResult,
  now: number,
  s: DiscoverySettings,
): DiscoveryStep {
  const clamp = (ms: number) => Math.min(s.max_refresh, Math.max(s.min_refresh, ms));
  let state: DiscoveryState;
  if (result.ok && result.prefixes.length > 0) {
    const ttl = result.ttl === null ? s.min_refresh : result.ttl * 1000;
    state = {
      prefixes: [...new Set(result.prefixes)].sort(),
      answered_at: now,
      next_at: now + clamp(ttl),
      error: null,
      kept_until: null,
    };
  } else {
    const error = result.ok ? NO_WELL_KNOWN : result.error;
    const until = prev.answered_at === null ? null : prev.answered_at + s.keep;
    const keeping = until !== null && now < until && prev.prefixes.length > 0;
    state = {
      prefixes: keeping ? prev.prefixes : [],
      answered_at: prev.answered_at,
      // retry no later than the moment the kept set is dropped, so it is dropped on time
      next_at: keeping ? Math.min(now + s.min_refresh, until) : now + s.min_refresh,
      error,
      kept_until: keeping ? until : null,
    };
  }
  return {
    state,
    appeared: state.prefixes.filter((p) => !prev.prefixes.includes(p)),
    disappeared: prev.prefixes.filter((p) => !state.prefixes.includes(p)),
  };
}
