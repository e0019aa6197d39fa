// What the daemon says about conditions that last many rounds: on a change at once, while the
// condition holds at most every few minutes. Pure: the caller passes the clock and keeps the memo.
import type { LogFields } from '../lib/log.js';

/** A target retired for good would otherwise be logged every round (about 17k lines a day). */
export const TARGET_FAULT_REMINDER_MS = 5 * 60_000;

export interface Notice {
  level: 'info' | 'warn';
  msg: string;
  fields: LogFields;
}

export interface TargetFaultMemo {
  /** the blamed targets last logged, sorted */
  faults: string[];
  /** when they were last logged; when the current set began */
  loggedAt: number;
  since: number;
}

export const NO_TARGET_FAULTS: TargetFaultMemo = { faults: [], loggedAt: 0, since: 0 };

export function targetFaultNotice(
  memo: TargetFaultMemo,
  faults: readonly string[],
  now: number,
  remindEveryMs = TARGET_FAULT_REMINDER_MS,
): { notice: Notice | null; memo: TargetFaultMemo } {
  const current = [...new Set(faults)].sort();
  const changed = current.join('\n') !== memo.faults.join('\n');
  if (!changed) {
    if (current.length === 0 || now - memo.loggedAt < remindEveryMs) return { notice: null, memo };
    return {
      notice: {
        level: 'warn',
        msg: 'probe target still fails through every prefix: blaming the target, not the NAT64s',
        fields: { targets: current, since: new Date(memo.since).toISOString() },
      },
      memo: { ...memo, loggedAt: now },
    };
  }
  const next = { faults: current, loggedAt: now, since: now };
  if (current.length === 0) {
    return {
      notice: {
        level: 'info',
        msg: 'probe targets answer again through some prefix',
        fields: { targets: memo.faults },
      },
      memo: next,
    };
  }
  const recovered = memo.faults.filter((t) => !current.includes(t));
  return {
    notice: {
      level: 'warn',
      msg: 'probe target failed through every prefix: blaming the target, not the NAT64s',
      fields: {
        targets: current,
        new: current.filter((t) => !memo.faults.includes(t)),
        ...(recovered.length > 0 ? { answering_again: recovered } : {}),
      },
    },
    memo: next,
  };
}
