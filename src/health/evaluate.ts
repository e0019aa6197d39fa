// Turns one round's raw outcomes into a verdict per prefix. Pure.
//
// Rule (docs/rules.md, "Probing", states it word for word; a unit test keeps the two equal):
// Dead target or dead NAT64? A prefix's round is good when at least `quorum` of the targets counted
// for it answered through it (all of them, if fewer are counted). Every target counts, except that
// target blame needs evidence from another prefix: a target that failed through every prefix is left
// out of a prefix's count (blamed on the target, and logged) only when some other prefix answered
// some target in that round. Then the NAT64 paths work and the target itself is down, so one dead web
// server never takes the prefixes down. Without that evidence (a single configured prefix, or no other
// prefix answered anything) no target is left out and the prefix needs `quorum` answers. If nothing
// answers at all, nobody can be blamed and every prefix has a bad round.
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
   * Targets that failed through every prefix and were left out of the count of at least one prefix
   * (one for which another prefix answered some target: the rule above).
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
  const deadEverywhere = new Set(
    probeIds.filter((id) => {
      const list = byProbe.get(id) ?? [];
      return list.length > 0 && list.every((o) => !o.ok);
    }),
  );
  const answering = new Set(outcomes.filter((o) => o.ok).map((o) => o.prefix));
  const blamed = new Set<string>();

  const prefixes = new Map<string, PrefixVerdict>();
  for (const prefix of prefixIds) {
    // Evidence: another prefix answered some target (such a target is, by definition, not dead everywhere).
    const evidence = [...answering].some((p) => p !== prefix);
    const mine = outcomes.filter((o) => o.prefix === prefix && !(evidence && deadEverywhere.has(o.probe)));
    if (evidence) for (const id of deadEverywhere) blamed.add(id);
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
  const targetFaults = probeIds.filter((id) => blamed.has(id));
  return { prefixes, targetFaults };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
