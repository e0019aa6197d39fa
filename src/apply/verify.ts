// Served = decided: BIND is asked what it hands clients. An AAAA query for ipv4only.arpa (RFC 7050,
// RFC 8880) is answered from BIND's automatic zone with 192.0.0.170 and 192.0.0.171 under every
// dns64 prefix that admits the asker; prefixes with `clients { none; }` (draining) drop out. The
// prefixes are recovered from those addresses for every RFC 6052 length (src/lib/ipv4only.ts).
import type { VerifySettings } from '../config/schema-types.js';
import { askIpv4only, RcodeError } from '../lib/ipv4only.js';
import type { ServedAnswer } from './target.js';

/** Measured with 9.18: global forwarding removes the automatic zone; a zone of its own brings it back. */
const NO_ZONE_HINT =
  ' (BIND has no ipv4only.arpa zone of its own when it forwards globally: add' +
  ' zone "ipv4only.arpa" { type forward; forward first; forwarders { }; }; to named.conf)';

/** The prefixes BIND serves to this asker, sorted. Throws when BIND does not answer usably. */
export async function queryServedPrefixes(
  v: Pick<VerifySettings, 'server' | 'port' | 'source' | 'timeout'>,
): Promise<string[]> {
  try {
    return (await askIpv4only(v)).prefixes;
  } catch (err) {
    if (err instanceof RcodeError) throw new Error(`${err.message}${NO_ZONE_HINT}`);
    throw err;
  }
}

/**
 * After a reload, BIND loads the new configuration's automatic ipv4only.arpa zone once `rndc` has
 * returned, so its first answers may be SERVFAIL (seen on 9.18 under load). No usable answer is
 * asked again after these pauses (1.55 s in all) before it counts.
 */
const SETTLE_PAUSES_MS = [50, 100, 200, 400, 800];

/**
 * What BIND answers once it answers usably, or its last answer after the settle pauses. An answer
 * that is no use (SERVFAIL, say) or a refusal is asked again, however long it took on a loaded
 * machine; a question nothing answered is not: it ran into the query's timeouts, and asking again
 * would hold the daemon's rounds. `stopped`: the asker is stopping, and the last answer counts now.
 */
export async function askSettled(
  askOnce: () => Promise<ServedAnswer>,
  stopped: () => boolean = () => false,
): Promise<ServedAnswer> {
  let answer = await askOnce();
  for (const pause of SETTLE_PAUSES_MS) {
    if (answer.ok || answer.unanswered || stopped()) break;
    await new Promise((resolve) => setTimeout(resolve, pause));
    answer = await askOnce();
  }
  return answer;
}

export interface Verdict {
  ok: boolean;
  /** what BIND serves, when it answered */
  served: string[] | null;
  detail: string;
}

/** Compares what BIND answered with the decided set. */
export function compareServed(decided: readonly string[], served: ServedAnswer): Verdict {
  if (!served.ok) return { ok: false, served: null, detail: served.error };
  if (served.prefixes.length === 0 && decided.length > 0)
    return { ok: false, served: [], detail: `BIND answered ipv4only.arpa without any prefix${NO_ZONE_HINT}` };
  const missing = decided.filter((p) => !served.prefixes.includes(p));
  const extra = served.prefixes.filter((p) => !decided.includes(p));
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
  if (missing.length === 0 && extra.length === 0)
    return { ok: true, served: served.prefixes, detail: `BIND serves the decided set: ${list(decided)}` };
  return {
    ok: false,
    served: served.prefixes,
    detail:
      `BIND serves ${list(served.prefixes)}, not the decided ${list(decided)}` +
      (missing.length ? `; missing ${list(missing)}` : '') +
      (extra.length ? `; not decided ${list(extra)}` : '') +
      ' (a view with its own dns64, an include BIND does not read, a reload that did nothing,' +
      ' or a clients ACL that excludes the query?)',
  };
}

/** One pool's answer: what BIND served that pool's asker, compared with the pool's decided set. */
export interface PoolVerdict extends Verdict {
  pool: string;
  decided: string[];
}

/** Every asked pool's verdict: ok only when each is. */
export interface PoolsVerdict {
  ok: boolean;
  /** the default pool's alone; with more pools asked, each named: the mismatches, or all when none */
  detail: string;
  /** in the order asked: the default pool's first */
  pools: PoolVerdict[];
}

/**
 * Compares what each pool's asker was served with that pool's decided set (`decided` by pool name,
 * the default pool's under DEFAULT_POOL). A pool the decision has no set for is a mismatch, not a
 * pool to skip: asking for it means the settings and the decision disagree.
 */
export function comparePools(
  decided: Readonly<Record<string, readonly string[]>>,
  answers: ReadonlyArray<{ pool: string; answer: ServedAnswer }>,
): PoolsVerdict {
  const pools = answers.map(({ pool, answer }): PoolVerdict => {
    if (!Object.hasOwn(decided, pool))
      return { pool, decided: [], ok: false, served: null, detail: `no decided set for pool ${pool}` };
    const set = decided[pool]!;
    return { pool, decided: [...set], ...compareServed(set, answer) };
  });
  const bad = pools.filter((v) => !v.ok);
  const detail =
    pools.length === 1
      ? pools[0]!.detail
      : (bad.length ? bad : pools).map((v) => `pool ${v.pool}: ${v.detail}`).join('; ');
  return { ok: bad.length === 0, detail, pools };
}
