import { describe, expect, it } from 'vitest';
import {
  EMPTY_SELECTION,
  rankScore,
  selectActive,
  type SelectionState,
  type SelectSettings,
} from '../../../src/select/select.js';
import { initialHealth, type PrefixHealth } from '../../../src/health/state.js';
import { rulesInDocs, rulesInSource } from '../../support/doc-rules.js';

const S: SelectSettings = {
  min_active: 2,
  max_active: 3,
  drain: 60_000,
  switch_margin: 0.2,
  switch_min_gain: 10,
  switch_after: 30_000,
  loss_penalty: 1000,
};
const P = (id: string, groupRank = 0, order = 0) => ({ id, groupRank, order });
type H = Record<string, ['up' | 'down', number?]>;
function health(h: H): Map<string, PrefixHealth> {
  return new Map(
    Object.entries(h).map(([id, [status, latency]]) => [
      id,
      { ...initialHealth(id), status, latency_ms: latency ?? 10 },
    ]),
  );
}

describe('selection', () => {
  const four = [P('a', 0, 0), P('b', 0, 1), P('c', 0, 2), P('d', 0, 3)];

  it('picks up to max_active by latency, listed in config order', () => {
    const { next, changes } = selectActive(
      EMPTY_SELECTION,
      four,
      health({ a: ['up', 40], b: ['up', 10], c: ['up', 30], d: ['up', 20] }),
      S,
      0,
    );
    expect(next.active).toEqual(['b', 'c', 'd']);
    expect(changes.map((c) => c.change)).toEqual(['activated', 'activated', 'activated']);
    expect(next.failsafe).toBe(false);
  });

  it('prefers earlier groups and goes into a worse group only to reach min_active', () => {
    const grouped = [P('l1', 0, 0), P('l2', 0, 1), P('i1', 1, 2), P('i2', 1, 3), P('p1', 2, 4)];
    const h = (x: H) => health(x);
    expect(
      selectActive(
        EMPTY_SELECTION,
        grouped,
        h({ l1: ['up', 50], l2: ['up', 60], i1: ['up', 1], i2: ['up', 1], p1: ['up', 1] }),
        S,
        0,
      ).next.active,
    ).toEqual(['l1', 'l2']);
    expect(
      selectActive(
        EMPTY_SELECTION,
        grouped,
        h({ l1: ['up', 50], l2: ['down'], i1: ['up', 5], i2: ['up', 1], p1: ['up', 1] }),
        S,
        0,
      ).next.active,
    ).toEqual(['l1', 'i1', 'i2']);
    expect(
      selectActive(
        EMPTY_SELECTION,
        grouped,
        h({ l1: ['down'], l2: ['down'], i1: ['down'], i2: ['down'], p1: ['up'] }),
        S,
        0,
      ).next.active,
    ).toEqual(['p1']);
  });

  it('lets a recovered better-group prefix displace worse groups at once', () => {
    const grouped = [P('l1', 0, 0), P('l2', 0, 1), P('i1', 1, 2)];
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['l1', 'i1'] };
    const { next, changes } = selectActive(prev, grouped, health({ l1: ['up'], l2: ['up'], i1: ['up'] }), S, 1000);
    expect(next.active).toEqual(['l1', 'l2']);
    expect(next.draining).toEqual({ i1: 1000 });
    expect(changes).toContainEqual({
      id: 'i1',
      change: 'deactivated',
      reason: 'a better group is available; draining',
    });
  });

  it('lets a recovered preferred-group prefix in while the worse group is still needed (issue 9)', () => {
    // groups [local, isp]: local1 recovers while isp1, isp2 hold every slot
    const grouped = [P('local1', 0, 0), P('isp1', 1, 1), P('isp2', 1, 2), P('isp3', 1, 3)];
    const h = health({ local1: ['up', 5], isp1: ['up', 20], isp2: ['up', 30], isp3: ['up', 40] });
    for (const max of [2, 3]) {
      const s = { ...S, min_active: 2, max_active: max };
      const prev: SelectionState = {
        ...EMPTY_SELECTION,
        active: max === 2 ? ['isp1', 'isp2'] : ['isp1', 'isp2', 'isp3'],
      };
      const fromScratch = selectActive(EMPTY_SELECTION, grouped, h, s, 0).next.active;
      const { next, changes } = selectActive(prev, grouped, h, s, 1000);
      expect(next.active, `max_active ${max}`).toEqual(fromScratch);
      expect(next.active).toEqual(max === 2 ? ['local1', 'isp1'] : ['local1', 'isp1', 'isp2']);
      expect(changes).toContainEqual({
        id: 'local1',
        change: 'activated',
        reason: 'healthy; its group is preferred to the active ones',
      });
      expect(changes).toContainEqual({
        id: max === 2 ? 'isp2' : 'isp3',
        change: 'deactivated',
        reason: 'a better group is available; draining',
      });
    }
  });

  it('keeps a full, healthy set stable when a slower or slightly faster prefix recovers', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const r = selectActive(prev, four, health({ a: ['up', 20], b: ['up', 20], c: ['up', 20], d: ['up', 18] }), S, 0);
    expect(r.next.active).toEqual(['a', 'b', 'c']);
    expect(r.changes).toEqual([]);
    expect(r.next.challengers).toEqual({});
  });

  it('swaps in a clearly faster prefix only after switch_after, one at a time', () => {
    let state: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const h = health({ a: ['up', 100], b: ['up', 20], c: ['up', 90], d: ['up', 10] });
    for (const t of [0, 10_000, 29_999]) {
      state = selectActive(state, four, h, S, t).next;
      expect(state.active).toEqual(['a', 'b', 'c']);
    }
    expect(state.challengers).toEqual({ d: 0 });
    const r = selectActive(state, four, h, S, 30_000);
    expect(r.next.active).toEqual(['b', 'c', 'd']);
    expect(r.changes.find((c) => c.id === 'd')!.reason).toMatch(/better than a \(score /);
    expect(r.next.draining).toEqual({ a: 30_000 });
  });

  it('restarts the challenge clock when the challenger stops being clearly faster', () => {
    let state: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    state = selectActive(
      state,
      four,
      health({ a: ['up', 100], b: ['up', 20], c: ['up', 20], d: ['up', 10] }),
      S,
      0,
    ).next;
    state = selectActive(
      state,
      four,
      health({ a: ['up', 100], b: ['up', 20], c: ['up', 20], d: ['up', 95] }),
      S,
      20_000,
    ).next;
    expect(state.challengers).toEqual({});
    state = selectActive(
      state,
      four,
      health({ a: ['up', 100], b: ['up', 20], c: ['up', 20], d: ['up', 10] }),
      S,
      40_000,
    ).next;
    expect(state.active).toEqual(['a', 'b', 'c']);
    expect(state.challengers).toEqual({ d: 40_000 });
  });

  it('replaces a dead prefix at once and drains it', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const { next, changes } = selectActive(
      prev,
      four,
      health({ a: ['up'], b: ['down'], c: ['up'], d: ['up'] }),
      S,
      5000,
    );
    expect(next.active).toEqual(['a', 'c', 'd']);
    expect(next.draining).toEqual({ b: 5000 });
    expect(changes).toEqual(
      expect.arrayContaining([
        { id: 'd', change: 'activated', reason: 'healthy; fills a free slot' },
        { id: 'b', change: 'deactivated', reason: 'prefix is down; draining' },
      ]),
    );
  });

  it('ends the drain after `drain`, and a returning prefix leaves the drain list', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'c', 'd'], draining: { b: 0 } };
    const h = health({ a: ['up'], b: ['down'], c: ['up'], d: ['up'] });
    expect(selectActive(prev, four, h, S, 59_999).next.draining).toEqual({ b: 0 });
    const ended = selectActive(prev, four, h, S, 60_000);
    expect(ended.next.draining).toEqual({});
    expect(ended.changes).toEqual([
      { id: 'b', change: 'drain-ended', reason: 'drain time is over; no longer rendered' },
    ]);
    const two = { ...prev, active: ['a'] };
    expect(
      selectActive(two, four, health({ a: ['up'], b: ['up'], c: ['down'], d: ['down'] }), S, 1).next,
    ).toMatchObject({ active: ['a', 'b'], draining: {} });
  });

  it('does not drain when drain is 0', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b'] };
    expect(selectActive(prev, four, health({ a: ['up'], b: ['down'] }), { ...S, drain: 0 }, 1).next.draining).toEqual(
      {},
    );
  });

  it('fail-safe: keeps the last good set when every prefix is down, and says so', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'c'] };
    const r = selectActive(prev, four, health({ a: ['down'], b: ['down'], c: ['down'], d: ['down'] }), S, 1);
    expect(r.next).toMatchObject({ active: ['a', 'c'], failsafe: true, draining: {} });
    expect(r.changes).toEqual([]);
    const back = selectActive(r.next, four, health({ a: ['down'], b: ['up'], c: ['down'], d: ['down'] }), S, 2);
    expect(back.next).toMatchObject({ active: ['b'], failsafe: false });
  });

  it('fail-safe with no history: the static set (first max_active by group and order), never empty', () => {
    const grouped = [P('x', 1, 0), P('y', 0, 1), P('z', 1, 2), P('w', 1, 3)];
    const r = selectActive(
      EMPTY_SELECTION,
      grouped,
      health({ x: ['down'], y: ['down'], z: ['down'], w: ['down'] }),
      S,
      1,
    );
    expect(r.next.active).toEqual(['x', 'y', 'z']);
    expect(r.next.failsafe).toBe(true);
  });

  it('drains a prefix removed from the config like any other, and ends its drain on time', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'gone'], draining: { old: 0 } };
    const r = selectActive(prev, four, health({ a: ['up'], b: ['up'] }), S, 1000);
    expect(r.next).toMatchObject({ active: ['a', 'b'], draining: { gone: 1000, old: 0 } });
    expect(r.changes).toContainEqual({ id: 'gone', change: 'deactivated', reason: 'no longer configured; draining' });
    const later = selectActive(r.next, four, health({ a: ['up'], b: ['up'] }), S, 61_000);
    expect(later.next.draining).toEqual({});
    expect(later.changes.map((c) => [c.id, c.change])).toEqual([
      ['old', 'drain-ended'],
      ['gone', 'drain-ended'],
    ]);
    expect(selectActive(prev, four, health({ a: ['up'], b: ['up'] }), { ...S, drain: 0 }, 1).changes).toContainEqual({
      id: 'gone',
      change: 'deactivated',
      reason: 'no longer configured',
    });
  });

  it('shrinks to a lowered max_active, keeping the best', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const r = selectActive(
      prev,
      four,
      health({ a: ['up', 30], b: ['up', 10], c: ['up', 20] }),
      { ...S, min_active: 1, max_active: 2 },
      1,
    );
    expect(r.next.active).toEqual(['b', 'c']);
  });

  it('property counterexample: local prefixes coming up one by one while isp holds both slots', () => {
    // select.property.test.ts, shrunk on the old code (seed 20261201)
    const ps = [P('p0', 1, 0), P('p1', 0, 1), P('p2', 1, 2), P('p3', 0, 3)];
    const s = { ...S, min_active: 2, max_active: 2, drain: 120_000, switch_after: 0 };
    let state = selectActive(EMPTY_SELECTION, ps, health({ p0: ['up', 1], p2: ['up', 1] }), s, 1).next;
    expect(state.active).toEqual(['p0', 'p2']);
    state = selectActive(state, ps, health({ p0: ['up', 1], p2: ['up', 1], p3: ['up', 1] }), s, 2).next;
    expect(state.active).toEqual(['p0', 'p3']);
    state = selectActive(state, ps, health({ p0: ['up', 1], p1: ['up', 1], p2: ['up', 1], p3: ['up', 1] }), s, 3).next;
    expect(state).toMatchObject({ active: ['p1', 'p3'], draining: { p0: 3, p2: 2 } });
  });

  it('fail-safe keeps at most max_active of the last set (max_active lowered by a reload)', () => {
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const down = health({ a: ['down'], b: ['down'], c: ['down'], d: ['down'] });
    const r = selectActive(prev, four, down, { ...S, min_active: 1, max_active: 2 }, 1);
    expect(r.next).toMatchObject({ active: ['a', 'b'], failsafe: true });
  });

  it('states the same rules as docs/rules.md, word for word', () => {
    expect(rulesInDocs('1. Only `up` prefixes not in maintenance are eligible')).toBe(
      rulesInSource('src/select/select.ts', '1. Only `up` prefixes not in maintenance are eligible'),
    );
  });

  describe('maintenance (rule 6)', () => {
    const up = health({ a: ['up', 10], b: ['up', 20], c: ['up', 30], d: ['up', 40] });
    const prev: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b', 'c'] };
    const m = (entries: Record<string, number | null>) =>
      new Map(Object.entries(entries).map(([id, until]) => [id, { reason: 'gateway upgrade', until }]));

    it('takes a healthy active prefix out in the next round, drains it and fills its slot', () => {
      const r = selectActive(prev, four, up, S, 1000, m({ a: null }));
      expect(r.next).toMatchObject({ active: ['b', 'c', 'd'], draining: { a: 1000 }, failsafe: false });
      expect(r.changes).toContainEqual({
        id: 'a',
        change: 'deactivated',
        reason: 'in maintenance: gateway upgrade; draining',
      });
    });

    it('brings it back by the normal rules once `until` has come (a full set is left alone)', () => {
      const out = selectActive(prev, four, up, S, 1000, m({ a: 5000 })).next;
      expect(selectActive(out, four, up, S, 4999, m({ a: 5000 })).next.active).toEqual(['b', 'c', 'd']);
      // a is the fastest: it waits for a free slot or switch_after, like any healed gateway
      const back = selectActive(out, four, up, { ...S, max_active: 4 }, 5000, m({ a: 5000 })).next;
      expect(back).toMatchObject({ active: ['a', 'b', 'c', 'd'], draining: {} });
    });

    it('is left out of the fail-safe set, and of the static set', () => {
      const down = health({ a: ['down'], b: ['down'], c: ['down'], d: ['down'] });
      expect(selectActive(prev, four, down, S, 1, m({ a: null })).next).toMatchObject({
        active: ['b', 'c'],
        failsafe: true,
      });
      const only: SelectionState = { ...EMPTY_SELECTION, active: ['a'] };
      expect(selectActive(only, four, down, S, 1, m({ a: null, b: null })).next.active).toEqual(['c', 'd']);
    });

    it('every prefix in maintenance: the set is empty and every prefix drains', () => {
      const all = m({ a: null, b: null, c: null, d: null });
      const r = selectActive(prev, four, up, S, 7, all);
      expect(r.next).toMatchObject({ active: [], draining: { a: 7, b: 7, c: 7 } });
    });

    it('every prefix in maintenance is not the fail-safe, also when they are down (regression)', () => {
      const all = m({ a: null, b: null, c: null, d: null });
      const down = health({ a: ['down'], b: ['down'], c: ['down'], d: ['down'] });
      for (const h of [up, down]) {
        const r = selectActive(prev, four, h, S, 7, all);
        expect(r.next).toMatchObject({ active: [], failsafe: false });
        expect(r.changes.map((c) => c.reason)).toEqual(Array(3).fill('in maintenance: gateway upgrade; draining'));
      }
    });

    it('the static set says the healthy prefixes are missing outside maintenance', () => {
      const down = health({ a: ['down'], b: ['down'], c: ['down'], d: ['down'] });
      const r = selectActive(EMPTY_SELECTION, four, down, S, 1, m({ a: null }));
      expect(r.next).toMatchObject({ active: ['b', 'c', 'd'], failsafe: true });
      expect(r.changes[0]!.reason).toBe(
        'fail-safe: no prefix outside maintenance is healthy and none was active yet; using the static set',
      );
    });

    it('ignores entries for prefixes that are not configured', () => {
      expect(selectActive(prev, four, up, S, 1, m({ zz: null })).next.active).toEqual(['a', 'b', 'c']);
    });
  });
});

