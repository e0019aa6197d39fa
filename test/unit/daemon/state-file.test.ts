import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readState, restoredSelection, stateWriteDue } from '../../../src/daemon/state-file.js';
import { apply, prefix, snapshot } from '../../support/observe-fixtures.js';
import { A, B } from '../../support/prefixes.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-state-'));
const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('state file', () => {
  it('refuses a file that is not a state file, saying which field is wrong', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, prefixes: [{ prefix: 5, active: true }] }));
    await expect(readState(file)).rejects.toThrow(/bad\.json is not a nat64-health state file: prefixes\.0\.prefix/);
    writeFileSync(file, '{"version": 1,');
    await expect(readState(file)).rejects.toThrow(/not a nat64-health state file/);
  });

  it('hands back a valid file as written, key order included (`status --json` prints it)', async () => {
    const file = path.join(dir, 'good.json');
    const text = JSON.stringify({
      version: 1,
      pid: 7,
      prefixes: [{ name: 'a', prefix: A, active: true }],
      active: [A],
    });
    writeFileSync(file, text);
    expect(JSON.stringify(await readState(file))).toBe(text);
  });

  it('restores canonical prefixes only, with times no later than now', () => {
    const r = restoredSelection(
      {
        prefixes: [
          { prefix: A.toUpperCase(), active: true },
          { prefix: '2001:db8:99::/96', active: true }, // no longer configured: not active
        ],
        draining_since: {
          [B]: '2026-12-01T09:00:00Z',
          [B.toUpperCase()]: '2026-12-01T09:30:00Z', // the same prefix: the earlier start counts
          [A]: '2026-12-01T09:00:00Z', // active wins
          '2001:db8:77::/96': 'yesterday',
          'dns64 x': '2026-12-01T09:00:00Z',
          '2001:db8:66::/96': '2099-01-01T00:00:00Z',
        },
      },
      new Set([A, B]),
      NOW,
    );
    expect(r.active).toEqual([A]);
    expect(r.draining).toEqual({ [B]: Date.parse('2026-12-01T09:00:00Z'), '2001:db8:66::/96': NOW });
    expect(r.dropped).toEqual([
      'draining prefix 2001:db8:77::/96: "yesterday" is not a time',
      expect.stringMatching(/^draining prefix "dns64 x": .* is not an IPv6 prefix/),
      'draining prefix 2001:db8:66::/96: began 2099-01-01T00:00:00Z, in the future; draining from now',
    ]);
  });

  it('restores no more drains than a config may hold prefixes, the most recent ones', () => {
    const draining_since = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [
        `2001:db8:${i.toString(16)}::/96`,
        new Date(NOW - 1000 * (i + 1)).toISOString(),
      ]),
    );
    const r = restoredSelection({ prefixes: [], draining_since }, new Set(), NOW);
    expect(Object.keys(r.draining)).toHaveLength(256);
    expect(r.draining['2001:db8:0::/96'.replace(':0::', '::')]).toBe(NOW - 1000);
    expect(r.dropped).toEqual(['44 drains beyond the 256 most recent']);
  });
});

describe('state file writes (stateWriteDue)', () => {
  it('writes a round that changed nothing that matters at most once a heartbeat', () => {
    const first = stateWriteDue(null, snapshot(), NOW, 1000);
    expect(first.due).toBe(true);
    // the next round: new round number, latency, streaks and last round, nothing else
    const next = snapshot({
      round: 2,
      prefixes: [prefix(A, { latency_ms: 13, good_streak: 4, loss_ratio: 0.05 }), prefix(B, { active: false })],
    });
    const base = snapshot({ prefixes: [prefix(A), prefix(B, { active: false })] });
    const memo = stateWriteDue(null, base, NOW, 1000).memo;
    expect(stateWriteDue(memo, next, NOW + 200, 1000).due).toBe(false);
    expect(stateWriteDue(memo, next, NOW + 999, 1000).due).toBe(false);
    expect(stateWriteDue(memo, next, NOW + 1000, 1000).due).toBe(true);
  });

  it('writes at once when the set, a drain, a prefix state, an apply or the fail-safe changed', () => {
    const base = snapshot({ prefixes: [prefix(A), prefix(B, { active: false })] });
    const memo = stateWriteDue(null, base, NOW, 1000).memo;
    const changed = [
      snapshot({ ...base, active: [A, B] }),
      snapshot({ ...base, draining: [B], draining_since: { [B]: new Date(NOW).toISOString() } }),
      snapshot({ ...base, prefixes: [prefix(A, { status: 'down' }), prefix(B, { active: false })] }),
      snapshot({ ...base, failsafe: true }),
      snapshot({ ...base, applies: [apply()] }),
      snapshot({ ...base, last_config_reload: { at: new Date(NOW).toISOString(), ok: false, error: 'x' } }),
    ];
    for (const s of changed)
      expect(stateWriteDue(memo, s, NOW + 10, 1000).due, JSON.stringify(s).slice(0, 80)).toBe(true);
  });

  it("writes at once when a client pool's set or drains changed (the restart restores them)", () => {
    const pool = { name: 'site-b', active: [A], draining_since: {}, failsafe: false };
    const base = snapshot({ pools: [pool] });
    const memo = stateWriteDue(null, base, NOW, 1000).memo;
    expect(stateWriteDue(memo, snapshot({ round: 2, pools: [pool] }), NOW + 10, 1000).due).toBe(false);
    const changed = [
      snapshot({ pools: [{ ...pool, active: [B] }] }),
      snapshot({ pools: [{ ...pool, draining_since: { [B]: new Date(NOW).toISOString() } }] }),
    ];
    for (const s of changed) expect(stateWriteDue(memo, s, NOW + 10, 1000).due, JSON.stringify(s.pools)).toBe(true);
  });
});
