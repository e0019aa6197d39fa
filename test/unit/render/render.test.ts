import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { renderDns64, renderStatic, staticSelection } from '../../../src/render/render.js';

const POOL = { clients: ['2001:db8:a::/48'], groups: [], min_active: 1, max_active: 2, origin: 'c.yaml:9' };

const config = parseConfig(
  `prefixes:
  - { prefix: 2001:db8:64:a::/96, name: gw-a, group: local }
  - { prefix: 2001:db8:64:b::/96 }
  - { prefix: 2001:db8:64:c::/64, name: gw-c }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
select: { groups: [local] }
bind:
  dns64: { clients: [any], exclude: ["::ffff:0:0/96"], recursive_only: true, break_dnssec: false, suffix: "::" }
`,
  'test.yaml',
  '/tmp',
);

describe('rendering', () => {
  it('renders active and draining prefixes in config order with the dns64 options', () => {
    const text = renderDns64(config, {
      active: ['2001:db8:64:c::/64', '2001:db8:64:a::/96'],
      draining: { '2001:db8:64:b::/96': 1 },
      failsafe: false,
    });
    expect(text).toBe(`// Managed by nat64-health; do not edit: changes are overwritten.
dns64 2001:db8:64:a::/96 {
\t// gw-a (group local)
\tclients { any; };
\texclude { ::ffff:0:0/96; };
\tsuffix ::;
\trecursive-only yes;
\tbreak-dnssec no;
};
dns64 2001:db8:64:b::/96 {
\t// 2001:db8:64:b::/96 is draining: no new synthesis, reverse lookups still answered.
\tclients { none; };
\texclude { ::ffff:0:0/96; };
\tsuffix ::;
\trecursive-only yes;
\tbreak-dnssec no;
};
dns64 2001:db8:64:c::/64 {
\t// gw-c
\tclients { any; };
\texclude { ::ffff:0:0/96; };
\tsuffix ::;
\trecursive-only yes;
\tbreak-dnssec no;
};
`);
  });

  it('renders the fail-safe set like any other (no reload just for a comment), and says so when empty', () => {
    const set = { active: ['2001:db8:64:a::/96'], draining: {} };
    expect(renderDns64(config, { ...set, failsafe: true })).toBe(renderDns64(config, { ...set, failsafe: false }));
    const none = renderDns64(config, { active: [], draining: {}, failsafe: false });
    expect(none).toMatch(/No prefix is active/);
    expect(none).not.toMatch(/dns64 /);
  });

  it('renders a removed prefix that is still draining after the configured ones', () => {
    const text = renderDns64(config, {
      active: ['2001:db8:64:a::/96'],
      draining: { '2001:db8:99::/96': 1, '2001:db8:64:b::/96': 2 },
      failsafe: false,
    });
    expect(text.match(/^dns64 \S+/gm)).toEqual([
      'dns64 2001:db8:64:a::/96',
      'dns64 2001:db8:64:b::/96',
      'dns64 2001:db8:99::/96',
    ]);
    expect(text).toMatch(/dns64 2001:db8:99::\/96 \{\n\t\/\/ 2001:db8:99::\/96 is draining.*\n\tclients \{ none; \};/);
  });

  it('renders every configured prefix for --static', () => {
    expect(renderDns64(config, staticSelection(config)).match(/^dns64 /gm)).toHaveLength(3);
    expect(renderStatic(config)).toBe(renderDns64(config, staticSelection(config)));
  });

  it('--static with client pools: every prefix for every client of every pool', () => {
    const pooled = {
      ...config,
      pools: [
        { ...POOL, name: 'site-a' },
        { ...POOL, name: 'site-b', clients: ['site-b'] },
      ],
    };
    expect(renderStatic(pooled).match(/^\tclients \{ .* \};/gm)).toEqual(Array(3).fill('\tclients { any; };'));
  });
});
