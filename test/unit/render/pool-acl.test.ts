// clientsAcl (src/render/pool-acl.ts) on readable examples, each judged by the BIND ACL model as well
// as by its text. The last group holds what the property test's shrunk counterexamples showed against
// deliberately broken versions of clientsAcl (made readable): what each part of the rule is there for.
import { describe, expect, it } from 'vitest';
import { aclText, clientsAcl, DEFAULT_POOL, type PoolClients } from '../../../src/render/pool-acl.js';
import { compileAcl, type AclEnv } from '../../support/bind-acl.js';

const SITE_A: PoolClients = { name: 'site-a', clients: ['2001:db8:a::/48', '192.0.2.0/25'] };
const SITE_B: PoolClients = { name: 'site-b', clients: ['2001:db8:b::/48'] };
/** site C has a hole: its /64 of guests is in no pool (so in the default pool) */
const SITE_C: PoolClients = { name: 'site-c', clients: ['!2001:db8:c:5::/64', '2001:db8:c::/48'] };
const ANY = ['any'];

const uses = (...names: string[]) => new Set(names);

/** which of `clients` the elements admit */
function admitted(elements: string[], clients: string[], env: AclEnv = {}): string[] {
  const verdict = compileAcl(elements, env);
  return clients.filter((c) => verdict(c) === 'allow');
}

const CLIENTS = ['2001:db8:a::1', '192.0.2.1', '2001:db8:b::1', '2001:db8:c::1', '2001:db8:c:5::1', '2001:db8:f::1'];

describe('clientsAcl', () => {
  it('two sites and the default pool', () => {
    const pools = [SITE_A, SITE_B];
    const forB = clientsAcl(pools, ANY, uses('site-b', DEFAULT_POOL));
    expect(forB).toEqual(['!{ 2001:db8:a::/48; 192.0.2.0/25; none; }', '{ 2001:db8:b::/48; }', '{ any; }']);
    expect(admitted(forB, CLIENTS)).toEqual(['2001:db8:b::1', '2001:db8:c::1', '2001:db8:c:5::1', '2001:db8:f::1']);
    // a trailing negation changes nothing: the last pool's statement is its own ACL
    expect(clientsAcl(pools, ANY, uses('site-a'))).toEqual(['2001:db8:a::/48', '192.0.2.0/25']);
    expect(clientsAcl(pools, ANY, uses('site-a', 'site-b'))).toEqual([
      '{ 2001:db8:a::/48; 192.0.2.0/25; }',
      '{ 2001:db8:b::/48; }',
    ]);
    expect(clientsAcl(pools, ANY, uses(DEFAULT_POOL))).toEqual([
      '!{ 2001:db8:a::/48; 192.0.2.0/25; none; }',
      '!{ 2001:db8:b::/48; none; }',
      '{ any; }',
    ]);
    // everybody uses it: any
    expect(clientsAcl(pools, ANY, uses('site-a', 'site-b', DEFAULT_POOL))).toEqual(['any']);
  });

  it('a pool with a negated hole: the hole goes on to the next pool, or to the default pool', () => {
    const pools = [SITE_C, { name: 'guests', clients: ['2001:db8:c:5::/64'] }];
    const forGuests = clientsAcl(pools, ANY, uses('guests'));
    expect(forGuests).toEqual(['!{ !2001:db8:c:5::/64; 2001:db8:c::/48; none; }', '{ 2001:db8:c:5::/64; }']);
    expect(admitted(forGuests, CLIENTS)).toEqual(['2001:db8:c:5::1']);
    const forDefault = clientsAcl([SITE_C], ANY, uses(DEFAULT_POOL));
    expect(admitted(forDefault, CLIENTS)).toEqual(CLIENTS.filter((c) => c !== '2001:db8:c::1'));
  });

  it('a prefix used by no pool, or only by pools nobody reaches: none', () => {
    expect(clientsAcl([SITE_A, SITE_B], ANY, uses())).toEqual(['none']);
    expect(clientsAcl([], ANY, uses())).toEqual(['none']);
    // everybody is in site-a: the default pool is never reached
    expect(clientsAcl([{ name: 'all', clients: ANY }], ANY, uses(DEFAULT_POOL))).toEqual(['none']);
    // a pool without clients admits nobody
    expect(clientsAcl([{ name: 'empty', clients: [] }], ['2001:db8::/32'], uses('empty'))).toEqual(['none']);
    expect(clientsAcl([SITE_A], [], uses(DEFAULT_POOL))).toEqual(['none']);
  });

  it('without pools the statement is bind.dns64.clients as it is', () => {
    expect(clientsAcl([], ANY, uses(DEFAULT_POOL))).toEqual(['any']);
    const limited = ['!2001:db8:f::/48', '2001:db8::/32', 'trusted'];
    expect(clientsAcl([], limited, uses(DEFAULT_POOL))).toEqual(limited);
  });

  it('same inputs, same text; pool names are checked', () => {
    const a = clientsAcl([SITE_A, SITE_B, SITE_C], ANY, new Set(['site-c', DEFAULT_POOL, 'site-a']));
    const b = clientsAcl([SITE_A, SITE_B, SITE_C], ANY, new Set(['site-a', 'site-c', DEFAULT_POOL]));
    expect(a).toEqual(b);
    expect(() => clientsAcl([SITE_A, SITE_A], ANY, uses())).toThrow(/listed twice/);
    expect(() => clientsAcl([{ name: DEFAULT_POOL, clients: ANY }], ANY, uses())).toThrow(/default pool/);
    expect(() => clientsAcl([SITE_A], ANY, uses('site-x'))).toThrow(/"site-x" uses a prefix but is no pool/);
  });

  it('aclText: the elements as BIND reads them', () => {
    expect(aclText(['!{ 2001:db8:a::/48; none; }', '{ 2001:db8:b::/48; }', 'any'])).toBe(
      '{ !{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; }; any; }',
    );
    expect(aclText(['none'])).toBe('{ none; }');
  });
});

