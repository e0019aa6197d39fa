// Turns one round's raw outcomes into a verdict per prefix. Pure.
import type { ProbeOutcome } from '../probe/types.js';

export interface PrefixVerdict {
  good: boolean;
  /** median latency of the targets that answered, ms; null if none did */
  latency_ms: number | null;
  answered: number;
  /** targets that count this round (those not blamed on the target itself) */
  counted: number;
  required: number;
  failures: Array<{ probe: string; error: string }>;
}

export interface RoundVerdict {
  prefixes: Map<string, PrefixVerdict>;
  /**
   * Targets that failed through every prefix while some other target answered through some prefix:
   * the NAT64 paths work, so the target itself is down. They do not count against any prefix.
   */
  targetFaults: string[];
}

export function evaluateRound(
  outcomes: ProbeOutcome[],
  prefixIds: string[],
  probeIds: string[],
  quorum: number,
): RoundVerdict {
  const byProbe = new Map<string, ProbeOutcome[]>();
  for (const o of outcomes) (byProbe.get(o.probe) ?? byProbe.set(o.probe, []).get(o.probe)!).push(o);
  const anySuccess = outcomes.some((o) => o.ok);
  const targetFaults = anySuccess
    ? probeIds.filter((id) => {
        const list = byProbe.get(id) ?? [];
        return list.length > 0 && list.every((o) => !o.ok);
      })
    : [];
  const faulty = new Set(targetFaults);

  const prefixes = new Map<string, PrefixVerdict>();
  for (const prefix of prefixIds) {
    const mine = outcomes.filter((o) => o.prefix === prefix && !faulty.has(o.probe));
    const ok = mine.filter((o) => o.ok);
    const required = Math.min(quorum, mine.length);
    prefixes.set(prefix, {
      good: mine.length > 0 && ok.length >= required,
      latency_ms: median(ok.map((o) => o.latency_ms)),
      answered: ok.length,
      counted: mine.length,
      required,
      failures: mine.filter((o) => !o.ok).map((o) => ({ probe: o.probe, error: o.error ?? 'failed' })),
    });
  }
  return { prefixes, targetFaults };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
