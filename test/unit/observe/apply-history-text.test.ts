import { describe, expect, it } from 'vitest';
import { formatHistoryDiffs, formatHistoryTable } from '../../../src/observe/apply-history-text.js';
import { historyEntry, poolsHistoryEntry } from '../../support/history-fixtures.js';
import { A, B, T0 } from '../../support/observe-fixtures.js';

const entries = [
  historyEntry({
    id: 2,
    at: new Date(T0).toISOString(),
    outcome: 'rolled back',
    stage: 'reload',
    error: 'rndc: connection\nrefused',
    attempts: 4,
    last_at: new Date(T0 + 8000).toISOString(),
    verification: null,
  }),
  historyEntry({ id: 1, at: new Date(T0 - 3_600_000).toISOString(), old: null, new: [A], draining: [], changes: [] }),
];

describe('history text', () => {
  it('a table: one line per apply, newest first, the set change and the reason with the error', () => {
    const out = formatHistoryTable(entries, T0 + 60_000);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +APPLIED AT +TARGET +OUTCOME +SET +REASON$/);
    expect(lines[1]).toMatch(/^2 +2025-01-01 12:00:00Z \(1m00s ago\) +local +rolled back x4 +/);
    expect(lines[1]).toContain(`+${B} -${A}`);
    expect(lines[1]).toContain('; reload: rndc: connection refused'); // one line
    expect(lines[2]).toContain(`now ${A}`);
    expect(lines).toHaveLength(3);
  });

  it('--diff: each apply with its sets, reasons, verification and diff; colour only when asked', () => {
    const out = formatHistoryDiffs(entries, T0);
    expect(out).toContain(
      '#2 local rolled back at 2025-01-01 12:00:00Z (0s ago) (4 times, the last 2025-01-01 12:00:08Z)',
    );
    expect(out).toContain('error: reload: rndc: connection\nrefused');
    expect(out).toContain(`set: ${A} -> ${B} (+${B} -${A})`);
    expect(out).toContain(`selection changes:\n  ${A} deactivated: down\n`);
    expect(out).toContain(`+dns64 ${B} { clients { any; }; };`);
    expect(out).toContain(`set: not known -> ${A} (now ${A})`);
    expect(out).toContain(`BIND serves it: yes: BIND serves the decided set: ${B}`);
    expect(out).not.toContain('\x1b[');
    const coloured = formatHistoryDiffs(entries, T0, true);
    expect(coloured).toContain(`\x1b[32m+dns64 ${B} { clients { any; }; };\x1b[0m`);
    expect(coloured).toContain(`\x1b[31m-dns64 ${A} { clients { any; }; };\x1b[0m`);
    expect(formatHistoryDiffs([historyEntry({ diff: '' })], T0)).toContain('(text unchanged: a reload only)');
  });

  it("with pools: the table names the pools whose set changed, --diff each pool's sets and each change's pool", () => {
    const e = poolsHistoryEntry();
    const row = formatHistoryTable([e], T0).trimEnd().split('\n')[1]!;
    expect(row).toContain(`site-a: +${B} -${A}; default: +${B} -${A}`);
    expect(row).not.toContain('site-b');
    expect(formatHistoryTable([poolsHistoryEntry({ pools: { default: { old: [A], new: [A] } } })], T0)).toContain(
      'same sets',
    );
    const out = formatHistoryDiffs([e], T0);
    expect(out).toContain(
      `sets:\n  site-a: ${A} -> ${B} (+${B} -${A})\n  site-b: ${B} -> ${B} (same set)\n` +
        `  default: ${A} -> ${B} (+${B} -${A})\n`,
    );
    expect(out).not.toMatch(/^set: /m);
    expect(out).toContain(
      `selection changes:\n  site-a: ${A} deactivated: down\n  site-a: ${B} activated: up\n` +
        `  default: ${A} deactivated: down\n  default: ${B} activated: up\n`,
    );
    const unknown = formatHistoryDiffs([poolsHistoryEntry({ pools: { 'site-a': { old: null, new: [] } } })], T0);
    expect(unknown).toContain('  site-a: not known -> none (now none)\n');
  });
});
