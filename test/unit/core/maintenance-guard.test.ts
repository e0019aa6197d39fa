import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseConfig } from '../../../src/config/load.js';
import {
  eachPool,
  guardMaintenanceOn,
  predictSelection,
  type RecordedState,
} from '../../../src/core/maintenance-guard.js';
import type { Maintenance } from '../../../src/select/select.js';
import { A, B, C } from '../../support/prefixes.js';

describe('predictSelection', () => {
  const config = {
    prefixes: [A, B].map((id, order) => ({ id, groupRank: 0, order })),
    discover: [],
    pools: [],
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
    expect(p).toEqual({ active: [B], failsafe: false, healthy: [B], pools: new Map(), known: true });
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
    discover: [],
    pools: [],
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
    expect(g).toMatchObject({ refused: true, refusedFor: ['default'] });
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

describe('guardMaintenanceOn: discovered prefixes count as in the daemon (issue 20)', () => {
  // one configured prefix and one discovery source (RFC 7050); the state file says what it found
  const config = parseConfig(
    `prefixes: [${A}, { discover: { server: 2001:db8::53 }, name: isp }]\n` +
      'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n',
    'c.yaml',
    '/tmp',
  );
  const source = '[2001:db8::53]:53';
  const answered = new Date(0).toISOString();
  const recorded = (b: 'up' | 'down', discovered = [B]): RecordedState => ({
    active: [A, B],
    failsafe: false,
    prefixes: [
      { prefix: A, status: 'up', latency_ms: 5 },
      { prefix: B, status: b, latency_ms: 9 },
    ],
    discovery: [{ source, prefixes: discovered, answered_at: answered }],
  });
  const on: Maintenance = { reason: 'upgrade', until: null };

  it('the configured prefix may go while a discovered one, up and served, stays', () => {
    const g = guardMaintenanceOn(config, recorded('up'), new Map(), A, on, 1000);
    expect(g).toMatchObject({ refused: false, everyHeld: false, before: { active: [A, B] } });
    expect(g.next).toEqual({ active: [B], failsafe: false, healthy: [B], pools: new Map(), known: true });
  });

  it('a discovered prefix that is down does not save it: refused', () => {
    const g = guardMaintenanceOn(config, recorded('down'), new Map(), A, on, 1000);
    expect(g.refused).toBe(true);
  });

  it('a discovered prefix can be held; with both held every prefix is', () => {
    const held = new Map([[A, on]]);
    const g = guardMaintenanceOn(config, recorded('up'), held, B, on, 1000);
    expect(g).toMatchObject({ refused: true, everyHeld: true, next: { active: [] } });
  });

  it('a set the state file no longer records (the source dropped it) is not counted', () => {
    const g = guardMaintenanceOn(config, recorded('up', []), new Map(), A, on, 1000);
    expect(g.refused).toBe(true);
  });

  it('property: adding a discovered up prefix to the state never makes a guard refuse that did not refuse', () => {
    const prefixes = [A, B, C];
    const status = fc.constantFrom('up' as const, 'down' as const, 'unknown' as const);
    fc.assert(
      fc.property(
        fc.array(status, { minLength: 3, maxLength: 3 }),
        fc.subarray(prefixes),
        fc.subarray(prefixes),
        fc.constantFrom(...prefixes),
        fc.nat({ max: 2 }),
        (statuses, active, held, id, extra) => {
          const configured = parseConfig(
            `prefixes: [${prefixes.join(', ')}, { discover: { server: 2001:db8::53 }, name: isp }]\n` +
              'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n' +
              `select: { min_active: 1, max_active: ${1 + extra} }\n`,
            'c.yaml',
            '/tmp',
          );
          const D = '2001:db8:65:d::/96';
          const base: RecordedState = {
            active,
            failsafe: false,
            prefixes: prefixes.map((prefix, i) => ({ prefix, status: statuses[i]!, latency_ms: 10 + i })),
            discovery: [{ source, prefixes: [], answered_at: answered }],
          };
          const withD: RecordedState = {
            ...base,
            prefixes: [...base.prefixes, { prefix: D, status: 'up', latency_ms: 50 }],
            discovery: [{ source, prefixes: [D], answered_at: answered }],
          };
          const maintenance = new Map(held.map((h) => [h, on]));
          const without = guardMaintenanceOn(configured, base, maintenance, id, on, 1000);
          const withDiscovered = guardMaintenanceOn(configured, withD, maintenance, id, on, 1000);
          return without.refused || !withDiscovered.refused;
        },
      ),
      { seed: 20, numRuns: 300 },
    );
  });
});

describe('guardMaintenanceOn with client pools (issue 21)', () => {
  // site A's gateway, site B's, and a public one everyone may fall back to; one pool per site
  const config = parseConfig(
    `prefixes:
  - { prefix: "${A}", group: site-a }
  - { prefix: "${B}", group: site-b }
  - { prefix: "${C}", group: public }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
select: { groups: [site-a, site-b, public], min_active: 1, max_active: 1 }
pools:
  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b, public] }
  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a, public] }
`,
    'c.yaml',
    '/tmp',
  );
  type Status = 'up' | 'down';
  const recorded = (
    status: [Status, Status, Status],
    sets: { default: string[]; 'site-a'?: string[]; 'site-b'?: string[] },
    failsafe = false,
  ): RecordedState => ({
    active: sets.default,
    failsafe,
    prefixes: [A, B, C].map((prefix, i) => ({ prefix, status: status[i]!, latency_ms: 5 })),
    pools: (['site-a', 'site-b'] as const).flatMap((name) =>
      sets[name] ? [{ name, active: sets[name], failsafe }] : [],
    ),
  });
  const on: Maintenance = { reason: 'upgrade', until: null };

  it("predicts each pool's set by its own group order", () => {
    const p = predictSelection(config, recorded(['up', 'up', 'up'], { default: [A] }), new Map(), 1000);
    expect(p.active).toEqual([A]);
    expect(p.pools).toEqual(
      new Map([
        ['site-a', { active: [A], failsafe: false, healthy: [A] }],
        ['site-b', { active: [B], failsafe: false, healthy: [B] }],
      ]),
    );
  });

  it("site B's gateway may go while the public one is up: every pool that had it gets a healthy one", () => {
    const state = recorded(['up', 'up', 'up'], { default: [A], 'site-a': [A], 'site-b': [B] });
    const g = guardMaintenanceOn(config, state, new Map(), B, on, 1000);
    expect(g).toMatchObject({ refused: false, refusedFor: [] });
    expect(g.next.pools.get('site-b')).toEqual({ active: [A], failsafe: false, healthy: [A] });
  });

  it('every gateway down: refused for the pool whose fail-safe set holds it, not for the others', () => {
    // the default pool keeps A (fail-safe), site B keeps B: the default pool alone would not refuse B
    const state = recorded(['down', 'down', 'down'], { default: [A], 'site-a': [A], 'site-b': [B] }, true);
    const g = guardMaintenanceOn(config, state, new Map(), B, on, 1000);
    expect(g).toMatchObject({ refused: true, refusedFor: ['site-b'] });
    expect(g.next.pools.get('site-b')).toMatchObject({ failsafe: true, healthy: [] });
    const a = guardMaintenanceOn(config, state, new Map(), A, on, 1000);
    expect(a.refusedFor).toEqual(['default', 'site-a']);
  });

  it("a pool's fail-safe set is the one its state file records, not a fresh one", () => {
    // site B had moved to the public gateway before every gateway went down
    const state = recorded(['down', 'down', 'down'], { default: [A], 'site-a': [A], 'site-b': [C] }, true);
    const g = guardMaintenanceOn(config, state, new Map(), C, on, 1000);
    expect(g.before.pools.get('site-b')).toMatchObject({ active: [C], failsafe: true });
    expect(g.refusedFor).toEqual(['site-b']);
  });

  it('the last healthy prefix of every set: refused for each pool, the default one included', () => {
    const state = recorded(['up', 'down', 'down'], { default: [A], 'site-a': [A], 'site-b': [A] });
    const g = guardMaintenanceOn(config, state, new Map(), A, on, 1000);
    expect(g.refusedFor).toEqual(['default', 'site-a', 'site-b']);
  });

  it('a pool the state file does not record yet selects afresh', () => {
    const state = recorded(['down', 'up', 'down'], { default: [B], 'site-a': [B] });
    const g = guardMaintenanceOn(config, state, new Map(), B, on, 1000);
    // site B has no recorded set, but its first set would be B too, the only healthy prefix
    expect(g.refusedFor).toEqual(['default', 'site-a', 'site-b']);
  });

  it('property: refused for exactly the pools whose set holds it, when no healthy prefix would be left', () => {
    const prefixes = [A, B, C];
    const status = fc.constantFrom('up' as const, 'down' as const, 'unknown' as const);
    const groupOf = fc.constantFrom('site-a', 'site-b', null);
    const pool = fc.record({ order: fc.shuffledSubarray(['site-a', 'site-b']), max: fc.integer({ min: 1, max: 2 }) });
    fc.assert(
      fc.property(
        fc.array(status, { minLength: 3, maxLength: 3 }),
        fc.array(groupOf, { minLength: 3, maxLength: 3 }),
        fc.array(pool, { minLength: 1, maxLength: 2 }),
        fc.array(fc.subarray(prefixes), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.subarray(prefixes),
        fc.constantFrom(...prefixes),
        (statuses, groups, pools, sets, failsafe, held, id) => {
          const listed = prefixes.map((p, i) => `{ prefix: "${p}"${groups[i] ? `, group: ${groups[i]}` : ''} }`);
          const yaml =
            `prefixes: [${listed.join(', ')}]\n` +
            'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n' +
            'select: { groups: [site-a, site-b], min_active: 1, max_active: 1 }\n';
          const pooled = parseConfig(
            yaml +
              'pools:\n' +
              pools
                .map(
                  (p, i) =>
                    `  - { name: p${i}, clients: ["2001:db8:${i + 10}::/48"], groups: [${p.order.join(', ')}], ` +
                    `max_active: ${p.max} }\n`,
                )
                .join(''),
            'c.yaml',
            '/tmp',
          );
          const state: RecordedState = {
            active: sets[0]!,
            failsafe,
            prefixes: prefixes.map((prefix, i) => ({ prefix, status: statuses[i]!, latency_ms: 10 + i })),
            pools: pools.map((_, i) => ({ name: `p${i}`, active: sets[i + 1]!, failsafe })),
          };
          const maintenance = new Map(held.map((h) => [h, on]));
          const g = guardMaintenanceOn(pooled, state, maintenance, id, on, 1000);
          // every pool may use every prefix: a pool is left without a healthy one exactly when no
          // prefix is up outside maintenance
          const healthyLeft = prefixes.some((p, i) => statuses[i] === 'up' && !g.after.has(p));
          const holding = eachPool(g.before)
            .filter(([, s]) => s.active.includes(id))
            .map(([name]) => name);
          expect(g.refusedFor).toEqual(healthyLeft ? [] : holding);
          expect(g.refused).toBe(g.refusedFor.length > 0);
          // the default pool is judged as without pools
          const alone = guardMaintenanceOn(parseConfig(yaml, 'c.yaml', '/tmp'), state, maintenance, id, on, 1000);
          expect(alone.refused).toBe(g.refusedFor.includes('default'));
        },
      ),
      { seed: 21, numRuns: 300 },
    );
  });
});
