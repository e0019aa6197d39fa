import { applyPatch } from 'diff';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplyReport } from '../../../src/apply/runner.js';
import {
  addEntry,
  changePool,
  entryAt,
  entrySetChange,
  formatHistory,
  historyDir,
  historyEntry,
  historyFile,
  historyOutcome,
  nextId,
  parseHistory,
  setChange,
  unifiedDiff,
  type HistoryEntry,
} from '../../../src/apply/history.js';
import { A, B, C } from '../../support/prefixes.js';

const F = '/var/lib/nat64-health/history/local.json';
const block = (p: string, clients = 'any') => `dns64 ${p} {\n\tclients { ${clients}; };\n};\n`;

function report(o: Partial<ApplyReport> = {}): ApplyReport {
  return {
    target: 'local',
    at: '2026-12-01T12:00:00.000Z',
    outcome: { target: 'local', result: 'applied', ms: 41.6 },
    reason: `selection changed: ${A} deactivated, ${B} activated`,
    old: [A],
    new: [B],
    draining: [A],
    changes: [
      { id: A, change: 'deactivated', reason: 'down' },
      { id: B, change: 'activated', reason: 'up' },
    ],
    text: { file: '/etc/bind/dns64.conf', before: block(A), after: block(A, 'none') + block(B) },
    verification: { ok: true, detail: `BIND serves the decided set: ${B}`, reapplied: false },
    ...o,
  };
}

const failed = (at: string, error = 'rndc: connection refused', o: Partial<ApplyReport> = {}) =>
  report({
    at,
    outcome: { target: 'local', result: 'failed', stage: 'reload', error, rolled_back: true, ms: 3 },
    verification: null,
    ...o,
  });

describe('apply history: where', () => {
  it('lives in history/ beside the state file, one file per target', () => {
    expect(historyDir('/var/lib/nat64-health/state.json')).toBe('/var/lib/nat64-health/history');
    expect(historyFile('/var/lib/nat64-health/history', 'dns64-2')).toBe('/var/lib/nat64-health/history/dns64-2.json');
  });
});

describe('apply history: what an entry is', () => {
  it('names how an apply ended', () => {
    expect(historyOutcome({ result: 'applied' }, null)).toBe('applied');
    expect(historyOutcome({ result: 'applied' }, true)).toBe('applied');
    expect(historyOutcome({ result: 'applied' }, false)).toBe('verify failed');
    expect(historyOutcome({ result: 'failed', stage: 'validate' }, null)).toBe('validation failed');
    expect(historyOutcome({ result: 'failed', stage: 'reload', rolled_back: true }, null)).toBe('rolled back');
    expect(historyOutcome({ result: 'failed', stage: 'reload', rolled_back: false }, null)).toBe('reload failed');
    for (const stage of ['connect', 'prepare', 'write'] as const)
      expect(historyOutcome({ result: 'failed', stage }, null)).toBe('failed');
  });

  it('keeps the sets, reasons, verification and a unified diff that turns the old text into the new', () => {
    const r = report();
    const e = historyEntry(r, 7);
    expect(e).toMatchObject({
      id: 7,
      at: r.at,
      target: 'local',
      outcome: 'applied',
      old: [A],
      new: [B],
      draining: [A],
      reason: r.reason,
      changes: r.changes,
      verification: r.verification,
      ms: 42,
    });
    expect(e).not.toHaveProperty('stage');
    expect(e.diff.split('\n').slice(0, 3)).toEqual([
      '--- /etc/bind/dns64.conf\tbefore',
      '+++ /etc/bind/dns64.conf\tafter',
      '@@ -1,3 +1,6 @@',
    ]);
    expect(e.diff).toContain('+\tclients { none; };\n');
    expect(applyPatch(r.text.before!, e.diff)).toBe(r.text.after);
  });

  it('a failure keeps its stage and error; a missing file diffs from nothing; same text: no diff', () => {
    const e = historyEntry(
      failed('2026-12-01T12:00:00.000Z', 'boom', { text: { file: null, before: null, after: 'x\n' } }),
      1,
    );
    expect(e).toMatchObject({ outcome: 'rolled back', stage: 'reload', error: 'boom', verification: null });
    expect(e.diff).toBe('--- (rendered text)\t(no file)\n+++ (rendered text)\tafter\n@@ -0,0 +1,1 @@\n+x\n');
    expect(historyEntry(report({ text: { file: 'f', before: 'x\n', after: 'x\n' } }), 1).diff).toBe('');
  });

  it('cuts a diff longer than the bound at a line, saying how much is left out', () => {
    const after = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const d = unifiedDiff('f', '', after, 200);
    expect(d.length).toBeLessThan(300);
    expect(d).toMatch(/\n\.\.\. \(diff cut at 200 characters; \d+ more\)\n$/);
    expect(d.split('\n').slice(-3, -2)[0]).toMatch(/^\+line \d+$/);
  });

  it('says what changed in the set', () => {
    expect(setChange({ old: [A], new: [B] })).toBe(`+${B} -${A}`);
    expect(setChange({ old: [A], new: [A] })).toBe('same set');
    expect(setChange({ old: null, new: [A, B] })).toBe(`now ${A}, ${B}`);
    expect(setChange({ old: [A], new: [] })).toBe(`-${A}`);
  });
});

