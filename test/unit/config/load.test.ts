import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { parseDuration } from '../../../src/config/duration.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-config-'));
function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
function problems(text: string): string[] {
  try {
    parseConfig(text, 'c.yaml', dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}
const PROBES = 'probes:\n  - { type: tcp, address: 192.0.2.10, port: 80 }\n';

describe('config', () => {
  it('loads the issue example, merges the prefixes file and deduplicates', () => {
    write('nat64-prefixes', '# original daemon format\n2a00:1098:2b::\n\n2001:db8:64:a::/96   # also in config.yaml\n');
    const file = write(
      'config.yaml',
      `prefixes:
  - prefix: 2001:db8:64:a::/96
    name: gateway-a
    group: local
  - prefix: 2001:db8:64:b::/96
  - prefix: 2001:db8:64:c::/64
prefixes_file: ./nat64-prefixes
probes:
  - { type: tcp,  address: 192.0.2.10, port: 80 }
  - { type: http, address: 198.51.100.10, port: 80, path: /, expect_status: 200 }
  - { type: dns,  address: 192.0.2.53, name: example.test, record: A }
  - { type: icmp, address: 192.0.2.10 }
health: { interval: 5s, timeout: 1s, rise: 2, fall: 3, fast_interval: 1s, quorum: 1 }
select: { min_active: 2, max_active: 3, groups: [local, isp, public], drain: 1h }
bind:
  mode: include
  output: /var/lib/bind/nat64-health/dns64.conf
  checkconf: [named-checkconf, /etc/bind/named.conf]
  reload: [rndc, reconfig]
  template: dns64.conf.hbs
  dns64:
    clients: [any]
    exclude: ["0::/3", "4000::/2", "8000::/1", "2001:db8::/32"]
state_file: /run/nat64-health/state.json
`,
    );
    const c = loadConfig(file);
    expect(c.prefixes.map((p) => p.id)).toEqual([
      '2001:db8:64:a::/96',
      '2001:db8:64:b::/96',
      '2001:db8:64:c::/64',
      '2a00:1098:2b::/96',
    ]);
    expect(c.prefixes[0]).toMatchObject({ name: 'gateway-a', group: 'local', groupRank: 0 });
    expect(c.prefixes[1]).toMatchObject({ group: null, groupRank: 3 });
    expect(c.prefixes[3]!.origin).toBe(`${path.join(dir, 'nat64-prefixes')}:2`);
    expect(c.warnings.join()).toMatch(
      /nat64-prefixes:4: prefix 2001:db8:64:a::\/96 is already listed at .*config.yaml:2/,
    );
    expect(c.health).toMatchObject({ interval: 5000, timeout: 1000, fast_interval: 1000, rise: 2, fall: 3, quorum: 1 });
    expect(c.select.drain).toBe(3_600_000);
    expect(c.probes.map((p) => p.id)).toEqual([
      'tcp 192.0.2.10:80',
      'http 198.51.100.10:80/',
      'dns 192.0.2.53:53 example.test/A',
      'icmp 192.0.2.10',
    ]);
    expect(c.bind.named_conf).toBe('/etc/bind/named.conf');
    expect(c.watched).toEqual([file, path.join(dir, 'nat64-prefixes')]);
  });

  it('names file, line, column and field of each problem', () => {
    const lines = problems(`prefixes:
  - 2001:db8::/80
  - { prefix: 2001:db8:1::/96, group: nowhere }
probes:
  - { type: tcp, address: 192.0.2.1, port: 99999 }
  - { type: smtp, address: 192.0.2.1 }
  - { type: http, address: 2001:db8::1 }
health:
  rise: 0
  intervall: 3s
  timeout: soon
select: { groups: [local], min_active: 4, max_active: 3 }
bind: { mode: inclde, dns64: { clients: ["any; }; include \\"/etc/shadow\\""] } }
`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^c\.yaml:2:5: prefixes\[0\]\.prefix: .*\/80 is not one of/),
        expect.stringMatching(/^c\.yaml:5:\d+: probes\[0\]\.port: Too big/),
        expect.stringMatching(/^c\.yaml:6:\d+: probes\[1\]\.type: /),
        expect.stringMatching(/^c\.yaml:7:\d+: probes\[2\]\.address: expected an IPv4 address/),
        expect.stringMatching(/^c\.yaml:9:9: health\.rise: Too small/),
        expect.stringMatching(/^c\.yaml:10:3: health\.intervall: unknown key/),
        expect.stringMatching(/^c\.yaml:11:\d+: health\.timeout: "soon" is not a duration/),
        expect.stringMatching(/^c\.yaml:13:\d+: bind\.mode: /),
        expect.stringMatching(/^c\.yaml:13:\d+: bind\.dns64\.clients\[0\]: an ACL element must not contain/),
      ]),
    );
  });

  it('checks fields against each other once each field is valid', () => {
    expect(
      problems(`prefixes:
  - 2001:db8::/96
  - { prefix: 2001:db8:1::/96, group: nowhere }
${PROBES}health: { quorum: 2, interval: 1s, timeout: 2s }
select: { groups: [local], min_active: 4, max_active: 3 }
`),
    ).toEqual([
      expect.stringMatching(/^c\.yaml:7:\d+: select\.min_active: min_active \(4\) is larger than max_active \(3\)/),
      expect.stringMatching(/^c\.yaml:6:\d+: health\.timeout: timeout is longer than interval/),
      expect.stringMatching(/^c\.yaml:6:\d+: health\.quorum: quorum 2 is more than the 1 probe target/),
      expect.stringMatching(/^c\.yaml:3:\d+: prefixes\[1\]\.group: group "nowhere" is not listed in select.groups/),
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('prefixes: [2001:db8::/96\nprobes: x\n')[0]).toMatch(/^c\.yaml:\d+:\d+: /);
    expect(problems(`prefixes: [2001:db8::/96]\nprefixes: []\n${PROBES}`)[0]).toMatch(
      /^c\.yaml:2:1: .*[Mm]ap keys must be unique/,
    );
  });

  it('requires probes and at least one prefix', () => {
    expect(problems('prefixes: [2001:db8::/96]\n').join()).toMatch(/probes: /);
    expect(problems(PROBES).join()).toMatch(/prefixes: no NAT64 prefix is configured/);
  });

  it('reports a bad line in the prefixes file with that file and line', () => {
    write('bad-prefixes', '2001:db8:1::\n2001:db8:2::/80\n2001:db8:3:: 2001:db8:4::\n');
    const lines = problems(`prefixes_file: bad-prefixes\n${PROBES}`);
    expect(lines).toEqual([
      expect.stringMatching(/bad-prefixes:2:1: .*\/80 is not one of/),
      expect.stringMatching(/bad-prefixes:3:1: one prefix a line expected/),
    ]);
    expect(problems(`prefixes_file: missing-file\n${PROBES}`)[0]).toMatch(
      /^c\.yaml:1:\d+: prefixes_file: cannot read .*missing-file/,
    );
  });

  it('rejects a broken template with the template file and line', () => {
    write('broken.hbs', 'line one\n{{#each prefixes}}\ndns64 {{prefix}} {\n{{/if}}\n');
    const lines = problems(`prefixes: [2001:db8::/96]\n${PROBES}bind: { template: ./broken.hbs }\n`);
    expect(lines[0]).toMatch(/broken\.hbs:\d+: template: /);
    expect(lines.at(-1)).toMatch(/^c\.yaml:\d+:\d+: bind\.template: template .*broken\.hbs is unusable/);
    write('noprefix.hbs', '{{#each prefixes}}dns64 x;{{/each}}\n');
    expect(problems(`prefixes: [2001:db8::/96]\n${PROBES}bind: { template: ./noprefix.hbs }\n`)[0]).toMatch(
      /does not render the prefix/,
    );
    write('typo.hbs', '{{#each prefixes}}dns64 {{prefx}};{{/each}}\n');
    expect(problems(`prefixes: [2001:db8::/96]\n${PROBES}bind: { template: ./typo.hbs }\n`)[0]).toMatch(
      /typo\.hbs.*prefx/,
    );
  });

  it('has an embedded default with the public prefixes and polite probes', () => {
    const c = loadConfig(null);
    expect(c.prefixes.map((p) => p.id)).toEqual([
      '2a00:1098:2b::/96',
      '2a00:1098:2c:1::/96',
      '2a01:4f8:c2c:123f:64::/96',
      '2a01:4f9:c010:3f02:64::/96',
    ]);
    expect(new Set(c.probes.map((p) => p.address)).size).toBeGreaterThanOrEqual(3);
    expect(c.health.interval).toBeGreaterThanOrEqual(30_000);
    expect(c.health.jitter).toBeGreaterThan(0);
  });

  it('reads checkconf as named-checkconf does: -c and -p take no value, -t is honoured', () => {
    const cfg = (cc: string) =>
      parseConfig(`prefixes: [2001:db8:64::/96]\n${PROBES}bind: { checkconf: ${cc} }\n`, 'c.yaml', dir);
    expect(cfg('[named-checkconf, -c, /srv/named.conf]').bind.named_conf).toBe('/srv/named.conf');
    expect(cfg('[named-checkconf, -p, -x, /srv/named.conf]').bind.named_conf).toBe('/srv/named.conf');
    expect(cfg('[named-checkconf, -t, /var/chroot]').bind).toMatchObject({ named_conf: '/etc/bind/named.conf' });
  });

  it('refuses a checkconf that named-checkconf would not check with, naming file, line and field', () => {
    const p = (cc: string) => problems(`prefixes: [2001:db8:64::/96]\n${PROBES}bind:\n  checkconf: ${cc}\n`).join('\n');
    expect(p('[named-checkconf, /a.conf, /b.conf]')).toMatch(
      // named-checkconf 9.18 given two files prints its usage and exits 0
      /^c\.yaml:5:14: bind\.checkconf: more than one named\.conf \(\/a\.conf, \/b\.conf\): named-checkconf then prints/,
    );
    expect(p('[named-checkconf, -h]')).toMatch(/bind\.checkconf: -h prints its usage instead of checking anything/);
    expect(p('[named-checkconf, -q]')).toMatch(/bind\.checkconf: named-checkconf has no option -q/);
  });

  it('a relative named.conf in checkconf is relative to the config file, like every path in it', () => {
    const c = parseConfig(
      `prefixes: [2001:db8:64::/96]\n${PROBES}bind: { checkconf: [named-checkconf, -z, bind/named.conf] }\n`,
      'c.yaml',
      dir,
    );
    expect(c.bind.named_conf).toBe(path.join(dir, 'bind/named.conf'));
    expect(c.bind.checkconf).toEqual(['named-checkconf', '-z', path.join(dir, 'bind/named.conf')]);
  });

  it('bind.verify: the local resolver by default, or off', () => {
    const c = (v: string) =>
      parseConfig(`prefixes: [2001:db8:64::/96]\n${PROBES}bind: { ${v} }\n`, 'c.yaml', dir).bind.verify;
    expect(c('')).toEqual({ server: '::1', port: 53, timeout: 1000, interval: 300_000 });
    expect(c('verify: { server: 192.0.2.53, source: 192.0.2.1, interval: 1m }')).toEqual({
      server: '192.0.2.53',
      port: 53,
      source: '192.0.2.1',
      timeout: 1000,
      interval: 60_000,
    });
    expect(c('verify: false')).toBeNull();
    expect(problems(`prefixes: [2001:db8:64::/96]\n${PROBES}bind: { verify: { server: resolver } }\n`).join()).toMatch(
      /bind\.verify\.server: expected an IP address/,
    );
  });

  it('parses durations', () => {
    expect([
      parseDuration('500ms'),
      parseDuration('5s'),
      parseDuration('2m'),
      parseDuration('1h'),
      parseDuration(1.5),
    ]).toEqual([500, 5000, 120000, 3600000, 1500]);
    expect(parseDuration('5 minutes')).toMatch(/not a duration/);
    expect(parseDuration(-1)).toMatch(/not a duration/);
  });

  it('refuses HTTP and DNS probe settings the probers cannot send (issue 9)', () => {
    const long = 'a'.repeat(64);
    const lines = problems(`prefixes: [2001:db8::/96]
probes:
  - { type: http, address: 192.0.2.10, path: "/a b" }
  - { type: http, address: 192.0.2.10, path: "/caf\u00e9" }
  - { type: http, address: 192.0.2.10, host: "www.example.test\\r\\nX-Injected: 1" }
  - { type: http, address: 192.0.2.10, host: "${long}.example.test" }
  - { type: dns, address: 192.0.2.53, name: "${long}.example.test" }
  - { type: dns, address: 192.0.2.53, name: "a..example.test" }
  - { type: http, address: 192.0.2.10, host: "www.example.test:8080", path: "/health?x=%20" }
`);
    expect(lines).toEqual([
      expect.stringMatching(/^c\.yaml:3:\d+: probes\[0\]\.path: a path starts with \/ and holds printable ASCII/),
      expect.stringMatching(/^c\.yaml:4:\d+: probes\[1\]\.path: a path starts with/),
      expect.stringMatching(/^c\.yaml:5:\d+: probes\[2\]\.host: expected a host name or address/),
      expect.stringMatching(/^c\.yaml:6:\d+: probes\[3\]\.host: a DNS label has at most 63 octets/),
      expect.stringMatching(/^c\.yaml:7:\d+: probes\[4\]\.name: a DNS label has at most 63 octets/),
      expect.stringMatching(/^c\.yaml:8:\d+: probes\[5\]\.name: a DNS name has no empty labels/),
    ]);
  });

  it('refuses zero intervals and timeouts, and a timeout longer than the interval (issue 9)', () => {
    expect(
      problems(`prefixes: [2001:db8::/96]\n${PROBES}health:\n  interval: 0\n  timeout: 0\n  fast_interval: 0s\n`),
    ).toEqual([
      expect.stringMatching(/^c\.yaml:5:13: health\.interval: at least 100ms/),
      expect.stringMatching(/^c\.yaml:6:12: health\.timeout: at least 100ms/),
      expect.stringMatching(/^c\.yaml:7:18: health\.fast_interval: at least 100ms/),
    ]);
    expect(problems(`prefixes: [2001:db8::/96]\n${PROBES}health: { timeout: 6s }\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:4:\d+: health\.timeout: timeout is longer than interval/),
    ]);
  });

  it('limits the number of prefixes and probes, with a clear error (issue 9)', () => {
    const many = Array.from({ length: 257 }, (_, i) => `  - 2001:db8:${i.toString(16)}::/96`).join('\n');
    expect(problems(`prefixes:\n${many}\n${PROBES}`)).toEqual([
      expect.stringMatching(/^c\.yaml:2:3: prefixes: at most 256 prefixes can be probed \(257 are listed\)/),
    ]);
    write('many-prefixes', Array.from({ length: 250 }, (_, i) => `2001:db8:${i.toString(16)}::`).join('\n'));
    expect(
      problems(
        `prefixes: [${[1, 2, 3, 4, 5, 6, 7].map((n) => `2001:db8:1:${n}::/96`).join(', ')}]\n` +
          `prefixes_file: many-prefixes\n${PROBES}`,
      ),
    ).toEqual([
      expect.stringMatching(
        /many-prefixes:250:1: prefixes_file: at most 256 prefixes can be probed \(257 with this file\)/,
      ),
    ]);
    const probes = Array.from({ length: 33 }, (_, i) => `  - { type: tcp, address: 192.0.2.10, port: ${i + 1} }`).join(
      '\n',
    );
    expect(problems(`prefixes: [2001:db8::/96]\nprobes:\n${probes}\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:3:3: probes: at most 32 probe targets \(33 are listed\)/),
    ]);
  });

  it('refuses a probe listed twice: it would count twice toward the quorum (issue 9)', () => {
    expect(
      problems(`prefixes: [2001:db8::/96]
probes:
  - { type: tcp, address: 192.0.2.10, port: 80 }
  - { type: dns, address: 192.0.2.53, name: example.test }
  - { type: tcp, address: 192.0.2.10, port: 80 }
`),
    ).toEqual([
      expect.stringMatching(/^c\.yaml:5:5: probes\[2\]: probe tcp 192\.0\.2\.10:80 is already listed as probes\[0\]/),
    ]);
  });

  it('names the file of a YAML alias bomb (issue 9)', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => {
        const me = String.fromCharCode(98 + i);
        const prev = String.fromCharCode(97 + i);
        return `${me}: &${me} [${Array(10).fill(`*${prev}`).join(', ')}]`;
      }),
    ].join('\n');
    expect(problems(`${bomb}\n`)).toEqual([expect.stringMatching(/^c\.yaml:2:\d+: YAML: Excessive alias count/)]);
  });

  it('refuses a config or prefixes file too large to be a real one before parsing it', () => {
    const big = write('big.yaml', `${PROBES}prefixes:\n${'  - 2001:db8::/96\n'.repeat(20_000)}`);
    expect(() => loadConfig(big)).toThrow(/big\.yaml: cannot read config: larger than 262144 bytes/);
  });

  it('hooks: argv lists and a timeout (default 10s); errors name file, line and field', () => {
    const base = `prefixes: [2001:db8:64:a::/96]\n${PROBES}`;
    const ok = parseConfig(`${base}hooks:\n  on_change: [/usr/local/bin/tell, --all]\n  timeout: 2s\n`, 'c.yaml', dir);
    expect(ok.hooks).toEqual({ on_change: ['/usr/local/bin/tell', '--all'], timeout: 2000 });
    expect(parseConfig(base, 'c.yaml', dir).hooks).toEqual({ timeout: 10_000 });
    expect(problems(`${base}hooks:\n  on_change: "notify-send changed"\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:5:\d+: hooks\.on_change: /),
    ]);
    expect(problems(`${base}hooks:\n  on_state: []\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:5:\d+: hooks\.on_state: expected a command as a list/),
    ]);
    expect(problems(`${base}hooks:\n  timeout: 2m\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:5:\d+: hooks\.timeout: at most 60s/),
    ]);
    expect(problems(`${base}hooks:\n  timeout: 10ms\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:5:\d+: hooks\.timeout: at least 100ms/),
    ]);
    expect(problems(`${base}hooks:\n  on_apply: [x]\n`)).toEqual([
      expect.stringMatching(/^c\.yaml:5:3: hooks\.on_apply: unknown key/),
    ]);
  });

  it('a discover entry (RFC 7050): its defaults, and a config with only discovered prefixes', () => {
    const c = parseConfig(
      `prefixes:\n  - { discover: { server: 2001:db8::53, port: 53 }, group: isp, name: isp-dns64 }\n${PROBES}`,
      'c.yaml',
      dir,
    );
    expect(c.prefixes).toEqual([]);
    expect(c.discover).toEqual([
      {
        id: '[2001:db8::53]:53',
        server: '2001:db8::53',
        port: 53,
        timeout: 1000,
        settings: { min_refresh: 60_000, max_refresh: 3_600_000, keep: 3_600_000 },
        name: 'isp-dns64',
        group: 'isp',
        groupRank: 0,
        origin: 'c.yaml:2',
      },
    ]);
  });

  it('a bad discover entry: file, line and field', () => {
    const bad = (entry: string) => problems(`prefixes:\n  - 2001:db8:64:a::/96\n  - ${entry}\n${PROBES}`);
    expect(bad('{ discover: { server: dns.example } }')).toEqual([
      'c.yaml:3:27: prefixes[1].discover.server: expected an IP address such as 2001:db8::53',
    ]);
    expect(bad('{ discover: { server: "::1", prot: 53 } }')).toEqual([
      'c.yaml:3:34: prefixes[1].discover.prot: unknown key (check the spelling)',
    ]);
    expect(bad('{ discover: { server: "::1" }, prefix: 2001:db8::/96 }')).toEqual([
      'c.yaml:3:36: prefixes[1].prefix: unknown key (check the spelling)',
    ]);
    expect(bad('{ discover: { server: "::1", min_refresh: 10m, max_refresh: 1m } }')).toEqual([
      'c.yaml:3:65: prefixes[1].discover.max_refresh: max_refresh is shorter than min_refresh',
    ]);
    expect(bad('{ discover: { server: "::1", min_refresh: 0 } }')[0]).toMatch(
      /^c\.yaml:3:47: prefixes\[1\]\.discover\.min_refresh: at least 1s/,
    );
    expect(bad('{ discover: { server: "::1" }, name: "a b" }')[0]).toMatch(
      /^c\.yaml:3:42: prefixes\[1\]\.name: use letters/,
    );
    expect(bad('{ discover: {} }')).toEqual([
      'c.yaml:3:17: prefixes[1].discover.server: missing: Invalid input: expected string, received undefined',
    ]);
    expect(bad('7')).toEqual([
      'c.yaml:3:5: prefixes[1]: expected a prefix, { prefix: ... } or { discover: { server: ... } }',
    ]);
    // the same server twice (another spelling too) would be asked twice
    expect(
      problems(`prefixes:\n  - { discover: { server: "::1" } }\n  - { discover: { server: "0::1" } }\n${PROBES}`),
    ).toEqual(['c.yaml:3:17: prefixes[1].discover: this server and port are already a discovery source (prefixes[0])']);
    expect(
      problems(`prefixes:\n  - { discover: { server: "::1" }, group: x }\nselect: { groups: [y] }\n${PROBES}`),
    ).toEqual(['c.yaml:2:43: prefixes[0].group: group "x" is not listed in select.groups (y)']);
  });
});
