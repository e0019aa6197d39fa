// `pools:` (issue 21): each client pool's settings resolved (its own group order and set size, or
// select's), and every mistake named by file, line and field before anything reaches BIND.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const BASE = `prefixes:
  - { prefix: 2001:db8:64:a::/96, group: site-a }
  - { prefix: 2001:db8:64:b::/96, group: site-b }
  - { prefix: 2001:db8:64:f::/96, group: public }
probes:
  - { type: tcp, address: 192.0.2.10, port: 80 }
select: { groups: [site-a, site-b, public], min_active: 1, max_active: 2 }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'c.yaml', '/');
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config: pools', () => {
  it('none by default: every client selects by select', () => {
    expect(parseConfig(BASE, 'c.yaml', '/').pools).toEqual([]);
  });

  it("resolves each pool: its own groups and sizes, or select's", () => {
    const c = parseConfig(
      `${BASE}pools:
  - name: site-a
    clients: [2001:db8:a::/48, 192.0.2.0/25]
    groups: [site-a, public]
    max_active: 1
  - name: site-b
    clients: [site-b-clients]
`,
      'c.yaml',
      '/',
    );
    expect(c.pools).toEqual([
      {
        name: 'site-a',
        clients: ['2001:db8:a::/48', '192.0.2.0/25'],
        groups: ['site-a', 'public'],
        min_active: 1,
        max_active: 1,
        origin: 'c.yaml:9',
      },
      {
        name: 'site-b',
        clients: ['site-b-clients'],
        groups: ['site-a', 'site-b', 'public'],
        min_active: 1,
        max_active: 2,
        origin: 'c.yaml:13',
      },
    ]);
  });

  it('names file, line and field of each mistake', () => {
    expect(
      problems(`${BASE}pools:
  - { name: default, clients: [2001:db8:a::/48] }
  - { name: site-a, clients: [] }
  - { name: "site b", clients: ["any; }; include x"] }
  - { name: site-a, clients: [2001:db8:a::/48], groups: [site-c], min_active: 3 }
  - { name: site-d, clients: [2001:db8:d::/48], colour: red }
`),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^c\.yaml:9:\d+: pools\[0\]\.name: "default" is the pool of the clients in no pool/),
        expect.stringMatching(/^c\.yaml:10:\d+: pools\[1\]\.clients: at least one ACL element/),
        expect.stringMatching(/^c\.yaml:11:\d+: pools\[2\]\.name: use letters, digits/),
        expect.stringMatching(/^c\.yaml:11:\d+: pools\[2\]\.clients\[0\]: an ACL element must not contain/),
        expect.stringMatching(/^c\.yaml:13:\d+: pools\[4\]\.colour: unknown key/),
      ]),
    );
    // checked against each other once each field is valid
    expect(
      problems(`${BASE}pools:
  - { name: site-a, clients: [2001:db8:a::/48] }
  - { name: site-a, clients: [2001:db8:b::/48], groups: [site-c], min_active: 3 }
`),
    ).toEqual([
      expect.stringMatching(/^c\.yaml:10:\d+: pools\[1\]\.name: pools\[0\] has this name/),
      expect.stringMatching(
        /^c\.yaml:10:\d+: pools\[1\]\.min_active: min_active \(3\) is larger than max_active \(2\)/,
      ),
      expect.stringMatching(/^c\.yaml:10:\d+: pools\[1\]\.groups\[0\]: group "site-c" is not listed in select.groups/),
    ]);
  });
});