describe('apply history: client pools', () => {
  const pools = {
    'site-a': { old: [A], new: [B] },
    'site-b': { old: [B], new: [B] },
    default: { old: [A], new: [B] },
  };
  const changes = [
    { id: A, change: 'deactivated', reason: 'down', pool: 'site-a' },
    { id: A, change: 'deactivated', reason: 'down' },
  ];

  it("keeps each pool's sets (a copy, in the report's order) and each change's pool", () => {
    const r = report({ pools: structuredClone(pools), changes });
    const e = historyEntry(r, 1);
    expect(e.pools).toEqual(pools);
    expect(Object.keys(e.pools!)).toEqual(['site-a', 'site-b', 'default']);
    expect(e.changes).toEqual(changes);
    r.pools!['site-a']!.new.push(C); // the entry is not the report's
    expect(e.pools!['site-a']!.new).toEqual([B]);
    expect(historyEntry(report(), 1)).not.toHaveProperty('pools');
  });

  it('says which pools changed their set; without pools, the set as before', () => {
    expect(entrySetChange({ old: [A], new: [B], pools })).toBe(`site-a: +${B} -${A}; default: +${B} -${A}`);
    const same = { 'site-a': { old: [B], new: [B] }, default: { old: [A], new: [A] } };
    expect(entrySetChange({ old: [A], new: [A], pools: same })).toBe('same sets');
    const added = { 'site-a': { old: null, new: [B] }, default: { old: [A], new: [A] } };
    expect(entrySetChange({ old: [A], new: [A], pools: added })).toBe(`site-a: now ${B}`);
    expect(entrySetChange({ old: [A], new: [B] })).toBe(setChange({ old: [A], new: [B] }));
  });

  it("names a change's pool only when there are pools; a change without one is the default pool's", () => {
    expect(changePool({ pools }, changes[0]!)).toBe('site-a');
    expect(changePool({ pools }, changes[1]!)).toBe('default');
    expect(changePool({}, changes[1]!)).toBeNull();
  });

  it('round-trips with pools; a file written before pools (no `pools`, no `pool`) still loads', () => {
    const h = [historyEntry(report({ pools, changes }), 1)];
    expect(parseHistory(formatHistory('local', h), F, 'local')).toEqual(h);
    const old = JSON.stringify({
      version: 1,
      target: 'local',
      entries: [
        {
          id: 1,
          at: '2026-11-30T12:00:00.000Z',
          target: 'local',
          outcome: 'applied',
          old: null,
          new: [A],
          draining: [],
          reason: 'startup or configuration reload: bringing BIND in line',
          changes: [{ id: A, change: 'activated', reason: 'up' }],
          diff: '',
          verification: null,
          ms: 12,
        },
      ],
    });
    const [e] = parseHistory(old, F, 'local');
    expect(e).not.toHaveProperty('pools');
    expect(entrySetChange(e!)).toBe(`now ${A}`);
  });

  it("refuses a pool's set that is not a list of prefixes, naming the field", () => {
    const good = formatHistory('local', [historyEntry(report({ pools }), 1)]);
    const bad = good.replace(/"site-b": \{\n\s*"old": \[[^\]]*\]/, '"site-b": {\n "old": "x"');
    expect(bad).not.toBe(good);
    expect(() => parseHistory(bad, F, 'local')).toThrow(/: entries\.0\.pools\.site-b\.old: /);
  });
});