describe('loss in the ranking score', () => {
  const lossy = (id: string, latency: number, lost: number, of = 20) => ({
    ...initialHealth(id),
    status: 'up' as const,
    latency_ms: latency,
    recent: Array.from({ length: of }, (_, i) => ({ counted: 1, answered: i < lost ? 0 : 1 })),
  });

  it('scores latency plus loss ratio times loss_penalty; no answer yet is infinitely bad', () => {
    expect(rankScore(lossy('a', 5, 6), 1000)).toBeCloseTo(5 + 0.3 * 1000);
    expect(rankScore(lossy('a', 5, 0), 1000)).toBe(5);
    expect(rankScore(initialHealth('x'), 1000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('ranks a fast gateway with heavy loss below a slower clean one', () => {
    const h = new Map([
      ['a', lossy('a', 5, 6)],
      ['b', lossy('b', 20, 0)],
      ['c', lossy('c', 30, 0)],
    ]);
    const { next } = selectActive(
      EMPTY_SELECTION,
      [P('a', 0, 0), P('b', 0, 1), P('c', 0, 2)],
      h,
      { ...S, max_active: 2 },
      0,
    );
    expect(next.active).toEqual(['b', 'c']);
  });

  it('replaces an active lossy gateway by a clean standby only after switch_after (rule 3)', () => {
    const prefixes = [P('a', 0, 0), P('b', 0, 1), P('c', 0, 2)];
    const h = new Map([
      ['a', lossy('a', 5, 6)],
      ['b', lossy('b', 5, 0)],
      ['c', lossy('c', 6, 0)],
    ]);
    const s = { ...S, max_active: 2 };
    let sel: SelectionState = { ...EMPTY_SELECTION, active: ['a', 'b'] };
    for (let t = 0; t < S.switch_after; t += 1000) {
      sel = selectActive(sel, prefixes, h, s, t).next;
      expect(sel.active).toEqual(['a', 'b']);
    }
    const r = selectActive(sel, prefixes, h, s, S.switch_after);
    expect(r.next.active).toEqual(['b', 'c']);
    expect(r.changes.find((c) => c.id === 'a')!.reason).toMatch(/replaced by better c/);
  });
});
