import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { extractIpv4, parsePrefix, prefixEmbedding, synthesize } from '../../../src/lib/prefix.js';
import { EVERY_LENGTH } from '../../support/prefixes.js';

describe('RFC 6052 synthesis', () => {
  // RFC 6052 section 2.4, the example table for 192.0.2.33.
  const table: Array<[string, string]> = [
    ['2001:db8::/32', '2001:db8:c000:221::'],
    ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
    ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
    ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
    ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
    ['2001:db8:122:344::/96', '2001:db8:122:344::c000:221'],
    ['64:ff9b::/96', '64:ff9b::c000:221'],
  ];
  it.each(table)('%s embeds 192.0.2.33 as %s', (prefix, expected) => {
    const p = parsePrefix(prefix);
    expect(synthesize(p, '192.0.2.33')).toBe(expected);
    expect(extractIpv4(p, expected)).toBe('192.0.2.33');
  });

  it('keeps the u-octet (bits 64..71) zero for every length', () => {
    for (const [prefix] of table) {
      const addr = synthesize(parsePrefix(prefix), '255.255.255.255');
      expect(ipaddr.IPv6.parse(addr).toByteArray()[8], `${prefix} -> ${addr}`).toBe(0);
    }
  });
});

describe('parsePrefix', () => {
  it('normalises text and treats a bare address as /96', () => {
    expect(parsePrefix('2A00:1098:002B:0000::').text).toBe('2a00:1098:2b::/96');
    expect(parsePrefix(' 2001:DB8:64:c::/64 ').text).toBe('2001:db8:64:c::/64');
  });
  it.each([
    ['2001:db8::/80', /not one of \/32 \/40 \/48 \/56 \/64 \/96/],
    ['2001:db8::/129', /not one of/],
    ['2001:db8::/abc', /not a number/],
    ['2001:db8:0:0:100::/96', /u-octet/],
    ['2001:db8::1/64', /bits beyond \/64 are set/],
    ['192.0.2.0/24', /not an IPv6 prefix/],
    ['2001:db8::/96/1', /not an IPv6 prefix/],
    ['::ffff:0:0/96', /IPv4-mapped/],
    ['fe80::%eth0/64', /not an IPv6 prefix/],
  ])('rejects %s', (input, message) => {
    expect(() => parsePrefix(input)).toThrow(message);
  });
  it('accepts all legal lengths', () => {
    for (const len of [32, 40, 48, 56, 64, 96]) expect(parsePrefix(`2001:db8::/${len}`).length).toBe(len);
  });
});

describe('prefixEmbedding', () => {
  it('recovers the prefix of 192.0.0.170/171 for every RFC 6052 length, and nothing else', () => {
    for (const text of EVERY_LENGTH) {
      const p = parsePrefix(text);
      for (const v4 of ['192.0.0.170', '192.0.0.171'])
        expect(prefixEmbedding(synthesize(p, v4), v4)?.text).toBe(p.text);
      expect(prefixEmbedding(synthesize(p, '192.0.2.1'), '192.0.0.170')).toBeNull();
    }
    expect(prefixEmbedding('2001:db8:64:c:c0:0:aa00:0', '192.0.0.170')?.text).toBe('2001:db8:64:c::/64');
    expect(prefixEmbedding('2001:db8:64:c:c0:0:aa00:1', '192.0.0.170')).toBeNull(); // suffix not zero
  });
});
