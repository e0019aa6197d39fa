/**
 * Pools against a real named: dns64 statements whose `clients` come from clientsAcl, for three pools
 * (one with a negated hole, one defined by an `acl` in named.conf) and the default pool, with prefixes
 * used by different pools. Each client asks `dig -b CLIENT ipv4only.arpa AAAA` and must get exactly the
 * prefixes its pool uses. The same questions go to the BIND ACL model of test/support/bind-acl.ts, which
 * must answer as named does, here and for the corner cases the model's unit test names.
 */
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclText, clientsAcl, DEFAULT_POOL, type PoolClients } from '../../../src/render/pool-acl.js';
import { compileAcl, type AclEnv } from '../../support/bind-acl.js';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { cleanupStaleNetns, createNetns, type Netns } from '../../support/netns.js';

/**
 * named.conf's acls. Site C's list also holds site B's hole and, dead behind site A, A's range; the
 * lab networks are kept out of the default pool, and one of them is in site A.
 */
const ACLS = new Map<string, string[]>([
  ['sitec', ['2001:db8:c::/48', '2001:db8:b:5::/64', '2001:db8:a::/48', '192.0.2.128/26']],
  ['lab', ['2001:db8:f::/48', '192.0.2.0/25']],
  ['alsoa', ['2001:db8:a::/48']],
]);
const ENV: AclEnv = { acls: ACLS };
const POOLS: PoolClients[] = [
  { name: 'site-a', clients: ['2001:db8:a::/48', '192.0.2.0/25'] },
  { name: 'site-b', clients: ['!2001:db8:b:5::/64', '2001:db8:b::/48'] },
  { name: 'site-c', clients: ['sitec'] },
];
/** bind.dns64.clients: everybody but the lab */
const DEFAULT_CLIENTS = ['!lab', 'any'];

/** each prefix and the pools that use it */
const USING: Array<[string, string[]]> = [
  ['2001:db8:64:1::/96', ['site-a']],
  ['2001:db8:64:2::/96', ['site-b', DEFAULT_POOL]],
  ['2001:db8:64:3::/96', ['site-c']],
  ['2001:db8:64:4::/96', ['site-a', 'site-b', 'site-c', DEFAULT_POOL]],
  ['2001:db8:64:5::/96', []],
  ['2001:db8:64:6::/96', ['site-a', 'site-c']],
  ['2001:db8:64:7::/96', ['site-a', DEFAULT_POOL]],
  ['2001:db8:64:8::/96', [DEFAULT_POOL]],
];

/** each client and its pool */
const CLIENTS: Array<[string, string | null]> = [
  ['2001:db8:a::1', 'site-a'],
  ['192.0.2.1', 'site-a'],
  ['2001:db8:b::1', 'site-b'],
  ['2001:db8:b:5::1', 'site-c'], // site B's hole, listed in acl sitec
  ['2001:db8:c::1', 'site-c'],
  ['192.0.2.129', 'site-c'],
  ['2001:db8:d::1', DEFAULT_POOL],
  ['192.0.2.200', DEFAULT_POOL],
  ['2001:db8:f::1', null],
];

/** corner cases of BIND's ACLs (see test/unit/support/bind-acl.test.ts): model and named must agree */
const CORNERS: string[][] = [
  ['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/48; }'],
  ['2001:db8:a::/48', '!{ 2001:db8:a::/48; }'],
  ['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/48; none; }'],
  ['{ 2001:db8:a::/48; }', '!alsoa', 'any'],
  ['{ any; }', '!{ any; }'],
  ['{ 2001:db8:a::/48; }', '!{ 2001:db8:a::/64; }'],
  ['!{ 2001:db8:a::/48; }', '{ 2001:db8:a::/48; }'],
  ['!{ 2001:db8:a::/48; }', 'any'],
  ['!{ !2001:db8:b:5::/64; 2001:db8:b::/48; }', 'any'],
  ['{ !2001:db8:b::/48; }'],
  ['!none'],
  ['::/0'],
  ['0.0.0.0/0'],
];

interface Statement {
  prefix: string;
  clients: string[];
}

const POOL_STATEMENTS: Statement[] = USING.map(([prefix, using]) => ({
  prefix,
  clients: clientsAcl(POOLS, DEFAULT_CLIENTS, new Set(using)),
}));
/** the pool statements with the `none` that keeps negated blocks apart taken out */
const MERGED_STATEMENTS: Statement[] = POOL_STATEMENTS.map((s, i) => ({
  prefix: `2001:db8:66:${i + 1}::/96`,
  clients: s.clients.map((e) => e.replace(/; none; }$/, '; }')),
}));
const CORNER_STATEMENTS: Statement[] = CORNERS.map((clients, i) => ({ prefix: `2001:db8:65:${i + 1}::/96`, clients }));
const STATEMENTS = [...POOL_STATEMENTS, ...MERGED_STATEMENTS, ...CORNER_STATEMENTS];

