import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/log.js';
import type { StateSnapshot } from '../../../src/daemon/state-file.js';
import { StatePersister, statusLine, STATE_HEARTBEAT_MS } from '../../../src/daemon/state-persister.js';
import { A } from '../../support/prefixes.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

const snap = (over: Partial<StateSnapshot> = {}) =>
  ({
    version: 1,
    round: 1,
    failsafe: false,
    dry_run: false,
    active: [A],
    draining: [],
    target_faults: [],
    prefixes: [{ prefix: A, status: 'up', active: true, draining: false, maintenance: null }],
    targets: [],
    applies: [],
    last_config_reload: null,
    ...over,
  }) as unknown as StateSnapshot;

describe('StatePersister', () => {
  it('writes changed snapshots at once and unchanged ones at most once a heartbeat; publishes every one', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-persist-')), 'state.json');
    const clock = { t: T0 };
    let round = 1;
    const published: number[] = [];
    const statuses: string[] = [];
    const persister = new StatePersister(
      () => file,
      createLogger({ level: 'error' }),
      () => clock.t,
      () => snap({ round }),
      { snapshot: (s) => published.push(s.round), status: (t) => statuses.push(t) },
      (id) => (id === A ? 'local-a' : id),
    );
    const written = () => (JSON.parse(readFileSync(file, 'utf8')) as StateSnapshot).round;
    await persister.persist(clock.t);
    expect(written()).toBe(1);
    round = 2; // the round counter alone is no change worth a write
    clock.t += 10;
    await persister.persist(clock.t);
    expect(written()).toBe(1);
    round = 3;
    clock.t += STATE_HEARTBEAT_MS;
    await persister.persist(clock.t);
    expect(written()).toBe(3);
    expect(published).toEqual([1, 2, 3]);
    expect(statuses).toEqual(['active: local-a', 'active: local-a', 'active: local-a']);
  });

  it('keeps the order of the snapshots queued', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-persist-')), 'state.json');
    let n = 0;
    const order: number[] = [];
    const persister = new StatePersister(
      () => file,
      createLogger({ level: 'error' }),
      () => T0,
      () => snap({ round: ++n, active: [String(n)] }),
      { snapshot: (s) => order.push(s.round) },
      (id) => id,
    );
    await Promise.all([persister.persist(T0), persister.persist(T0), persister.persist(T0)]);
    expect(order).toEqual([1, 2, 3]);
  });

  it('a state file that cannot be written is logged; the snapshot is still published', async () => {
    const lines: string[] = [];
    const published: number[] = [];
    const notADir = path.join(mkdtempSync(path.join(os.tmpdir(), 'nh-persist-')), 'file');
    writeFileSync(notADir, '');
    const persister = new StatePersister(
      () => path.join(notADir, 'state.json'),
      createLogger({ level: 'warn', write: (l) => lines.push(l) }),
      () => T0,
      () => snap(),
      { snapshot: (s) => published.push(s.round) },
      (id) => id,
    );
    await persister.persist(T0);
    expect(lines).toContainEqual(expect.stringMatching(/^WARN {2}cannot write the state file/));
    expect(published).toEqual([1]);
  });
});

describe('statusLine', () => {
  it('marks the fail-safe and a set held by maintenance', () => {
    expect(statusLine(snap(), (id) => id)).toBe(`active: ${A}`);
    expect(statusLine(snap({ failsafe: true }), () => 'a')).toBe('FAIL-SAFE active: a');
    const held = snap({
      active: [],
      prefixes: [{ prefix: A, maintenance: { reason: '', since: '', until: null } }] as StateSnapshot['prefixes'],
    });
    expect(statusLine(held, (id) => id)).toBe('ALL IN MAINTENANCE active: none');
  });
});
