// `nat64-health status` formatting, the http.listen setting, the hook combiner.
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';
import { parseListen } from '../../../src/config/listen.js';
import { formatStatus, useColor } from '../../../src/observe/status-table.js';
import { combineHooks } from '../../../src/daemon/daemon.js';
import { A, apply, B, deadPrefix, pooledSnapshot, prefix, snapshot, T0 } from '../../support/observe-fixtures.js';

const ESC = '\x1b[';

describe('status table', () => {
  const s = snapshot({
    prefixes: [
      prefix(A, { name: 'gw-a', group: 'east' }),
      deadPrefix(B, { name: 'gateway-b-long-name', group: 'west' }),
    ],
    applies: [apply({ at: new Date(T0 - 5000).toISOString() })],
    targets: [{ name: 'local', last_apply: apply({ at: new Date(T0 - 5000).toISOString() }), serving: [A] }],
  });

  it('prints aligned columns without colour off a TTY', () => {
    const out = formatStatus(s, { color: false, now: T0 });
    expect(out).not.toContain(ESC);
    const lines = out.split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^PREFIX\s+NAME\s+GROUP\s+STATE\s+ROLE\s+LATENCY\s+LOSS\s+SINCE\s+LAST ROUND$/);
    const rowA = lines.find((l) => l.startsWith(A))!;
    const rowB = lines.find((l) => l.startsWith(B))!;
    for (const col of ['NAME', 'GROUP', 'STATE', 'ROLE', 'LATENCY', 'LOSS']) {
      const at = header.indexOf(col);
      expect(rowA[at - 1]).toBe(' ');
      expect(rowA[at]).not.toBe(' ');
      expect(rowB[at]).not.toBe(' ');
    }
    expect(rowA).toMatch(/gw-a\s+east\s+up\s+active\s+12\.0 ms\s+0%\s+1m00s ago\s+2\/2 answered$/);
    expect(rowB).toMatch(/down\s+-\s+-\s+100%\s+1m00s ago\s+0\/2 answered: /);
    expect(rowB).toMatch(/answered: tcp 192\.0\.2\.10:80: timeout; http 192\.0\.2\.10:80\/: ENETUNREACH$/);
    expect(out).toContain('1 of 2 up, 1 active; round 1 at 2025-01-01 12:00:00Z (0s ago, took 105 ms)');
    expect(out).toMatch(/^local\s+applied 5s ago\s+2001:db8:64:a::\/96\s+-$/m);
    expect(out).toMatch(
      /^2025-01-01 11:59:55Z\s+local\s+applied\s+41\.5 ms\s+selection changed: 2001:db8:64:a::\/96 activated$/m,
    );
  });

  it('colours on a TTY and keeps the alignment', () => {
    const plain = formatStatus(s, { color: false, now: T0 });
    const coloured = formatStatus(s, { color: true, now: T0 });
    expect(coloured).toContain(ESC);
    expect(coloured).toContain('\x1b[31mdown');
    expect(stripVTControlCharacters(coloured)).toBe(plain);
  });

  it('shows what BIND answered: yes, or NO with the mismatch', () => {
    const at = new Date(T0 - 2000).toISOString();
    const out = formatStatus(
      snapshot({
        targets: [
          {
            name: 'local',
            last_apply: apply({ at }),
            serving: [A],
            verification: { at, ok: true, served: [A], decided: [A], detail: `BIND serves the decided set: ${A}` },
          },
          {
            name: 'dns64-2',
            last_apply: apply({ at, target: 'dns64-2' }),
            serving: [A],
            verification: {
              at,
              ok: false,
              served: [B],
              decided: [A],
              detail: `BIND serves ${B}, not the decided ${A}`,
            },
          },
        ],
      }),
      { color: false, now: T0 },
    );
    expect(out).toMatch(/^TARGET\s+LAST APPLY\s+SERVING\s+BIND SERVES IT\s+ERROR$/m);
    expect(out).toMatch(/^local\s+applied 2s ago\s+\S+\s+yes 2s ago$/m);
    expect(out).toMatch(
      new RegExp(
        `^dns64-2\\s+applied 2s ago\\s+\\S+\\s+NO 2s ago\\s+BIND serves ${B.replace(/[/.]/g, '\\$&')}, not`,
        'm',
      ),
    );
  });

  it('decides colour like other tools do', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });

  it('shows the fail-safe and a rejected config reload', () => {
    const out = formatStatus(
      snapshot({ failsafe: true, last_config_reload: { at: new Date(T0).toISOString(), ok: false, error: 'bad key' } }),
      { color: false, now: T0 },
    );
    expect(out).toContain('FAIL-SAFE: no prefix passed its probes; keeping the last good set');
    expect(out).toContain('config reload rejected 0s ago: bad key');
  });

  it('every prefix in maintenance is said as such, not as the fail-safe (regression)', () => {
    const m = { reason: 'upgrade', since: new Date(T0).toISOString(), until: null };
    const held = [prefix(A, { active: false, draining: true, maintenance: m }), deadPrefix(B, { maintenance: m })];
    const out = formatStatus(snapshot({ prefixes: held, active: [] }), { color: false, now: T0 });
    expect(out).toContain('ALL IN MAINTENANCE: every prefix (2) is in maintenance');
    expect(out).not.toContain('FAIL-SAFE');
    // some in maintenance, the rest down: the fail-safe, and it says what is outside maintenance
    const some = formatStatus(snapshot({ failsafe: true, prefixes: [held[0]!, deadPrefix(B)] }), { color: false });
    expect(some).toContain('FAIL-SAFE: no prefix outside maintenance passed its probes (1 of 2 in maintenance)');
  });
});

