import { describe, expect, it } from 'vitest';
import { guardMaintenanceOn, predictSelection } from '../../../src/core/maintenance-guard.js';
import type { Maintenance } from '../../../src/select/select.js';
import { A, B } from '../../support/prefixes.js';

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
    const p = predictSelection(config, snap('up'), held, 1);
    expect(p).toEqual({ active: [B], failsafe: false, healthy: [B], known: true });
  });

  it('no healthy prefix left: the set would be fail-safe with no healthy prefix', () => {
    const p = predictSelection(config, snap('down'), held, 1);
    expect(p).toMatchObject({ active: [B], failsafe: true, healthy: [] });
  });

  it('without a state file every configured prefix counts as healthy', () => {
    expect(predictSelection(config, null, held, 1)).toMatchObject({ active: [B], healthy: [B], known: false });
  });
});

describe('guardMaintenanceOn: the refusal rule', () => {
  const config = {
    prefixes: [A, B].map((id, order) => ({ id, groupRank: 0, order })),
    select: { min_active: 1, max_active: 1, drain: 1000, switch_margin: 0.2, switch_min_gain: 10, switch_after: 1 },
  } as unknown as Parameters<typeof guardMaintenanceOn>[0];
  const state = (a: 'up' | 'down', b: 'up' | 'down', active = [A]) => ({
    active,
    failsafe: false,
    prefixes: [
      { prefix: A, status: a, latency_ms: 5 },
      { prefix: B, status: b, latency_ms: 9 },
    ],
  });
  const on: Maintenance = { reason: 'upgrade', until: null };

  it('allows it while a healthy prefix takes over', () => {
    const g = guardMaintenanceOn(config, state('up', 'up'), new Map(), A, on, 1);
    expect(g).toMatchObject({ refused: false, everyHeld: false, before: { active: [A] }, next: { active: [B] } });
    expect(g.after).toEqual(new Map([[A, on]]));
  });

  it('refuses the last healthy prefix of the active set', () => {
    const g = guardMaintenanceOn(config, state('up', 'down'), new Map(), A, on, 1);
    expect(g.refused).toBe(true);
    expect(g.next).toMatchObject({ active: [B], failsafe: true, healthy: [] });
  });

  it('allows a prefix that is not in the active set, whatever the rest', () => {
    const g = guardMaintenanceOn(config, state('up', 'down'), new Map(), B, on, 1);
    expect(g.refused).toBe(false);
  });

  it('says when every prefix would be in maintenance (the other one already is)', () => {
    const held = new Map([[B, { reason: '', until: null }]]);
    const g = guardMaintenanceOn(config, state('up', 'up'), held, A, on, 1);
    expect(g).toMatchObject({ everyHeld: true, refused: true, next: { active: [], healthy: [] } });
  });

  it('an entry whose until has come holds no more', () => {
    const held = new Map<string, Maintenance>([[B, { reason: '', until: 1 }]]);
    const g = guardMaintenanceOn(config, state('up', 'up'), held, A, on, 2);
    expect(g).toMatchObject({ everyHeld: false, refused: false, next: { active: [B] } });
  });
});