describe('counterexamples the property test found against broken versions', () => {
  it('without `none` in a negated block, BIND merges it and takes an earlier pool its prefix', () => {
    // pools p0 and p1 both list 2001:db8::/32; p0 comes first and uses the prefix
    const pools = [
      { name: 'p0', clients: ['2001:db8::/32'] },
      { name: 'p1', clients: ['2001:db8::/32'] },
      { name: 'p2', clients: ['2001:db8:a::/48'] },
    ];
    const acl = clientsAcl(pools, [], uses('p0', 'p2'));
    expect(acl).toEqual(['{ 2001:db8::/32; }', '!{ 2001:db8::/32; none; }', '{ 2001:db8:a::/48; }']);
    expect(admitted(acl, ['2001:db8:a::1', '2001:db8:b::1'])).toEqual(['2001:db8:a::1', '2001:db8:b::1']);
    const merged = acl.map((e) => e.replace('; none; }', '; }'));
    expect(admitted(merged, ['2001:db8:a::1', '2001:db8:b::1'])).toEqual([]);
  });

  it('the last block stays in braces: inlined, a negated acl name would be merged the same way', () => {
    const env: AclEnv = { acls: new Map([['shared', ['2001:db8::/32']]]) };
    const acl = clientsAcl([{ name: 'p0', clients: ['shared'] }], ['!shared'], uses('p0', DEFAULT_POOL));
    expect(acl).toEqual(['{ shared; }', '{ !shared; }']);
    expect(admitted(acl, ['2001:db8:a::1'], env)).toEqual(['2001:db8:a::1']);
    expect(admitted(['{ shared; }', '!shared'], ['2001:db8:a::1'], env)).toEqual([]);
  });

  it('the default pool is only the clients in no pool, and only when it uses the prefix', () => {
    const pools = [{ name: 'p0', clients: ['!2001:db8::/32'] }];
    expect(clientsAcl(pools, ANY, uses())).toEqual(['none']);
    // p0 admits nobody (it only denies), so everybody is in the default pool
    expect(admitted(clientsAcl(pools, ANY, uses(DEFAULT_POOL)), CLIENTS)).toEqual(CLIENTS);
    // a pool that does not use the prefix is held back even when the default pool uses it
    expect(admitted(clientsAcl([SITE_A], ANY, uses(DEFAULT_POOL)), CLIENTS)).toEqual(CLIENTS.slice(2));
  });
});
