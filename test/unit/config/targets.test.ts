// `targets:` in the config: the fleet example, defaults, and errors with file:line:field.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { makeTarget, targetsOf } from '../../../src/apply/fleet.js';
import { LocalHost } from '../../../src/apply/local/host.js';
import { SshHost } from '../../../src/apply/ssh/host.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-sshconfig-'));
const HEAD = 'prefixes: [2001:db8:64:a::/96]\nprobes:\n  - { type: tcp, address: 192.0.2.10, port: 80 }\n';

function problems(text: string): string[] {
  try {
    parseConfig(HEAD + text, 'c.yaml', dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const FLEET = `targets:                       # default when absent: the local BIND from \`bind:\`
  - name: local                # the local BIND, as configured under \`bind:\`
  - name: dns64-2
    ssh: { host: 2001:db8:100::53, port: 22, user: nat64health,
           private_key: /etc/nat64-health/id_ed25519,
           known_hosts: /etc/nat64-health/known_hosts }   # host keys are pinned: no trust on first use
    bind:                      # same keys as the top-level bind:, paths and commands on that host
      mode: include
      output: /var/lib/bind/nat64-health/dns64.conf
      checkconf: [named-checkconf, /etc/bind/named.conf]
      reload: [rndc, reconfig]
`;

describe('targets config', () => {
  it('loads the issue example', () => {
    const c = parseConfig(HEAD + FLEET, 'c.yaml', dir);
    expect(c.targets).toEqual([
      { name: 'local', kind: 'local' },
      {
        name: 'dns64-2',
        kind: 'ssh',
        ssh: {
          host: '2001:db8:100::53',
          port: 22,
          user: 'nat64health',
          private_key: '/etc/nat64-health/id_ed25519',
          known_hosts: '/etc/nat64-health/known_hosts',
          timeout: 10_000,
          keepalive: 15_000,
        },
        bind: {
          mode: 'include',
          output: '/var/lib/bind/nat64-health/dns64.conf',
          checkconf: ['named-checkconf', '/etc/bind/named.conf'],
          reload: ['rndc', 'reconfig'],
          command_timeout: 15_000,
          named_conf: '/etc/bind/named.conf',
          verify: { server: '2001:db8:100::53', port: 53, timeout: 1000, interval: 300_000 },
        },
      },
    ]);
    const targets = targetsOf(c).map((t) => makeTarget(c, t));
    expect(targets.map((t) => [t.name, t.host.constructor])).toEqual([
      ['local', LocalHost],
      ['dns64-2', SshHost],
    ]);
    expect(targets[1]!.background).toBe(true);
  });

  it('defaults to the local BIND, remote defaults like the top-level bind:, key paths relative to the config', () => {
    expect(parseConfig(HEAD, 'c.yaml', dir).targets).toEqual([{ name: 'local', kind: 'local' }]);
    const c = parseConfig(
      `${HEAD}targets:
  - name: r1
    ssh: { host: dns.example.net, user: u, private_key: keys/id, known_hosts: kh, timeout: 3s, keepalive: 0 }
    bind: { mode: block }
`,
      'c.yaml',
      dir,
    );
    expect(c.targets).toEqual([
      {
        name: 'r1',
        kind: 'ssh',
        ssh: {
          host: 'dns.example.net',
          port: 22,
          user: 'u',
          private_key: path.join(dir, 'keys/id'),
          known_hosts: path.join(dir, 'kh'),
          timeout: 3000,
          keepalive: 0,
        },
        bind: {
          mode: 'block',
          output: '/etc/bind/named.conf.options',
          checkconf: ['named-checkconf', '/etc/bind/named.conf'],
          reload: ['rndc', 'reconfig'],
          command_timeout: 15_000,
          named_conf: '/etc/bind/named.conf',
          verify: { server: 'dns.example.net', port: 53, timeout: 1000, interval: 300_000 },
        },
      },
    ]);
  });

  const SSH = '{ host: 192.0.2.53, user: u, private_key: /k, known_hosts: /kh }';
  /** One remote target `r` with this ssh: mapping (its ssh: line is line 6 of the config) */
  const withSsh = (ssh: string) => `targets:\n  - name: r\n    ssh: ${ssh}\n    bind: {}\n`;

  it.each([
    [
      'duplicate names',
      `targets:\n  - name: a\n    ssh: ${SSH}\n    bind: {}\n  - name: a\n    ssh: ${SSH}\n    bind: {}\n`,
      /c\.yaml:8:\d+: targets\[1\]\.name: target name "a" is already used by targets\[0\]/,
    ],
    [
      'ssh without bind',
      `targets:\n  - name: r\n    ssh: ${SSH}\n`,
      /c\.yaml:5:\d+: targets\[0\]\.bind: .*needs its own bind:/,
    ],
    [
      'a local target with another name',
      'targets:\n  - name: here\n',
      /c\.yaml:5:\d+: targets\[0\]\.name: a target without ssh: is the local BIND .* named "local"/,
    ],
    [
      'bind: on the local target',
      'targets:\n  - name: local\n    bind: { mode: block }\n',
      /targets\[0\]\.bind: the local BIND is configured by the top-level bind:/,
    ],
    [
      'an SSH target named local',
      `targets:\n  - name: local\n    ssh: ${SSH}\n    bind: {}\n`,
      /targets\[0\]\.name: "local" names the local BIND/,
    ],
    [
      'a relative remote output',
      `targets:\n  - name: r\n    ssh: ${SSH}\n    bind: { output: dns64.conf }\n`,
      /c\.yaml:7:\d+: targets\[0\]\.bind\.output: a path on the remote host must be absolute/,
    ],
    [
      'a relative remote named.conf',
      `targets:\n  - name: r\n    ssh: ${SSH}\n    bind: { checkconf: [named-checkconf, named.conf] }\n`,
      /targets\[0\]\.bind\.checkconf: named.conf "named.conf" must be an absolute path/,
    ],
    [
      'a template per target',
      `targets:\n  - name: r\n    ssh: ${SSH}\n    bind: { template: x.hbs }\n`,
      'targets[0].bind.template: template comes from the top-level bind: (every target serves the same rendered text)',
    ],
    [
      'dns64 options per target',
      `targets:\n  - name: r\n    ssh: ${SSH}\n    bind: { dns64: { clients: [any] } }\n`,
      /targets\[0\]\.bind\.dns64: dns64 comes from the top-level bind:/,
    ],
    [
      'a misspelt ssh key',
      withSsh('{ host: h, user: u, private_key: /k, known_hosts: /kh, prot: 22 }'),
      /c\.yaml:6:\d+: targets\[0\]\.ssh\.prot: unknown key/,
    ],
    [
      'a missing known_hosts',
      withSsh('{ host: h, user: u, private_key: /k }'),
      /targets\[0\]\.ssh\.known_hosts: missing/,
    ],
    [
      'a bad port',
      withSsh('{ host: h, port: 70000, user: u, private_key: /k, known_hosts: /kh }'),
      /targets\[0\]\.ssh\.port/,
    ],
    [
      'an option-like host',
      withSsh('{ host: -oProxyCommand=x, user: u, private_key: /k, known_hosts: /kh }'),
      /targets\[0\]\.ssh\.host: expected a host name or an IP address/,
    ],
    ['an empty list', 'targets: []\n', /targets: list at least one target/],
  ])('rejects %s', (_what, text, re) => {
    expect(problems(text).join('\n')).toMatch(re);
  });
});