const dns64 = STATEMENTS.map((s) => `dns64 ${s.prefix} { clients ${aclText(s.clients)}; };\n`).join('');
const conf = [...ACLS].map(([name, elements]) => `acl ${name} ${aclText(elements)};\n`).join('');

const byPrefix = (a: string, b: string) => a.localeCompare(b);

let ns: Netns;
let named6: NamedInstance;
let named4: NamedInstance;
/** what each client is served: the /96 prefixes of its ipv4only.arpa AAAA answer */
const served = new Map<string, string[]>();

/** The prefix of an RFC 6052 /96 address of 192.0.0.170 or 192.0.0.171. */
function prefixOf(address: string): string {
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  expect(['192.0.0.170', '192.0.0.171'], address).toContain(bytes.slice(12).join('.'));
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address}/96`).toString()}/96`;
}

beforeAll(async () => {
  await cleanupStaleNetns();
  ns = await createNetns('poolacl');
  for (const [client] of CLIENTS) await ns.addAddress(client);
  // one named per family, the same configuration: a client asks in its own family
  const opts = { netns: ns, mode: 'include' as const, dns64, conf };
  named6 = await startNamed({ ...opts, listen: '2001:db8:53::53' });
  named4 = await startNamed({ ...opts, listen: '198.51.100.53' });
  for (const [client] of CLIENTS) {
    const named = client.includes(':') ? named6 : named4;
    const out = await named.dig(['-b', client, '+short', 'AAAA', 'ipv4only.arpa']);
    const addresses = out.split('\n').filter((l) => l.trim() !== '');
    served.set(client, [...new Set(addresses.map(prefixOf))].sort(byPrefix));
  }
});

afterAll(async () => {
  await named6?.stop();
  await named4?.stop();
  await ns?.destroy();
});

/** what the model says each client is served, of these statements */
function modelServes(statements: Statement[], client: string): string[] {
  return statements.filter((s) => compileAcl(s.clients, ENV)(client) === 'allow').map((s) => s.prefix);
}

/** what named serves each client, of these statements */
function namedServes(statements: Statement[], client: string): string[] {
  const prefixes = new Set(statements.map((s) => s.prefix));
  return (served.get(client) ?? []).filter((p) => prefixes.has(p));
}

describe('clientsAcl against named', () => {
  it('the statements read as expected', () => {
    expect(Object.fromEntries(POOL_STATEMENTS.map((s) => [s.prefix, aclText(s.clients)]))).toEqual({
      '2001:db8:64:1::/96': '{ 2001:db8:a::/48; 192.0.2.0/25; }',
      '2001:db8:64:2::/96':
        '{ !{ 2001:db8:a::/48; 192.0.2.0/25; none; }; { !2001:db8:b:5::/64; 2001:db8:b::/48; }; ' +
        '!{ sitec; none; }; { !lab; any; }; }',
      '2001:db8:64:3::/96':
        '{ !{ 2001:db8:a::/48; 192.0.2.0/25; none; }; !{ !2001:db8:b:5::/64; 2001:db8:b::/48; none; }; { sitec; }; }',
      '2001:db8:64:4::/96':
        '{ { 2001:db8:a::/48; 192.0.2.0/25; }; { !2001:db8:b:5::/64; 2001:db8:b::/48; }; { sitec; }; ' +
        '{ !lab; any; }; }',
      '2001:db8:64:5::/96': '{ none; }',
      '2001:db8:64:6::/96':
        '{ { 2001:db8:a::/48; 192.0.2.0/25; }; !{ !2001:db8:b:5::/64; 2001:db8:b::/48; none; }; { sitec; }; }',
      '2001:db8:64:7::/96':
        '{ { 2001:db8:a::/48; 192.0.2.0/25; }; !{ !2001:db8:b:5::/64; 2001:db8:b::/48; none; }; ' +
        '!{ sitec; none; }; { !lab; any; }; }',
      '2001:db8:64:8::/96':
        '{ !{ 2001:db8:a::/48; 192.0.2.0/25; none; }; !{ !2001:db8:b:5::/64; 2001:db8:b::/48; none; }; ' +
        '!{ sitec; none; }; { !lab; any; }; }',
    });
  });

  it.each(CLIENTS)('%s (pool %s) is served exactly the prefixes its pool uses', (client, pool) => {
    const expected = USING.filter(([, using]) => pool !== null && using.includes(pool)).map(([p]) => p);
    expect(namedServes(POOL_STATEMENTS, client)).toEqual(expected.sort(byPrefix));
  });

  it('the model answers as named does, for every statement and client', () => {
    for (const [client] of CLIENTS) {
      expect(modelServes(STATEMENTS, client).sort(byPrefix), client).toEqual(served.get(client));
    }
  });

  it('without the `none`, named takes prefix 7 from site A: 2001:db8:a::/48 is also in acl sitec', () => {
    const prefix7 = MERGED_STATEMENTS[6]!.prefix;
    expect(namedServes(MERGED_STATEMENTS, '2001:db8:a::1')).not.toContain(prefix7);
    expect(namedServes(MERGED_STATEMENTS, '192.0.2.1')).toContain(prefix7);
  });
});