describe('status table with client pools', () => {
  const pooled = pooledSnapshot();

  it("names the pools using each prefix, its role over all pools, and each pool's set, the default's first", () => {
    const out = formatStatus(pooled, { color: false, now: T0 });
    expect(out.split('\n')[0]).toMatch(
      /^PREFIX\s+NAME\s+GROUP\s+STATE\s+ROLE\s+POOLS\s+LATENCY\s+LOSS\s+SINCE\s+LAST ROUND$/,
    );
    expect(out).toMatch(/^2001:db8:64:a::\/96\s+gw-a\s+site-a\s+up\s+active\s+default, site-a\s+12\.0 ms\s/m);
    // active for site-b only: active, although not in the default pool's set
    expect(out).toMatch(/^2001:db8:64:b::\/96\s+gw-b\s+site-b\s+up\s+active\s+site-b\s+12\.0 ms\s/m);
    expect(out).toMatch(/^2001:db8:64:c::\/96\s+public\s+public\s+up\s+draining\s+-\s+12\.0 ms\s/m);
    expect(out).toContain('3 of 3 up, 2 active for 3 pools, 1 draining; round 1');
    const pools = out.slice(out.indexOf('\nPOOL'));
    expect(pools).toMatch(/^\nPOOL\s+ACTIVE\s+DRAINING\n/);
    expect(pools).toMatch(/^default\s+2001:db8:64:a::\/96\s+-$/m);
    expect(pools).toMatch(/^site-a\s+2001:db8:64:a::\/96\s+-$/m);
    expect(pools).toMatch(/^site-b\s+2001:db8:64:b::\/96\s+2001:db8:64:c::\/96$/m);
    // before the targets
    expect(out.indexOf('\nPOOL')).toBeLessThan(out.indexOf('\nTARGET'));
  });

  it('says a pool that has no prefix (in red on a TTY)', () => {
    const empty = snapshot({ ...pooled, pools: [{ name: 'site-a', active: [], draining_since: {}, failsafe: false }] });
    expect(formatStatus(empty, { color: false, now: T0 })).toMatch(/^site-a\s+-\s+-$/m);
    expect(formatStatus(empty, { color: true, now: T0 })).toContain('\x1b[31m-');
  });

  it('without pools prints exactly what it printed before pools existed', () => {
    const at = new Date(T0 - 5000).toISOString();
    const s = snapshot({
      prefixes: [
        prefix(A, { name: 'gw-a', group: 'east' }),
        deadPrefix(B, {
          name: 'gw-b',
          group: 'west',
          draining: true,
          draining_since: new Date(T0 - 9000).toISOString(),
        }),
      ],
      draining: [B, '2001:db8:64:9::/96'], // one no longer configured
      applies: [apply({ at })],
      targets: [{ name: 'local', last_apply: apply({ at }), serving: [A] }],
    });
    expect(formatStatus(s, { color: false, now: T0 })).toBe(
      [
        'PREFIX              NAME  GROUP  STATE  ROLE      LATENCY  LOSS  SINCE      LAST ROUND',
        '2001:db8:64:a::/96  gw-a  east   up     active    12.0 ms  0%    1m00s ago  2/2 answered',
        '2001:db8:64:b::/96  gw-b  west   down   draining  -        100%  1m00s ago  ' +
          '0/2 answered: tcp 192.0.2.10:80: timeout; http 192.0.2.10:80/: ENETUNREACH',
        '',
        '1 of 2 up, 1 active, 2 draining; round 1 at 2025-01-01 12:00:00Z (0s ago, took 105 ms)',
        '',
        'TARGET  LAST APPLY      SERVING             BIND SERVES IT  ERROR',
        'local   applied 5s ago  2001:db8:64:a::/96  -',
        '',
        'APPLIED AT            TARGET  RESULT   TOOK     REASON',
        '2025-01-01 11:59:55Z  local   applied  41.5 ms  selection changed: 2001:db8:64:a::/96 activated',
        '',
      ].join('\n'),
    );
  });
});

