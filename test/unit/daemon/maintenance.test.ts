import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatMaintenance,
  maintenanceFile,
  maintenanceLockFile,
  maintenanceInForce,
  parseMaintenance,
  parseUntil,
  readMaintenance,
  withMaintenanceLock,
  writeMaintenance,
} from '../../../src/daemon/maintenance.js';
import { takeLock } from '../../../src/lib/lock.js';
import { lockHolderProcess } from '../../support/lock-holder.js';
import { A, B } from '../../support/prefixes.js';

const F = '/var/lib/nat64-health/maintenance.json';
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

describe('pruning and the lock', () => {
  const tmp = () => mkdtemp(path.join(os.tmpdir(), 'nh-maint-lock-'));

  it('every write drops the entries that have ended (regression: they stayed in the file forever)', async () => {
    const file = path.join(await tmp(), 'maintenance.json');
    const now = Date.parse('2026-12-01T10:00:00Z');
    const set = new Map([
      [A, { reason: 'over', since: now - 7_200_000, until: now - 1 }],
      [B, { reason: 'ends at now', since: now - 1000, until: now }],
      ['2001:db8:64:c::/96', { reason: 'later', since: now, until: now + 60_000 }],
      ['2001:db8:64:d::/96', { reason: 'open', since: now, until: null }],
    ]);
    await writeMaintenance(file, set, now);
    expect([...(await readMaintenance(file)).keys()]).toEqual(['2001:db8:64:c::/96', '2001:db8:64:d::/96']);
    // a file that only ever gets ended entries stays small
    for (let i = 0; i < 500; i++)
      await writeMaintenance(file, new Map([[A, { reason: 'x'.repeat(200), since: i, until: now + i }]]), now + i);
    expect((await stat(file)).size).toBeLessThan(300);
  });

  it('one holder at a time; the other waits or hears who holds it', async () => {
    const file = path.join(await tmp(), 'maintenance.json');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = withMaintenanceLock(file, 0, () => gate.then(() => 'first'));
    await new Promise((r) => setTimeout(r, 20));
    expect(await readFile(maintenanceLockFile(file), 'utf8')).toBe(`${process.pid}\n`);
    expect(await withMaintenanceLock(file, 0, () => Promise.resolve('busy'))).toEqual({
      ok: false,
      holder: `${maintenanceLockFile(file)} (pid ${process.pid})`,
    });
    const waiting = withMaintenanceLock(file, 10_000, () => Promise.resolve('second'));
    release();
    expect(await first).toEqual({ ok: true, value: 'first' });
    expect(await waiting).toEqual({ ok: true, value: 'second' });
    takeLock(maintenanceLockFile(file)).release(); // let go
  });

  it('concurrent read-modify-writes under the lock lose nothing', async () => {
    const file = path.join(await tmp(), 'maintenance.json');
    const ids = Array.from({ length: 20 }, (_, i) => `2001:db8:64:${(i + 1).toString(16)}::/96`);
    await Promise.all(
      ids.map((id) =>
        withMaintenanceLock(file, 30_000, async () => {
          const set = await readMaintenance(file);
          await new Promise((r) => setTimeout(r, 1)); // let the others run between read and write
          set.set(id, { reason: '', since: 0, until: null });
          await writeMaintenance(file, set, 1);
        }),
      ),
    );
    expect([...(await readMaintenance(file)).keys()].sort()).toEqual([...ids].sort());
  });

  it("a killed holder's lock is free, a live holder's is not; a failing change's error is the caller's", async () => {
    const file = path.join(await tmp(), 'maintenance.json');
    await mkdir(path.dirname(file), { recursive: true });
    const holder = await lockHolderProcess(maintenanceLockFile(file));
    expect(await withMaintenanceLock(file, 0, () => Promise.resolve(2))).toEqual({
      ok: false,
      holder: `${maintenanceLockFile(file)} (pid ${holder.pid})`,
    });
    const exited = new Promise((r) => holder.on('exit', r));
    holder.kill('SIGKILL');
    await exited;
    expect(await withMaintenanceLock(file, 0, () => Promise.resolve(1))).toEqual({ ok: true, value: 1 });
    await expect(withMaintenanceLock(file, 0, () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    takeLock(maintenanceLockFile(file)).release(); // let go after the failing change too
  });
});
