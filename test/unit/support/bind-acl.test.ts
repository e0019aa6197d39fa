// The ACL model of test/support/bind-acl.ts on the cases it exists for. Every case with a comment
// "named:" is also asked of a real named in test/integration/render/pool-acl.test.ts.
import { describe, expect, it } from 'vitest';
import { matchAcl, type Verdict } from '../../support/bind-acl.js';

const verdicts = (acl: string[], clients: string[], acls?: Record<string, string[]>): Record<string, Verdict> =>
  Object.fromEntries(clients.map((c) => [c, matchAcl(acl, c, { acls: new Map(Object.entries(acls ?? {})) })]));

describe('the BIND ACL model', () => {
  it('takes the first element that matches; ! denies', () => {
    const hole = ['!2001:db8:a:5::/64', '2001:db8:a::/48'];
    expect(verdicts(hole, ['2001:db8:a:5::1', '2001:db8:a::1', '2001:db8:b::1'])).toEqual({
      '2001:db8:a:5::1': 'deny',
      '2001:db8:a::1': 'allow',
      '2001:db8:b::1': 'none',
    });
    expect(matchAcl(['2001:db8:a::/48', '!2001:db8:a:5::/64'], '2001:db8:a:5::1')).toBe('allow');
    expect(matchAcl(['2001:db8:a::/48', '!2001:db8:a::/48'], '2001:db8:a::1')).toBe('allow');
    expect(matchAcl(['192.0.2.0/25', '!192.0.2.0/24'], '192.0.2.200')).toBe('deny');
    expect(matchAcl(['192.0.2.7'], '192.0.2.7')).toBe('allow');
    expect(matchAcl(['192.0.2.7'], '192.0.2.8')).toBe('none');
  });

  it('the case measured with named: a prefix for 2001:db8:aaaa::/48, another for everybody else', () => {
    const p1 = ['{ 2001:db8:aaaa::/48; }'];
    const p2 = ['!{ 2001:db8:aaaa::/48; }', 'any'];
    expect(verdicts(p1, ['2001:db8:aaaa::1', '::1'])).toEqual({ '2001:db8:aaaa::1': 'allow', '::1': 'none' });
    expect(verdicts(p2, ['2001:db8:aaaa::1', '::1'])).toEqual({ '2001:db8:aaaa::1': 'deny', '::1': 'allow' });
  });

  it('a negative match inside a nested list is no match for the outer element', () => {
    // named: the hole of the nested list goes on to `any`
    const acl = ['!{ !2001:db8:b:5::/64; 2001:db8:b::/48; }', 'any'];
    expect(verdicts(acl, ['2001:db8:b:5::1', '2001:db8:b::1', '2001:db8:c::1'])).toEqual({
      '2001:db8:b:5::1': 'allow',
      '2001:db8:b::1': 'deny',
      '2001:db8:c::1': 'allow',
    });
    // and never a surprise positive through double negation
    expect(matchAcl(['{ !2001:db8:b::/48; }'], '2001:db8:b::1')).toBe('none');
  });

  it('named acls are matched like nested lists', () => {
    const acls = { sitec: ['2001:db8:c::/48', '192.0.2.128/26'], holed: ['!2001:db8:c:5::/64', '2001:db8:c::/48'] };
    expect(verdicts(['sitec'], ['2001:db8:c::1', '192.0.2.130', '192.0.2.1'], acls)).toEqual({
      '2001:db8:c::1': 'allow',
      '192.0.2.130': 'allow',
      '192.0.2.1': 'none',
    });
    expect(verdicts(['!holed', 'any'], ['2001:db8:c:5::1', '2001:db8:c::1'], acls)).toEqual({
      '2001:db8:c:5::1': 'allow',
      '2001:db8:c::1': 'deny',
    });
    expect(() => matchAcl(['nosuch'], '2001:db8::1')).toThrow(/undefined acl "nosuch"/);
    expect(() => matchAcl(['loop'], '2001:db8::1', { acls: new Map([['loop', ['loop']]]) })).toThrow(/too deep/);
  });

  it('any and none cover both families, ::/0 and 0.0.0.0/0 only their own', () => {
    const both = ['2001:db8:a::1', '192.0.2.1'];
    expect(verdicts(['any'], both)).toEqual({ '2001:db8:a::1': 'allow', '192.0.2.1': 'allow' });
    expect(verdicts(['none'], both)).toEqual({ '2001:db8:a::1': 'deny', '192.0.2.1': 'deny' });
    // named: !none admits everybody
    expect(verdicts(['!none'], both)).toEqual({ '2001:db8:a::1': 'allow', '192.0.2.1': 'allow' });
    // named: ::/0 is IPv6 only, 0.0.0.0/0 IPv4 only
    expect(verdicts(['::/0'], both)).toEqual({ '2001:db8:a::1': 'allow', '192.0.2.1': 'none' });
    expect(verdicts(['0.0.0.0/0'], both)).toEqual({ '2001:db8:a::1': 'none', '192.0.2.1': 'allow' });
    // a v4-mapped client is an IPv6 address (match-mapped-addresses no)
    expect(matchAcl(['192.0.2.0/24'], '::ffff:192.0.2.1')).toBe('none');
  });

  it("BIND's merge: a negated list without negations turns an earlier positive entry negative", () => {
    // named: first-match reading would admit 2001:db8:a::1 here; BIND does not
    expect(matchAcl(['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/48; }'], '2001:db8:a::1')).toBe('deny');
    expect(matchAcl(['2001:db8:a::/48', '!{ 2001:db8:a::/48; }'], '2001:db8:a::1')).toBe('deny');
    // named: `none` in the negated list keeps it apart, and first match holds again
    expect(matchAcl(['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/48; none; }'], '2001:db8:a::1')).toBe('allow');
    // named: the same through a negated named acl, and for any
    const acls = { alsoa: ['2001:db8:a::/48'] };
    expect(verdicts(['{ 2001:db8:a::/48; }', '!alsoa', 'any'], ['2001:db8:a::1', '2001:db8:b::1'], acls)).toEqual({
      '2001:db8:a::1': 'deny',
      '2001:db8:b::1': 'allow',
    });
    expect(verdicts(['{ any; }', '!{ any; }'], ['2001:db8:a::1', '192.0.2.1'])).toEqual({
      '2001:db8:a::1': 'deny',
      '192.0.2.1': 'deny',
    });
    // other prefixes are left alone, and a positive merge changes nothing
    expect(matchAcl(['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/64; }'], '2001:db8:a::1')).toBe('allow');
    expect(matchAcl(['!{ 2001:db8:a::/48; }', '{ 2001:db8:a::/48; }'], '2001:db8:a::1')).toBe('deny');
  });

  it('localhost and localnets are the addresses given for named', () => {
    const env = { localhost: ['2001:db8:53::53'], localnets: ['2001:db8:53::/64'] };
    expect(matchAcl(['localhost'], '2001:db8:53::53', env)).toBe('allow');
    expect(matchAcl(['localhost'], '2001:db8:53::54', env)).toBe('none');
    expect(matchAcl(['!localnets', 'any'], '2001:db8:53::54', env)).toBe('deny');
    expect(() => matchAcl(['localhost'], '2001:db8:53::53')).toThrow(/named's addresses/);
  });

  it('refuses what BIND refuses', () => {
    expect(() => matchAcl(['2001:db8:a::1/48'], '2001:db8:a::1')).toThrow(/mismatch/);
    expect(() => matchAcl(['192.0.2.1/24'], '192.0.2.1')).toThrow(/mismatch/);
    expect(() => matchAcl(['{ 2001:db8:a::/48 }'], '2001:db8:a::1')).toThrow(/missing ;/);
    expect(() => matchAcl(['!!any'], '2001:db8:a::1')).toThrow(/unexpected !/);
  });
});
