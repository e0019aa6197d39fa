// Apply history entries for the page, the CLI text and the HTTP tests.
import type { HistoryEntry } from '../../src/apply/history.js';
import { A, B, T0 } from './observe-fixtures.js';

export function historyEntry(over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id: 1,
    at: new Date(T0).toISOString(),
    target: 'local',
    outcome: 'applied',
    old: [A],
    new: [B],
    draining: [A],
    reason: `selection changed: ${A} deactivated, ${B} activated`,
    changes: [
      { id: A, change: 'deactivated', reason: 'down' },
      { id: B, change: 'activated', reason: 'up' },
    ],
    diff:
      '--- /var/lib/bind/nat64-health/dns64.conf\tbefore\n+++ /var/lib/bind/nat64-health/dns64.conf\tafter\n' +
      `@@ -1,1 +1,2 @@\n-dns64 ${A} { clients { any; }; };\n+dns64 ${A} { clients { none; }; };\n` +
      `+dns64 ${B} { clients { any; }; };\n`,
    verification: { ok: true, detail: `BIND serves the decided set: ${B}`, reapplied: false },
    ms: 42,
    ...over,
  };
}

/**
 * An apply with client pools (site A's gateway died): site-a and the default pool moved from A to
 * B, site-b stayed on B; the changes name their pools.
 */
export function poolsHistoryEntry(over: Partial<HistoryEntry> = {}): HistoryEntry {
  return historyEntry({
    changes: [
      { id: A, change: 'deactivated', reason: 'down', pool: 'site-a' },
      { id: B, change: 'activated', reason: 'up', pool: 'site-a' },
      { id: A, change: 'deactivated', reason: 'down' },
      { id: B, change: 'activated', reason: 'up' },
    ],
    pools: {
      'site-a': { old: [A], new: [B] },
      'site-b': { old: [B], new: [B] },
      default: { old: [A], new: [B] },
    },
    ...over,
  });
}
