// The configured prefixes plus the discovered ones (src/discover/prefixes.ts).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { withDiscovered } from '../../../src/discover/prefixes.js';
import { A, E } from '../../support/prefixes.js';

const F = '2001:db8:65:1::/64';
const config = parseConfig(
  `prefixes:
  - { prefix: ${A}, name: gw-a, group: local }
  - { discover: { server: "2001:db8:0:0::53" }, group: isp, name: isp-dns64 }
  - { discover: { server: 192.0.2.53, port: 5353 } }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
select: { groups: [local, isp] }
`,
  'c.yaml',
  '/tmp',
);

describe('withDiscovered', () => {
  it("adds each source's prefixes after the configured ones, named NAME-n in prefix order, in its group", () => {
    expect(config.discover.map((d) => d.id)).toEqual(['[2001:db8::53]:53', '192.0.2.53:5353']);
    const { config: c, left_out } = withDiscovered(
      config,
      new Map([
        ['[2001:db8::53]:53', [F, E]],
        ['192.0.2.53:5353', ['2001:db8:77::/48']],
      ]),
    );
    expect(left_out).toEqual([]);
    expect(c.prefixes.map((p) => [p.id, p.name, p.group, p.groupRank, p.order, p.discovered ?? null])).toEqual([
      [A, 'gw-a', 'local', 0, 0, null],
      [E, 'isp-dns64-1', 'isp', 1, 1, '[2001:db8::53]:53'],
      [F, 'isp-dns64-2', 'isp', 1, 2, '[2001:db8::53]:53'],
      ['2001:db8:77::/48', 'discovered-1', null, 2, 3, '192.0.2.53:5353'],
    ]);
    expect(c.prefixes[1]!.origin).toBe('discovered from [2001:db8::53]:53 (c.yaml:3)');
    // the loaded config itself is left as it was
    expect(config.prefixes.map((p) => p.id)).toEqual([A]);
  });

  it('a prefix both configured and discovered is one prefix: the configured one, marked as discovered', () => {
    const { config: c } = withDiscovered(
      config,
      new Map([
        ['[2001:db8::53]:53', [A, E]],
        ['192.0.2.53:5353', [E]],
      ]),
    );
    expect(c.prefixes.map((p) => [p.id, p.name, p.discovered])).toEqual([
      [A, 'gw-a', '[2001:db8::53]:53'],
      [E, 'isp-dns64-1', '[2001:db8::53]:53'],
    ]);
    expect(config.prefixes[0]!.discovered).toBeUndefined();
  });

  it('no more than 256 prefixes in all: the rest are left out and named', () => {
    const many = Array.from({ length: 300 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/96`);
    const { config: c, left_out } = withDiscovered(config, new Map([['[2001:db8::53]:53', many]]));
    expect(c.prefixes).toHaveLength(256);
    expect(left_out).toHaveLength(45);
  });
});
