import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatMaintenance,
  maintenanceFile,
  maintenanceInForce,
  parseMaintenance,
  parseUntil,
  predictSelection,
  readMaintenance,
} from '../../../src/daemon/maintenance.js';

const F = '/var/lib/nat64-health/maintenance.json';
const A = '2001:db8:64:a::/96';
const B = '2001:db8:64:b::/96';
const entry = (o: Record<string, unknown> = {}) => ({ reason: 'r', since: '2026-01-01T00:00:00Z', until: null, ...o });
const text = (prefixes: Record<string, unknown>) => JSON.stringify({ version: 1, prefixes });

describe('maintenance file', () => {
  it('lives in the state file folder', () => {
    expect(maintenanceFile('/var/lib/nat64-health/state.json')).toBe(F);
    expect(maintenanceFile('/run/x/state.json')).toBe('/run/x/maintenance.json');
  });

  it('round-trips, with prefixes in canonical form', () => {
    const set = parseMaintenance(text({ '2001:DB8:64:A:0::/96': entry({ until: '2026-01-02T00:00:00Z' }) }), F);
    expect([...set]).toEqual([[A, { reason: 'r', since: Date.parse('2026-01-01T00:00:00Z'), until: 1767312000000 }]]);
    expect(parseMaintenance(formatMaintenance(set), F)).toEqual(set);
  });

  it.each([
    ['{', /^\/var\/lib\/nat64-health\/maintenance\.json: not JSON/],
    [JSON.stringify({ version: 2, prefixes: {} }), /maintenance\.json: version: /],
    [text({ [A]: entry({ since: 'yesterday' }) }), /maintenance\.json: prefixes\.2001:db8:64:a::\/96\.since: expected/],
    [text({ [A]: entry({ reason: 'a\nb' }) }), /prefixes\.2001:db8:64:a::\/96\.reason: one line/],
    [text({ [A]: entry({ extra: 1 }) }), /prefixes\.2001:db8:64:a::\/96: .*extra/],
    [text({ '2001:db8::/95': entry() }), /prefixes\.2001:db8::\/95: /],
    [text({ [A]: entry(), '2001:DB8:64:A::/96': entry() }), /is listed twice/],
  ])('a malformed file names the file and the field: %s', (t, message) => {
    expect(() => parseMaintenance(t, F)).toThrow(message);
  });

  it('no file: no maintenance; a file too large is refused', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nh-maint-'));
    expect((await readMaintenance(path.join(dir, 'none.json'))).size).toBe(0);
    const big = path.join(dir, 'big.json');
    await writeFile(big, ' '.repeat(70_000));
    await expect(readMaintenance(big)).rejects.toThrow(/big\.json: larger than/);
  });

  it('an entry holds until its `until`', () => {
    const set = new Map([[A, { reason: '', since: 0, until: 100 }]]);
    expect(maintenanceInForce(set, 99).has(A)).toBe(true);
    expect(maintenanceInForce(set, 100).has(A)).toBe(false);
  });
});

describe('--until', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  it('takes a time or a duration from now, in the future only', () => {
    expect(parseUntil('2h', now)).toBe(now + 7_200_000);
    expect(parseUntil('90', now)).toBe(now + 90_000);
    expect(parseUntil('2026-12-01T18:00:00Z', now)).toBe(Date.parse('2026-12-01T18:00:00Z'));
    expect(() => parseUntil('soon', now)).toThrow(/--until "soon": expected a time/);
    expect(() => parseUntil('2026-12-01T09:00:00Z', now)).toThrow(/has passed/);
  });
});

describe('predictSelection', () => {
  const config = {
    prefixes: [A, B].map((id, order) => ({ id, groupRank: 0, order })),
    select: { min_active: 1, max_active: 1, drain: 1000, switch_margin: 0.2, switch_min_gain: 10, switch_after: 1 },
  } as unknown as Parameters<typeof predictSelection>[0];
  const snap = (bStatus: 'up' | 'down') => ({
    active: [A],
    failsafe: false,
    prefixes: [
      { prefix: A, status: 'up' as const, latency_ms: 5 },
      { prefix: B, status: bStatus, latency_ms: 9 },
    ],
  });
  const held = new Map([[A, { reason: '', since: 0, until: null }]]);

  it('a healthy standby takes the slot', () => {
    const p = predictSelection(config, snap('up') as never, held, 1);
    expect(p).toEqual({ active: [B], failsafe: false, healthy: [B], known: true });
  });

  it('no healthy prefix left: the set would be fail-safe with no healthy prefix', () => {
    const p = predictSelection(config, snap('down') as never, held, 1);
    expect(p).toMatchObject({ active: [B], failsafe: true, healthy: [] });
  });

  it('without a state file every configured prefix counts as healthy', () => {
    expect(predictSelection(config, null, held, 1)).toMatchObject({ active: [B], healthy: [B], known: false });
  });
});
