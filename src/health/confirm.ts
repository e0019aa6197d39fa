// The confirmation burst (health.confirm_burst): when to probe a failing prefix again at once, and
// what that burst counts for. Pure: the daemon sends the probes and passes the clock.
//
// Rule (docs/rules.md, "Health", states it word for word; a unit test keeps the two equal):
// With `confirm_burst`, a bad round of a prefix that is up is followed at once by a confirmation
// burst to that prefix: one set of probes to every target for each bad round still missing to
// `fall`, sent back to back so that all sets are in flight together. The burst counts only as a
// whole: when no probe of any of its sets got an answer, each set counts as one more bad round, so
// the prefix is down one `timeout` after its first bad round. When any probe of the burst got an
// answer, the burst counts for nothing, neither good nor bad, and the rounds go on as without it.
// A burst never follows another burst, never clears a bad streak and never counts toward the loss
// ratio.
import type { RoundVerdict } from './evaluate.js';
import type { ProbeOutcome } from '../probe/types.js';
import type { HealthSettings, PrefixHealth, Transition } from './state.js';

export interface ConfirmationSettings {
  fall: number;
  confirm_burst: boolean;
}

/** A burst to one prefix: `sets` sets of probes to every target, in flight together. */
export interface Confirmation {
  prefix: string;
  sets: number;
}

/**
 * The bursts due after a round: every prefix that is up after it and whose round was bad, with as
 * many sets as bad rounds are still missing to `fall`. Health is the health after that round.
 */
export function confirmationsDue(
  health: ReadonlyMap<string, PrefixHealth>,
  verdict: RoundVerdict,
  settings: ConfirmationSettings,
): Confirmation[] {
  if (!settings.confirm_burst) return [];
  const due: Confirmation[] = [];
  for (const [prefix, h] of health) {
    const round = verdict.prefixes.get(prefix);
    if (!round || round.good || h.status !== 'up') continue;
    const sets = settings.fall - h.bad_streak;
    if (sets > 0) due.push({ prefix, sets });
  }
  return due;
}

/**
 * One prefix's burst result applied to its health: `sets` holds each set's outcomes through that
 * prefix. Only a burst without a single answer counts (each set a bad round); anything else hands
 * back `prev` as it was.
 */
export function confirmHealth(
  prev: PrefixHealth,
  sets: ReadonlyArray<readonly ProbeOutcome[]>,
  settings: Pick<HealthSettings, 'fall'>,
  now: number,
): { next: PrefixHealth; transition?: Transition } {
  const silent = sets.length > 0 && sets.every((set) => set.length > 0 && set.every((o) => !o.ok));
  if (prev.status !== 'up' || prev.bad_streak === 0 || !silent) return { next: prev };
  const bad_streak = prev.bad_streak + sets.length;
  const status = bad_streak >= settings.fall ? 'down' : 'up';
  const next: PrefixHealth = { ...prev, status, bad_streak, good_streak: 0, since: status === 'up' ? prev.since : now };
  if (status === 'up') return { next };
  const errors = [...new Set(sets.flat().map((o) => `${o.probe}: ${o.error ?? 'failed'}`))].join('; ');
  const reason =
    `${settings.fall} bad rounds in a row, ${sets.length} of them a confirmation burst ` +
    `(no answer from ${sets[0]!.length} targets in ${sets.length} sets; ${errors})`;
  return { next, transition: { id: prev.id, from: 'up', to: 'down', reason } };
}
