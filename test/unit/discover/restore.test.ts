// The previous run's discovered sets and the prefix set they make (src/discover/restore.ts).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { Discovery } from '../../../src/discover/discover.js';
import { effectivePrefixes, restoredDiscovery } from '../../../src/discover/restore.js';
import { createLogger } from '../../../src/lib/log.js';
import { A, B, C } from '../../support/prefixes.js';

const config = parseConfig(
  `prefixes:
  - { prefix: ${A}, name: gw-a }
  - { discover: { server: 2001:db8::53 }, name: isp, group: isp }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
select: { groups: [isp] }
`,
  'c.yaml',
  '/tmp',
);
const source = '[2001:db8::53]:53';
const now = Date.parse('2026-01-01T12:00:00Z');
const answered_at = '2026-01-01T11:59:00Z';

describe('restoredDiscovery', () => {
  it('keeps configured sources with well-formed prefixes and past answers, canonical and sorted', () => {
    const { states, dropped } = restoredDiscovery(
      [
        { source, prefixes: [C, '2001:0db8:64:b::/96', 'nonsense'], answered_at },
        { source: '[2001:db8::99]:53', prefixes: [C], answered_at }, // no longer configured
      ],
      config.discover,
      now,
    );
    expect([...states]).toEqual([
      [source, { prefixes: [B, C], answered_at: Date.parse(answered_at), next_at: now, error: null, kept_until: null }],
    ]);
    expect(dropped).toEqual([expect.stringMatching(/^discovery \[2001:db8::53\]:53: "nonsense": /)]);
  });

  it('an answer in the future or a list that is not one is dropped and said', () => {
    const future = restoredDiscovery(
      [{ source, prefixes: [B], answered_at: '2999-01-01T00:00:00Z' }],
      config.discover,
      now,
    );
    expect(future.states.size).toBe(0);
    expect(future.dropped).toEqual([`discovery ${source}: answered_at "2999-01-01T00:00:00Z" is not a past time`]);
    expect(restoredDiscovery({ no: 'list' }, config.discover, now).dropped).toEqual([
      'discovery: not a list of sources',
    ]);
    expect(restoredDiscovery(undefined, config.discover, now)).toEqual({ states: new Map(), dropped: [] });
  });
});

describe('effectivePrefixes', () => {
  const recorded = { discovery: [{ source, prefixes: [C, B], answered_at }] };

  it('without a state file: the configured prefixes only', () => {
    expect(effectivePrefixes(config, null, now).prefixes.map((p) => p.id)).toEqual([A]);
  });

  it("adds the state file's discovered prefixes as the daemon does: after the configured, named, grouped", () => {
    const prefixes = effectivePrefixes(config, recorded, now).prefixes;
    expect(prefixes.map((p) => [p.id, p.name, p.group, p.discovered ?? null])).toEqual([
      [A, 'gw-a', null, null],
      [B, 'isp-1', 'isp', source],
      [C, 'isp-2', 'isp', source],
    ]);
  });

  it("is the daemon's own set after a restart from the same state file (Discovery.restore, then apply)", () => {
    const d = new Discovery(createLogger({ level: 'error', write: () => undefined }), () => now);
    d.restore(recorded.discovery, config.discover);
    expect(effectivePrefixes(config, recorded, now)).toEqual(d.apply(config));
  });

  it('a prefix both configured and discovered is the configured one, once', () => {
    const r = { discovery: [{ source, prefixes: [A, B], answered_at }] };
    const prefixes = effectivePrefixes(config, r, now).prefixes;
    expect(prefixes.map((p) => [p.id, p.name])).toEqual([
      [A, 'gw-a'],
      [B, 'isp-1'],
    ]);
  });
});