describe('apply history: adding and trimming', () => {
  const add = (entries: HistoryEntry[], r: ApplyReport, keep = 100) =>
    addEntry(entries, historyEntry(r, nextId(entries)), keep);

  it('ids count up; the newest `keep` are kept', () => {
    let h: HistoryEntry[] = [];
    for (let i = 0; i < 5; i++) h = add(h, report({ at: `2026-12-01T12:0${i}:00.000Z` }), 3);
    expect(h.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(add(h, report(), 0)).toEqual([]);
  });

  it('a failure repeated the same way counts in the entry before; another failure or an apply is new', () => {
    let h: HistoryEntry[] = [];
    h = add(h, failed('2026-12-01T12:00:00.000Z'));
    h = add(h, failed('2026-12-01T12:00:01.000Z'));
    h = add(h, failed('2026-12-01T12:00:03.000Z'));
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({
      id: 1,
      at: '2026-12-01T12:00:00.000Z',
      attempts: 3,
      last_at: '2026-12-01T12:00:03.000Z',
    });
    h = add(h, failed('2026-12-01T12:00:07.000Z', 'rndc: timed out'));
    h = add(h, report({ at: '2026-12-01T12:00:15.000Z' }));
    h = add(h, report({ at: '2026-12-01T12:00:16.000Z' })); // two applies are two entries
    expect(h.map((e) => [e.id, e.outcome, e.attempts])).toEqual([
      [1, 'rolled back', 3],
      [2, 'rolled back', undefined],
      [3, 'applied', undefined],
      [4, 'applied', undefined],
    ]);
  });

  it("finds the entry of a state file's apply, also a retry counted in one", () => {
    let h: HistoryEntry[] = [];
    h = add(h, report({ at: '2026-12-01T11:00:00.000Z' }));
    h = add(h, failed('2026-12-01T12:00:00.000Z'));
    h = add(h, failed('2026-12-01T12:00:04.000Z'));
    expect(entryAt(h, '2026-12-01T11:00:00.000Z')?.id).toBe(1);
    expect(entryAt(h, '2026-12-01T12:00:04.000Z')?.id).toBe(2);
    expect(entryAt(h, '2026-12-01T13:00:00.000Z')).toBeUndefined();
  });

  it('property: at most keep entries, ids strictly counting up, the newest report always in the last entry', () => {
    const step = fc.record({
      fail: fc.boolean(),
      error: fc.constantFrom('a', 'b'),
      set: fc.constantFrom<string[]>([A], [B], [A, B]),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (steps, keep) => {
        let h: HistoryEntry[] = [];
        steps.forEach((s, i) => {
          const at = new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString();
          h = add(h, s.fail ? failed(at, s.error, { new: s.set }) : report({ at, new: s.set }), keep);
          const last = h.at(-1)!;
          expect((last.last_at ?? last.at) === at).toBe(true);
        });
        expect(h.length).toBeLessThanOrEqual(keep);
        h.forEach((e, i) => i > 0 && expect(e.id).toBeGreaterThan(h[i - 1]!.id));
        const counted = h.reduce((n, e) => n + (e.attempts ?? 1), 0);
        expect(counted).toBeLessThanOrEqual(steps.length);
      }),
      { seed: 1201, numRuns: 300 },
    );
  });
});

describe('apply history: the file', () => {
  const some = () => {
    let h: HistoryEntry[] = [];
    h = addEntry(h, historyEntry(report(), 1), 100);
    h = addEntry(h, historyEntry(failed('2026-12-01T12:01:00.000Z'), 2), 100);
    return h;
  };

  it('round-trips', () => {
    const h = some();
    expect(parseHistory(formatHistory('local', h), F, 'local')).toEqual(h);
  });

  it('refuses what is not a history, naming the file and the field', () => {
    const good = formatHistory('local', some());
    const cases: Array<[string, RegExp]> = [
      [good.slice(0, good.length / 2), /: not JSON: /],
      ['', /: not JSON: /],
      ['[]', /: \(top\): /],
      [good.replace('"version": 1', '"version": 2'), /: version: /],
      [good.replace('"outcome": "applied"', '"outcome": "fine"'), /: entries\.0\.outcome: /],
      [
        good.replace('"at": "2026-12-01T12:01:00.000Z"', '"at": "yesterday"'),
        /: entries\.1\.at: expected an ISO 8601 time/,
      ],
      [good.replace('"id": 2', '"id": 1'), /: entries\.1\.id: 1 does not count up/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseHistory(text, F, 'local'), text.slice(0, 40)).toThrow(message);
      expect(() => parseHistory(text, F, 'local')).toThrow(`${F}: not a nat64-health apply history: `);
    }
    expect(() => parseHistory(good, F, 'dns64-2')).toThrow(/: target: "local", expected "dns64-2"/);
  });
});
