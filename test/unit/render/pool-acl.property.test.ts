// clientsAcl (src/render/pool-acl.ts) over random pools, default clients, `using` sets and clients,
// judged by the BIND ACL model (test/support/bind-acl.ts, held to a real named by
// test/integration/render/pool-acl.test.ts): a prefix's statement admits a client exactly when the
// client's pool uses the prefix. Seeded: a failure prints the seed and path to replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientsAcl, DEFAULT_POOL, type PoolClients } from '../../../src/render/pool-acl.js';
import { compileAcl, type AclEnv } from '../../support/bind-acl.js';

const SEED = 20260721;
const RUNS = 3000;

// Overlapping on purpose: nested prefixes, an address inside them, the same prefix in several pools.
const PREFIXES = [
  '2001:db8::/32',
  '2001:db8:a::/48',
  '2001:db8:a:5::/64',
  '2001:db8:a:5::1',
  '2001:db8:b::/48',
  '2001:db8:b:5::/64',
  '192.0.2.0/24',
  '192.0.2.0/25',
  '192.0.2.128/26',
  '192.0.2.5',
];
const CLIENTS = [
  '2001:db8:a::1',
  '2001:db8:a:5::1',
  '2001:db8:a:5::2',
  '2001:db8:b::1',
  '2001:db8:b:5::1',
  '2001:db8:c::1',
  '192.0.2.5',
  '192.0.2.6',
  '192.0.2.130',
  '192.0.2.200',
];
/** `acl shared { ... };` in named.conf, named by pools and by the default clients */
const SHARED = 'shared';

const negatable = (e: string, negated: boolean) => (negated ? `!${e}` : e);
const element = fc
  .tuple(
    fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom(...PREFIXES) },
      { weight: 2, arbitrary: fc.constant(SHARED) },
      { weight: 1, arbitrary: fc.constantFrom('any', 'none') },
    ),
    fc.nat(2),
  )
  .map(([e, n]) => negatable(e, n === 0));
const acl = (minLength: number) => fc.array(element, { minLength, maxLength: 3 });

interface Scenario {
  pools: PoolClients[];
  defaultClients: string[];
  shared: string[];
  using: Set<string>;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    pools: fc.array(fc.record({ clients: acl(1), uses: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    defaultClients: fc.oneof(fc.constant<string[]>(['any']), acl(0)),
    defaultUses: fc.boolean(),
    // mostly without a negation of its own: that is the named acl BIND merges into the list naming it
    shared: fc.array(
      fc.tuple(fc.constantFrom(...PREFIXES), fc.nat(3)).map(([p, n]) => negatable(p, n === 0)),
      { minLength: 1, maxLength: 2 },
    ),
  })
  .map(({ pools, defaultClients, defaultUses, shared }) => ({
    pools: pools.map((p, i) => ({ name: `p${i}`, clients: p.clients })),
    defaultClients,
    shared,
    using: new Set([...pools.flatMap((p, i) => (p.uses ? [`p${i}`] : [])), ...(defaultUses ? [DEFAULT_POOL] : [])]),
  }));

/** Each client's pool, by the same model: the first pool admitting it, else default, else none. */
function poolsOf(s: Scenario, env: AclEnv): Array<string | null> {
  const pools = s.pools.map((p) => ({ name: p.name, verdict: compileAcl(p.clients, env) }));
  const byDefault = compileAcl(s.defaultClients, env);
  return CLIENTS.map(
    (c) => pools.find((p) => p.verdict(c) === 'allow')?.name ?? (byDefault(c) === 'allow' ? DEFAULT_POOL : null),
  );
}

describe('clientsAcl properties', () => {
  it(`admits a client exactly when its pool uses the prefix (${RUNS} scenarios × ${CLIENTS.length} clients)`, () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const env: AclEnv = { acls: new Map([[SHARED, s.shared]]) };
        const rendered = clientsAcl(s.pools, s.defaultClients, s.using);
        expect(clientsAcl(s.pools, s.defaultClients, new Set(s.using)), 'same inputs, same text').toEqual(rendered);
        const admits = compileAcl(rendered, env);
        const pools = poolsOf(s, env);
        const got = CLIENTS.map((c, i) => `${c} in ${pools[i] ?? 'no pool'}: ${admits(c) === 'allow'}`);
        const want = CLIENTS.map(
          (c, i) => `${c} in ${pools[i] ?? 'no pool'}: ${pools[i] != null && s.using.has(pools[i])}`,
        );
        expect(got, `clients { ${rendered.join('; ')}; }`).toEqual(want);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
