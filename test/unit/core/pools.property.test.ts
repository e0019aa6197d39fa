// decide() with client pools over random configs (1-8 prefixes in 0-3 groups, 1-3 pools each with
// its own group order and set size) and random histories of probe outcomes. Each pool's selection
// keeps the selection rules with its own ranking and sizes; the rendered text holds each prefix
// that some selection holds, for exactly the pools whose set holds it (its clients ACL is
// clientsAcl's, judged against BIND by the pool-acl tests), and one drains only once it has left
// every pool. Seeded: a failure prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config, type PoolConfig } from '../../../src/config/load.js';
import { DEFAULT_POOL } from '../../../src/config/schema.js';
import { parsePrefix } from '../../../src/lib/prefix.js';
import { clientsAcl } from '../../../src/render/pool-acl.js';
import { renderContext, renderDns64 } from '../../../src/render/render.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';
import { histories, playHistory, roundOutcomes } from '../../support/histories.js';
import { checkSelection } from '../../support/selection-invariants.js';

const SEED = 20261205;
const GROUPS = ['site-a', 'site-b', 'public'];

const shape = fc.record({
  groupOf: fc.array(fc.integer({ min: -1, max: 2 }), { minLength: 1, maxLength: 8 }), // -1: no group
  pools: fc.array(
    fc.record({
      order: fc.shuffledSubarray([0, 1, 2]),
      min: fc.integer({ min: 1, max: 2 }),
      extra: fc.integer({ min: 0, max: 1 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  drain: fc.constantFrom(0, 10, 60),
  fall: fc.integer({ min: 1, max: 2 }),
});
type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

const base = parseConfig(
  `prefixes: ["2001:db8:64::/96"]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
`,
  'property.yaml',
  '/tmp',
);
function configOf(s: Shape): Config {
  const prefixes = s.groupOf.map((g, i) => {
    const prefix = parsePrefix(`2001:db8:64:${i.toString(16)}::/96`);
    const group = g >= 0 ? GROUPS[g]! : null;
    return { prefix, id: prefix.text, name: prefix.text, group, groupRank: g >= 0 ? g : 3, order: i, origin: `p:${i}` };
  });
  const pools: PoolConfig[] = s.pools.map((p, i) => ({
    name: `pool-${i}`,
    clients: [`2001:db8:${i + 10}::/48`],
    groups: p.order.map((g) => GROUPS[g]!),
    min_active: p.min,
    max_active: p.min + p.extra,
    origin: `p:${i}`,
  }));
  return {
    ...base,
    prefixes,
    pools,
    health: { ...base.health, rise: 1, fall: s.fall },
    select: { ...base.select, min_active: 1, max_active: 2, drain: s.drain * 1000, groups: GROUPS },
  };
}

const history = histories(
  shape,
  (s) => s.groupOf.length,
  () => fc.boolean(),
  [2, 10, 40],
  15,
);

/** A pool's view of the prefixes: its own group order (select rule 1). */
const rankedFor = (pool: PoolConfig, prefixes: Config['prefixes']) =>
  prefixes.map((p) => {
    const i = p.group === null ? -1 : pool.groups.indexOf(p.group);
    return { ...p, groupRank: i < 0 ? pool.groups.length : i };
  });

describe('decide with pools, properties', () => {
  it('each pool keeps the rules; each prefix is rendered for exactly the pools using it (500 histories)', () => {
    fc.assert(
      fc.property(history, ({ shape: s, rounds }) => {
        const config = configOf(s);
        const outcomesOf = (r: (typeof rounds)[number]) => roundOutcomes(config, (i) => r.ok[i]!, r.latency);
        playHistory(config, rounds, outcomesOf, (d, { selection, pools }, now) => {
          checkSelection(selection, config.prefixes, d.health, config.select, now, d.selection);
          for (const pool of config.pools) {
            const settings = { ...config.select, min_active: pool.min_active, max_active: pool.max_active };
            const prev = pools.get(pool.name) ?? EMPTY_SELECTION;
            checkSelection(prev, rankedFor(pool, config.prefixes), d.health, settings, now, d.pools.get(pool.name)!);
          }

          const all: Array<[string, SelectionState]> = [[DEFAULT_POOL, d.selection], ...d.pools];
          const context = renderContext(config, d.selection, d.pools);
          expect(d.rendered, 'the text is the render of this context').toBe(renderDns64(config, d.selection, d.pools));
          const held = new Set(all.flatMap(([, sel]) => [...sel.active, ...Object.keys(sel.draining)]));
          expect(context.prefixes.map((p) => p.prefix).sort()).toEqual([...held].sort());
          for (const p of context.prefixes) {
            const users = all.filter(([, sel]) => sel.active.includes(p.prefix)).map(([name]) => name);
            expect(p.pools, p.prefix).toEqual(users);
            expect(p.active, `${p.prefix} drains only once it has left every pool`).toBe(users.length > 0);
            expect(p.clients).toEqual(
              users.length > 0 ? clientsAcl(config.pools, config.bind.dns64.clients, new Set(users)) : ['none'],
            );
          }
        });
      }),
      { numRuns: 500, seed: SEED },
    );
  });
});
