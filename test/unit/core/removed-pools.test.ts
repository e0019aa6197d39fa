// A pool that is no longer configured (issue 21): the prefixes of its set that no remaining pool
// uses drain from the default pool's selection, as any prefix that leaves a set; they never vanish
// at once (unless `drain: 0`).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { drainRemovedPools } from '../../../src/core/removed-pools.js';
import { decide } from '../../../src/core/step.js';
import type { PrefixHealth } from '../../../src/health/state.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';
import { A, B, C, D } from '../../support/prefixes.js';

const sel = (active: string[], draining: Record<string, number> = {}): SelectionState => ({
  ...EMPTY_SELECTION,
  active,
  draining,
});
const pool = (name: string) => ({ name, clients: ['2001:db8:a::/48'], groups: [], min_active: 1, max_active: 1 });
const config = (names: string[], drain = 60_000) => ({
  pools: names.map((n) => ({ ...pool(n), origin: 'c.yaml:1' })),
  select: { drain } as ReturnType<typeof parseConfig>['select'],
});

describe('drainRemovedPools', () => {
  it("a removed pool's active prefixes drain from now; its drains go on from when they began", () => {
    const pools = new Map([
      ['site-a', sel([A])],
      ['site-b', sel([B], { [C]: 500 })],
    ]);
    const r = drainRemovedPools(config(['site-a']), sel([A]), pools, 1000);
    expect(r.selection).toEqual(sel([A], { [B]: 1000, [C]: 500 }));
    expect(r.pools).toEqual(new Map([['site-a', sel([A])]]));
    expect(r.removed).toEqual([{ pool: 'site-b', draining: [B, C] }]);
  });

  it('a prefix the default pool or a remaining pool uses stays as it is', () => {
    const pools = new Map([
      ['site-a', sel([B])],
      ['site-b', sel([A, B])],
      ['site-c', sel([C])],
    ]);
    const r = drainRemovedPools(config(['site-a']), sel([A]), pools, 1000);
    expect(r.selection).toEqual(sel([A], { [C]: 1000 }));
    expect(r.removed).toEqual([
      { pool: 'site-b', draining: [] },
      { pool: 'site-c', draining: [C] },
    ]);
  });

  it('a prefix the default pool drains already drains until the later of the two', () => {
    const pools = new Map([['gone', sel([C], { [D]: 100 })]]);
    const r = drainRemovedPools(config([]), sel([A], { [C]: 400, [D]: 300 }), pools, 1000);
    expect(r.selection.draining).toEqual({ [C]: 1000, [D]: 300 });
  });

  it('drain: 0 removes them at once', () => {
    const r = drainRemovedPools(config([], 0), sel([A]), new Map([['gone', sel([B])]]), 1000);
    expect(r.selection).toEqual(sel([A]));
    expect(r.removed).toEqual([{ pool: 'gone', draining: [] }]);
  });

  it('nothing removed: the same selection', () => {
    const selection = sel([A], { [B]: 1 });
    const r = drainRemovedPools(config(['site-a']), selection, new Map([['site-a', sel([A])]]), 1000);
    expect(r.selection).toBe(selection);
    expect(r.removed).toEqual([]);
  });
});

describe('a removed pool through decide()', () => {
  const PREFIXES = `prefixes:
  - { prefix: "${A}", group: site-a }
  - { prefix: "${B}", group: site-b }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { rise: 1, fall: 1 }
select: { groups: [site-a, site-b], min_active: 1, max_active: 1, drain: 60s }
`;
  const SITE_A = '  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b] }\n';
  const SITE_B = '  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a] }\n';
  const outcomes = [A, B].map((prefix) => ({
    prefix,
    probe: 'tcp 192.0.2.10:80',
    address: '::',
    ok: true,
    latency_ms: 2,
  }));
  const statement = (text: string, id: string) =>
    new RegExp(`^dns64 ${id.replace(/[/.]/g, '\\$&')} \\{\\n(?:\\t//.*\\n)?\\tclients \\{ (.*) \\};`, 'm').exec(
      text,
    )?.[1];

  it("site B's pool is removed: its prefix is rendered draining for select.drain, then no more", () => {
    const both = parseConfig(`${PREFIXES}pools:\n${SITE_A}${SITE_B}`, 'c.yaml', '/tmp');
    const first = decide(both, new Map(), EMPTY_SELECTION, outcomes, 1000);
    expect(statement(first.rendered, B)).toBe('!{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; };');

    const onlyA = parseConfig(`${PREFIXES}pools:\n${SITE_A}`, 'c.yaml', '/tmp');
    const { selection, pools } = drainRemovedPools(onlyA, first.selection, first.pools, 5000);
    const health: ReadonlyMap<string, PrefixHealth> = first.health;
    const next = decide(onlyA, health, selection, outcomes, 6000, new Map(), pools);
    expect(statement(next.rendered, B)).toBe('none;'); // reverse lookups of B's addresses still answered
    expect(next.context.draining.map((p) => p.prefix)).toEqual([B]);

    const later = decide(onlyA, next.health, next.selection, outcomes, 65_000, new Map(), next.pools);
    expect(statement(later.rendered, B)).toBeUndefined();
    expect(later.changes).toContainEqual(expect.objectContaining({ id: B, change: 'drain-ended' }));
  });
});
