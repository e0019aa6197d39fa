// Per-prefix health with rise/fall hysteresis. Pure: the caller passes the clock.
import type { PrefixVerdict } from './evaluate.js';

export type HealthStatus = 'unknown' | 'up' | 'down';

export interface PrefixHealth {
  id: string;
  status: HealthStatus;
  /** consecutive good rounds (reset by a bad one) */
  good_streak: number;
  bad_streak: number;
  /** smoothed (EWMA) latency of good rounds, ms */
  latency_ms: number | null;
  /** probes counted and probes answered in each of the last `loss_window` rounds, oldest first */
  recent: Array<{ counted: number; answered: number }>;
  since: number | null;
  last_round: PrefixVerdict | null;
}

export interface HealthSettings {
  rise: number;
  fall: number;
  latency_alpha: number;
  loss_window: number;
}

export interface Transition {
  id: string;
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
}

export function initialHealth(id: string): PrefixHealth {
  return {
    id,
    status: 'unknown',
    good_streak: 0,
    bad_streak: 0,
    latency_ms: null,
    recent: [],
    since: null,
    last_round: null,
  };
}

/**
 * The share of probes through the prefix that got no answer over the last `loss_window` rounds
 * (targets blamed for a round are not counted in it); null before any probe was counted.
 */
export function lossRatio(h: Pick<PrefixHealth, 'recent'>): number | null {
  let counted = 0;
  let answered = 0;
  for (const r of h.recent) {
    counted += r.counted;
    answered += r.answered;
  }
  return counted === 0 ? null : (counted - answered) / counted;
}

/**
 * One round's verdict applied to one prefix. From `unknown` (start, or a newly configured prefix)
 * the first verdict decides: there is no history to be hysteretic about. After that a prefix goes
 * down after `fall` consecutive bad rounds and up after `rise` consecutive good ones.
 */
export function advanceHealth(
  prev: PrefixHealth,
  verdict: PrefixVerdict,
  settings: HealthSettings,
  now: number,
): { next: PrefixHealth; transition?: Transition } {
  const good_streak = verdict.good ? prev.good_streak + 1 : 0;
  const bad_streak = verdict.good ? 0 : prev.bad_streak + 1;
  const latency_ms =
    verdict.good && verdict.latency_ms !== null
      ? prev.latency_ms === null
        ? verdict.latency_ms
        : prev.latency_ms + settings.latency_alpha * (verdict.latency_ms - prev.latency_ms)
      : prev.latency_ms;

  let status = prev.status;
  if (prev.status === 'unknown') status = verdict.good ? 'up' : 'down';
  else if (prev.status === 'up' && bad_streak >= settings.fall) status = 'down';
  else if (prev.status === 'down' && good_streak >= settings.rise) status = 'up';

  const recent = [...prev.recent, { counted: verdict.counted, answered: verdict.answered }].slice(
    -settings.loss_window,
  );
  const next: PrefixHealth = {
    ...prev,
    status,
    good_streak,
    bad_streak,
    latency_ms,
    recent,
    last_round: verdict,
    since: status !== prev.status ? now : prev.since,
  };
  if (status === prev.status) return { next };
  return {
    next,
    transition: {
      id: prev.id,
      from: prev.status,
      to: status,
      reason: describe(verdict, prev.status, status, settings),
    },
  };
}

function describe(v: PrefixVerdict, from: HealthStatus, to: HealthStatus, settings: HealthSettings): string {
  const counts = `${v.answered}/${v.counted} targets answered, ${v.required} needed`;
  if (to === 'up')
    return from === 'unknown' ? `first round good (${counts})` : `${settings.rise} good rounds in a row (${counts})`;
  const why = v.failures.map((f) => `${f.probe}: ${f.error}`).join('; ');
  const head = from === 'unknown' ? 'first round bad' : `${settings.fall} bad rounds in a row`;
  return `${head} (${counts}${why ? `; ${why}` : ''})`;
}

/** Failing (up, with bad rounds) or recovering (down, with good rounds) prefixes are re-checked fast. */
export function wantsFastRecheck(h: PrefixHealth): boolean {
  return (
    h.status === 'unknown' || (h.status === 'up' && h.bad_streak > 0) || (h.status === 'down' && h.good_streak > 0)
  );
}
