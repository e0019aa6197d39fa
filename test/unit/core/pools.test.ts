// decide() with client pools (issue 21): each pool selects by the same rules with its own group
// order and set size; a prefix is rendered for exactly the pools that use it, and drains only
// once it has left every pool. Without pools, nothing changes.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { decide } from '../../../src/core/step.js';
import type { PrefixHealth } from '../../../src/health/state.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';

const SA = '2001:db8:64:a::/96'; // site A's gateway
const SB = '2001:db8:64:b::/96'; // site B's gateway
const PUB = '2001:db8:64:f::/96'; // the public service: everyone's last resort
const PREFIXES = `prefixes:
  - { prefix: "${SA}", name: gw-a, group: site-a }
  - { prefix: "${SB}", name: gw-b, group: site-b }
  - { prefix: "${PUB}", name: public, group: public }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { rise: 1, fall: 1 }
`;
const POOLS = `${PREFIXES}select: { groups: [site-a, site-b, public], min_active: 1, max_active: 1, drain: 60s }
pools:
  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b, public] }
  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a, public] }
`;

function run(yaml: string) {
  const config = parseConfig(yaml, 'c.yaml', '/tmp');
  let health: ReadonlyMap<string, PrefixHealth> = new Map();
  let selection: SelectionState = EMPTY_SELECTION;
  let pools: ReadonlyMap<string, SelectionState> = new Map();
  return (alive: string[], now: number) => {
    const outcomes = [SA, SB, PUB].map((prefix) => ({
      prefix,
      probe: 'tcp 192.0.2.10:80',
      address: '::',
      ok: alive.includes(prefix),
      latency_ms: 2,
    }));
    const d = decide(config, health, selection, outcomes, now, new Map(), pools);
    ({ health, selection, pools } = d);
    return d;
  };
}

/** Each dns64 statement's prefix and clients line. */
const statements = (text: string) =>
  [...text.matchAll(/^dns64 (\S+) \{\n(?:\t\/\/.*\n)?\tclients \{ (.*) \};/gm)].map((m) => [m[1], m[2]]);

describe('decide with client pools', () => {
  it('each pool gets its nearest gateway, the default selects by select; statements admit their pools', () => {
    const d = run(POOLS)([SA, SB, PUB], 1000);
    expect(d.selection.active).toEqual([SA]); // select.groups: site-a first
    expect(d.pools.get('site-a')!.active).toEqual([SA]);
    expect(d.pools.get('site-b')!.active).toEqual([SB]);
    // a client of site A that site B's ACL also admits is site A's: the pools in config order
    expect(statements(d.rendered)).toEqual([
      [SA, '{ 2001:db8:a::/48; }; !{ 2001:db8:b::/48; none; }; { any; };'],
      [SB, '!{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; };'],
    ]);
    expect(d.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: SA, change: 'activated', pool: 'site-a' }),
        expect.objectContaining({ id: SB, change: 'activated', pool: 'site-b' }),
      ]),
    );
  });

  it("site A's gateway dies: site A and the default move to site B's prefix; A drains once no pool uses it", () => {
    const round = run(POOLS);
    round([SA, SB, PUB], 1000);
    const d = round([SB, PUB], 2000);
    expect(d.pools.get('site-a')!.active).toEqual([SB]);
    expect(d.pools.get('site-b')!.active).toEqual([SB]);
    expect(d.selection.active).toEqual([SB]);
    expect(statements(d.rendered)).toEqual([
      [SA, 'none;'], // draining: reverse lookups still answered
      [SB, 'any;'], // every pool uses it
    ]);
    // drain over: only SB is rendered
    expect(statements(round([SB, PUB], 70_000).rendered)).toEqual([[SB, 'any;']]);
  });

  it('a prefix that one pool leaves stays rendered, without drain, for the pools that still use it', () => {
    const round = run(POOLS);
    round([SA, SB, PUB], 1000);
    round([SA, PUB], 2000); // SB dies: site B falls back to site A's gateway
    const d = round([SA, SB, PUB], 3000); // SB is back: site B returns to it (its best group)
    expect(d.pools.get('site-b')!.active).toEqual([SB]);
    expect(d.pools.get('site-b')!.draining).toHaveProperty(SA); // site B's own drain of SA ...
    expect(statements(d.rendered)).toEqual([
      [SA, '{ 2001:db8:a::/48; }; !{ 2001:db8:b::/48; none; }; { any; };'], // ... but site A and the default use it
      [SB, '!{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; };'],
    ]);
  });

  it('without pools the rendered text is the one selection, with bind.dns64.clients as ever', () => {
    const d = run(`${PREFIXES}select: { groups: [site-a, site-b, public], min_active: 2, max_active: 2 }\n`)(
      [SA, SB, PUB],
      1000,
    );
    expect(d.pools.size).toBe(0);
    expect(statements(d.rendered)).toEqual([
      [SA, 'any;'],
      [SB, 'any;'],
    ]);
    expect(d.changes.every((c) => c.pool === undefined)).toBe(true);
  });
});
