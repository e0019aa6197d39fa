import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/lib/log.js';
import { formatMaintenance, maintenanceFile, readMaintenance } from '../../../src/daemon/maintenance.js';
import { MaintenancePoller } from '../../../src/daemon/maintenance-poller.js';
import { A, B } from '../../support/prefixes.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

let poller: MaintenancePoller | null = null;
afterEach(async () => {
  await poller?.stop();
  poller = null;
});

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-mpoll-'));
  const stateFile = path.join(dir, 'state.json');
  const lines: string[] = [];
  const clock = { t: T0 };
  const changed = vi.fn();
  poller = new MaintenancePoller(
    stateFile,
    createLogger({ level: 'info', write: (l) => lines.push(l) }),
    () => clock.t,
    changed,
  );
  const write = (entries: Array<[string, { reason: string; since: number; until: number | null }]>) =>
    writeFileSync(maintenanceFile(stateFile), formatMaintenance(new Map(entries)));
  return { poller, stateFile, lines, clock, changed, write };
}

describe('MaintenancePoller', () => {
  it('reads the file, logs each entry that comes and goes once', async () => {
    const { poller, lines, write } = setup();
    write([[A, { reason: 'upgrade', since: T0, until: null }]]);
    await poller.refresh(() => true);
    await poller.refresh(() => true);
    expect(poller.inForce(T0)).toEqual(new Map([[A, { reason: 'upgrade', since: T0, until: null }]]));
    expect(lines.filter((l) => l.includes('put into maintenance'))).toHaveLength(1);
    write([]);
    await poller.refresh(() => true);
    expect(poller.inForce(T0).size).toBe(0);
    expect(lines).toContainEqual(expect.stringContaining(`prefix ${A} taken out of maintenance`));
  });

  it('a malformed file is logged once and keeps the last good maintenance', async () => {
    const { poller, stateFile, lines, write } = setup();
    write([[A, { reason: '', since: T0, until: null }]]);
    await poller.refresh(() => true);
    writeFileSync(maintenanceFile(stateFile), '{ not json');
    await poller.refresh(() => true);
    await poller.refresh(() => true);
    expect([...poller.inForce(T0).keys()]).toEqual([A]);
    expect(lines.filter((l) => l.includes('maintenance file rejected'))).toHaveLength(1);
  });

  it('an `until` that comes is logged at the next round and pruned from the file', async () => {
    const { poller, stateFile, lines, clock, write } = setup();
    write([
      [A, { reason: '', since: T0, until: T0 + 1000 }],
      [B, { reason: '', since: T0, until: null }],
    ]);
    await poller.refresh(() => true);
    expect([...poller.forRound(clock.t).keys()]).toEqual([A, B]);
    clock.t += 2000;
    expect([...poller.forRound(clock.t).keys()]).toEqual([B]);
    expect(lines).toContainEqual(expect.stringContaining(`prefix ${A}: maintenance ended (--until)`));
    await poller.prune();
    expect([...(await readMaintenance(maintenanceFile(stateFile))).keys()]).toEqual([B]);
    expect(lines).toContainEqual(expect.stringContaining('maintenance file: dropped the ended entries'));
  });

  it('polls the file: a change is reported within a second or so', async () => {
    const { poller, changed, write } = setup();
    poller.start();
    await new Promise((r) => setTimeout(r, 300));
    write([[A, { reason: '', since: T0, until: null }]]);
    await vi.waitFor(() => expect(changed).toHaveBeenCalled(), { timeout: 5000, interval: 50 });
  });
});
