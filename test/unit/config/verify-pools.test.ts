// `verify.pools` (issue 21): the source address to ask as a client of each pool, for the top-level
// bind: and each SSH target; every name must be a configured pool, one address asks for one pool.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const BASE = `prefixes:
  - { prefix: 2001:db8:64:a::/96, group: site-a }
  - { prefix: 2001:db8:64:b::/96, group: site-b }
probes:
  - { type: tcp, address: 192.0.2.10, port: 80 }
select: { groups: [site-a, site-b], min_active: 1, max_active: 1 }
`;
const POOLS = `pools:
  - { name: site-a, clients: [2001:db8:a::/48] }
  - { name: site-b, clients: [2001:db8:b::/48] }
`;
const SSH = '{ host: 192.0.2.53, user: u, private_key: /k, known_hosts: /kh }';

const parse = (text: string) => parseConfig(text, 'c.yaml', '/');

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config: verify.pools', () => {
  it('resolves to the pools asked, in the order of pools: (not of the map); a pool not listed is not asked', () => {
    const c = parse(`${BASE}${POOLS}bind:
  verify:
    source: 2001:db8:c::53
    pools: { site-b: 2001:db8:b::53, site-a: 2001:db8:a::53 }
`);
    expect(c.bind.verify).toEqual({
      server: '::1',
      port: 53,
      source: '2001:db8:c::53',
      timeout: 1000,
      interval: 300_000,
      pools: [
        { name: 'site-a', source: '2001:db8:a::53' },
        { name: 'site-b', source: '2001:db8:b::53' },
      ],
    });
    const one = parse(`${BASE}${POOLS}bind: { verify: { pools: { site-b: 2001:db8:b::53 } } }\n`);
    expect(one.bind.verify!.pools).toEqual([{ name: 'site-b', source: '2001:db8:b::53' }]);
  });

  it('with pools but none listed: no pool is asked; without pools: no pools at all (as before)', () => {
    expect(parse(`${BASE}${POOLS}`).bind.verify!.pools).toEqual([]);
    expect(parse(BASE).bind.verify).not.toHaveProperty('pools');
    // pool names that are also names of Object.prototype's members are just names
    const c = parse(`${BASE}pools:
  - { name: constructor, clients: [2001:db8:a::/48] }
  - { name: site-b, clients: [2001:db8:b::/48] }
bind: { verify: { pools: { site-b: 2001:db8:b::53 } } }
`);
    expect(c.bind.verify!.pools).toEqual([{ name: 'site-b', source: '2001:db8:b::53' }]);
  });

  it("an SSH target's verify takes pools too", () => {
    const c = parse(`${BASE}${POOLS}targets:
  - name: r
    ssh: ${SSH}
    bind: { verify: { pools: { site-a: 192.0.2.77 } } }
`);
    const r = c.targets[0]!;
    expect(r.kind === 'ssh' && r.bind.verify).toMatchObject({
      server: '192.0.2.53',
      pools: [{ name: 'site-a', source: '192.0.2.77' }],
    });
  });

  it('a name that is no configured pool: file, line and field of its key', () => {
    expect(
      problems(`${BASE}${POOLS}bind:
  verify:
    pools:
      site-a: 2001:db8:a::53
      site-c: 2001:db8:c::53
      default: 2001:db8:d::53
`),
    ).toEqual([
      'c.yaml:14:7: bind.verify.pools.site-c: "site-c" is not a configured pool (pools: site-a, site-b)',
      'c.yaml:15:7: bind.verify.pools.default: the default pool is asked from verify.source (an address in no' +
        ' pool); list only the pools of pools: here',
    ]);
    expect(problems(`${BASE}bind: { verify: { pools: { site-a: 2001:db8:a::1 } } }\n`)).toEqual([
      'c.yaml:7:28: bind.verify.pools.site-a: "site-a" is not a configured pool (the config has no pools:)',
    ]);
    expect(
      problems(`${BASE}${POOLS}targets:
  - name: local
  - name: r
    ssh: ${SSH}
    bind:
      verify: { pools: { site-x: 192.0.2.77 } }
`),
    ).toEqual([
      'c.yaml:15:26: targets[1].bind.verify.pools.site-x: "site-x" is not a configured pool (pools: site-a, site-b)',
    ]);
  });

  it('one address asks for one pool: not for two, nor for a pool and the default', () => {
    expect(
      problems(`${BASE}${POOLS}bind:
  verify:
    source: 2001:db8:c::53
    pools: { site-a: "2001:db8:c:0::53", site-b: 192.0.2.9 }
`),
    ).toEqual([
      'c.yaml:13:22: bind.verify.pools.site-a: 2001:db8:c:0::53 already asks as source (the default pool): a client' +
        ' is in one pool only, give each its own address',
    ]);
    expect(
      problems(`${BASE}${POOLS}bind: { verify: { pools: { site-a: 192.0.2.9, site-b: 192.0.2.9 } } }\n`).join('\n'),
    ).toMatch(/bind\.verify\.pools\.site-b: 192\.0\.2\.9 already asks as pool site-a/);
  });

  it('a source is an IP address', () => {
    expect(problems(`${BASE}${POOLS}bind: { verify: { pools: { site-a: gw.example } } }\n`).join('\n')).toMatch(
      /^c\.yaml:10:\d+: bind\.verify\.pools\.site-a: expected an IP address/m,
    );
  });

  it('a source of the other family than the server cannot ask it: the field says which (server an address)', () => {
    expect(
      problems(`${BASE}${POOLS}bind:
  verify:
    source: 192.0.2.53
    pools: { site-a: 2001:db8:a::53, site-b: 192.0.2.9 }
`),
    ).toEqual([
      'c.yaml:12:13: bind.verify.source: 192.0.2.53 cannot ask ::1: the source must be an IPv6 address like the server',
      'c.yaml:13:46: bind.verify.pools.site-b: 192.0.2.9 cannot ask ::1: the source must be an IPv6 address like' +
        ' the server',
    ]);
    const v4 = parse(`${BASE}${POOLS}bind: { verify: { server: 127.0.0.1, pools: { site-b: 127.0.0.9 } } }\n`);
    expect(v4.bind.verify!.pools).toEqual([{ name: 'site-b', source: '127.0.0.9' }]);
    // an SSH target asked by its host name: the family is not known at load
    expect(
      parse(`${BASE}${POOLS}targets:
  - name: r
    ssh: { host: ns1.example, user: u, private_key: /k, known_hosts: /kh }
    bind:
      verify: { pools: { site-a: 192.0.2.77 } }
`).targets,
    ).toHaveLength(1);
  });
});
