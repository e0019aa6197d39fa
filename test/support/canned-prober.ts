// A prober for daemon tests that send no packets: the test says which prefixes answer.
import type { Prober } from '../../src/daemon/daemon.js';

/** Every probe through a prefix in `good` answers (5 ms), the others time out. */
export function cannedProber(good: ReadonlySet<string>): Prober {
  return (prefixes, probes) =>
    Promise.resolve({
      started_at: Date.now(),
      duration_ms: 1,
      outcomes: prefixes.flatMap((p) =>
        probes.map((pr) => ({
          prefix: p.id,
          probe: pr.id,
          address: '2001:db8::1',
          ok: good.has(p.id),
          latency_ms: good.has(p.id) ? 5 : 0,
          ...(good.has(p.id) ? {} : { error: 'timeout' }),
        })),
      ),
    });
}
