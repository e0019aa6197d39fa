// The discovery shell with a fake clock and a fake resolver: what it asks, when, and what it logs.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { Discovery } from '../../../src/discover/discover.js';
import type { Ipv4onlyAnswer, Ipv4onlyQuery } from '../../../src/lib/ipv4only.js';
import { createLogger } from '../../../src/lib/log.js';
import { E } from '../../support/prefixes.js';

const F = '2001:db8:65:1::/64';
const G = '2001:db8:66::/96';
const config = (keep = '10m') =>
  parseConfig(
    `prefixes:
  - { discover: { server: "::1", port: 5300, min_refresh: 30s, keep: ${keep} }, name: isp }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
`,
    'c.yaml',
    '/tmp',
  );

function setup() {
  let now = 1_000_000;
  const lines: string[] = [];
  let answer: Ipv4onlyAnswer | Error = { prefixes: [E, F], ttl: 60 };
  const asked: Ipv4onlyQuery[] = [];
  const d = new Discovery(
    createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    () => now,
    (q) => {
      asked.push(q);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  );
  return {
    d,
    lines,
    asked,
    tick: (ms: number) => (now += ms),
    answer: (a: Ipv4onlyAnswer | Error) => (answer = a),
  };
}

describe('Discovery', () => {
  it('asks a due source, logs what appeared, and asks again only when the TTL has ended', async () => {
    const t = setup();
    const c = config();
    expect(await t.d.refresh(c.discover)).toBe(true);
    expect(t.asked).toEqual([{ server: '::1', port: 5300, timeout: 1000 }]);
    expect(t.lines.at(-1)).toMatch(/^INFO {2}discovered prefixes from \[::1\]:5300 .*appeared=2001:db8:64:e::\/96,/);
    expect(t.d.apply(c).prefixes.map((p) => p.name)).toEqual(['isp-1', 'isp-2']);
    t.tick(59_000);
    expect(await t.d.refresh(c.discover)).toBe(false);
    expect(t.asked).toHaveLength(1);
    t.tick(1000);
    t.answer({ prefixes: [E, G], ttl: 60 });
    expect(await t.d.refresh(c.discover)).toBe(true);
    expect(t.lines.at(-1)).toMatch(/appeared=2001:db8:66::\/96 disappeared=2001:db8:65:1::\/64/);
  });

  it('a failing server: a warning with the error, the last set kept until `keep`, then it leaves', async () => {
    const t = setup();
    const c = config('2m');
    await t.d.refresh(c.discover);
    t.tick(60_000 - 1);
    t.answer(new Error('no usable answer (it sent 5 bytes that are not a DNS message) from [::1]:5300'));
    t.tick(1);
    expect(await t.d.refresh(c.discover)).toBe(false);
    expect(t.lines.at(-1)).toMatch(
      /^WARN {2}discovery from \[::1\]:5300 failed; keeping the last set until .* error=".*not a DNS message/,
    );
    const [status] = t.d.status(c.discover);
    expect(status?.prefixes).toEqual([E, F]);
    expect(status?.error).toMatch(/DNS message/);
    t.tick(30_000);
    expect(await t.d.refresh(c.discover)).toBe(false);
    expect(t.d.apply(c).prefixes).toHaveLength(2);
    t.tick(30_000); // 2 minutes after the last answer
    expect(await t.d.refresh(c.discover)).toBe(true);
    expect(t.lines.at(-1)).toMatch(/no longer kept, its prefixes leave \(they drain\)/);
    expect(t.d.apply(c).prefixes).toEqual([]);
  });

  it('the same failure again logs at debug; a new error warns; the first answer after it is said', async () => {
    const t = setup();
    const c = config('10m');
    await t.d.refresh(c.discover);
    const warnings = () => t.lines.filter((l) => l.startsWith('WARN'));
    t.answer(new Error('connect ECONNREFUSED [::1]:5300'));
    for (let i = 0; i < 4; i++) {
      t.tick(60_000);
      await t.d.refresh(c.discover);
    }
    expect(warnings()).toHaveLength(1);
    expect(t.lines.at(-1)).toMatch(
      /^DEBUG discovery from \[::1\]:5300 still fails; keeping the last set until .*ECONNREFUSED/,
    );
    t.answer(new Error('no answer within 1000 ms from [::1]:5300'));
    t.tick(60_000);
    await t.d.refresh(c.discover);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatch(/failed; keeping the last set .*no answer within/);
    t.answer({ prefixes: [E, F], ttl: 60 });
    t.tick(60_000);
    await t.d.refresh(c.discover);
    expect(t.lines.at(-1)).toMatch(/^INFO {2}discovery from \[::1\]:5300 answers again .*was="no answer within/);
  });

  it('a source removed from the config takes its prefixes with it', async () => {
    const t = setup();
    await t.d.refresh(config().discover);
    expect(await t.d.refresh([])).toBe(true);
    expect(t.d.sets().size).toBe(0);
  });

  it("restore: the state file's set is kept until `keep` after its answer, the server silent", async () => {
    const t = setup();
    const c = config('2m');
    const at = new Date(1_000_000 - 60_000).toISOString();
    const dropped = t.d.restore(
      [
        { source: '[::1]:5300', prefixes: [F, 'not a prefix', E.toUpperCase()], answered_at: at },
        { source: '[::1]:9999', prefixes: [G], answered_at: at },
      ],
      c.discover,
    );
    expect(dropped).toEqual([expect.stringMatching(/"not a prefix"/)]);
    t.answer(new Error('no answer'));
    expect(await t.d.refresh(c.discover)).toBe(false);
    expect(t.d.sets()).toEqual(new Map([['[::1]:5300', [E, F]]]));
    expect(t.d.status(c.discover)[0]?.kept_until).toBe(new Date(1_000_000 + 60_000).toISOString());
    // an answer time in the future is not trusted
    expect(
      t.d.restore([{ source: '[::1]:5300', prefixes: [E], answered_at: '2999-01-01T00:00:00Z' }], c.discover),
    ).toEqual([expect.stringMatching(/not a past time/)]);
  });
});