describe('http.listen', () => {
  it('accepts IPv4 and bracketed IPv6 literals with a port', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464, text: '127.0.0.1:9464' });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464, text: '[::1]:9464' });
    expect(parseListen('[2001:db8::1]:80')).toMatchObject({ host: '2001:db8::1', port: 80 });
  });

  it('refuses host names, unbracketed IPv6, missing or bad ports', () => {
    for (const bad of [
      'localhost:9464',
      '::1:9464',
      '[127.0.0.1]:9464',
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:70000',
      ':9464',
      '[::1]',
    ]) {
      expect(typeof parseListen(bad), bad).toBe('string');
    }
    expect(parseListen('127.0.0.1:0', { allowPortZero: true })).toMatchObject({ port: 0 });
  });

  const base = 'prefixes: [2001:db8:64:a::/96]\nprobes:\n  - { type: tcp, address: 192.0.2.10, port: 80 }\n';
  it('is optional in the config and validated with a line number', () => {
    expect(parseConfig(base, 'c.yaml', '/tmp').http).toBeUndefined();
    expect(parseConfig(`${base}http:\n  listen: "[::1]:9464"\n`, 'c.yaml', '/tmp').http).toEqual({
      listen: '[::1]:9464',
    });
    // loopback by default
    expect(parseConfig(`${base}http: {}\n`, 'c.yaml', '/tmp').http).toEqual({ listen: '127.0.0.1:9464' });
    try {
      parseConfig(`${base}http:\n  listen: localhost:9464\n`, 'c.yaml', '/tmp');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/c\.yaml:5.*http\.listen.*not an IPv4 address/);
    }
    expect(() => parseConfig(`${base}http:\n  listen: 127.0.0.1:9464\n  port: 1\n`, 'c.yaml', '/tmp')).toThrow(
      /unknown key/,
    );
  });
});

describe('combineHooks', () => {
  it('calls every hook set, even after one throws, then rethrows', () => {
    const calls: string[] = [];
    const hooks = combineHooks(
      {
        ready: () => calls.push('a-ready'),
        snapshot: () => {
          calls.push('a-snap');
          throw new Error('boom');
        },
      },
      undefined,
      {
        ready: () => calls.push('b-ready'),
        status: (t) => calls.push(`b-status ${t}`),
        snapshot: () => calls.push('b-snap'),
      },
    );
    hooks.ready!();
    hooks.status!('x');
    expect(() => hooks.snapshot!(snapshot(), null)).toThrow('boom');
    expect(calls).toEqual(['a-ready', 'b-ready', 'b-status x', 'a-snap', 'b-snap']);
  });
});
