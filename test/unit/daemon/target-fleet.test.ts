import { describe, expect, it } from 'vitest';
import type { ApplyOutcome, ApplyTarget } from '../../../src/apply/target.js';
import type { RunnerHooks } from '../../../src/apply/runner.js';
import { applyReason, TargetFleet } from '../../../src/daemon/target-fleet.js';
import { createLogger } from '../../../src/lib/log.js';
import type { Config } from '../../../src/config/load.js';

class FakeTarget implements ApplyTarget {
  applies: string[] = [];
  closed = false;
  constructor(
    readonly name: string,
    readonly background = false,
  ) {}
  apply(rendered: string): Promise<ApplyOutcome> {
    this.applies.push(rendered);
    return Promise.resolve({ target: this.name, result: 'applied', ms: 1 });
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
}

const hooks = (): RunnerHooks => ({
  log: createLogger({ level: 'error' }),
  now: () => Date.parse('2026-12-01T10:00:00Z'),
  dryRun: false,
  fields: () => ({}),
  recorded: () => {},
});
const config = {} as Config;
const context = { draining: [], changes: [] };

describe('TargetFleet', () => {
  it('offers the text to every target and says what each serves', async () => {
    const a = new FakeTarget('local');
    const b = new FakeTarget('dns64-2');
    const fleet = new TargetFleet(hooks(), () => [a, b]);
    fleet.configure(config);
    expect(fleet.names).toEqual(['local', 'dns64-2']);
    await fleet.offer('text-1', ['2001:db8:64:a::/96'], context);
    await fleet.settled();
    expect([a.applies, b.applies]).toEqual([['text-1'], ['text-1']]);
    expect(fleet.statuses()).toEqual([
      expect.objectContaining({ name: 'local', serving: ['2001:db8:64:a::/96'] }),
      expect.objectContaining({ name: 'dns64-2', serving: ['2001:db8:64:a::/96'] }),
    ]);
  });

  it('a reload keeps the runner of a target handed back again, and closes one left out', async () => {
    const a = new FakeTarget('local');
    const b = new FakeTarget('dns64-2');
    let targets = [a, b];
    const fleet = new TargetFleet(hooks(), () => targets);
    fleet.configure(config);
    await fleet.offer('text-1', [], context);
    targets = [a];
    fleet.configure(config);
    await fleet.offer('text-1', [], context); // same text: the kept runner knows it serves it
    await fleet.settled();
    expect(a.applies).toEqual(['text-1']);
    await new Promise((r) => setTimeout(r, 10));
    expect(b.closed).toBe(true);
    await fleet.stop(1000);
    expect(a.closed).toBe(true);
  });
});

describe('applyReason', () => {
  it('names the selection changes, else what made the text change', () => {
    const changes = [{ id: 'A', change: 'activated', reason: 'up' }];
    expect(applyReason({ served: 'x' }, { changes })).toBe('selection changed: A activated');
    const pooled = [...changes, { id: 'B', change: 'deactivated', reason: 'down', pool: 'site-a' }];
    expect(applyReason({ served: 'x' }, { changes: pooled })).toBe(
      'selection changed: A activated, B deactivated in pool site-a',
    );
    expect(applyReason({ served: 'x' }, { changes: [] })).toBe('rendered configuration changed');
    expect(applyReason({ served: null }, { changes: [] })).toBe(
      'startup or configuration reload: bringing BIND in line',
    );
  });
});
