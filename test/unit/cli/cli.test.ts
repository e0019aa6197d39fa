// The built CLI (bin/nat64-health.js, run by `npm test` after the build) on commands that send no
// packets: exit statuses and messages an operator sees.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { formatHistory, historyFile, type HistoryEntry } from '../../../src/apply/history.js';
import { lockHolder, takeLock } from '../../../src/lib/lock.js';

/** Nobody holds the lock (flock) and no PID is written in it: none is left behind. */
function lockFree(lockFile: string) {
  if (!existsSync(lockFile)) return;
  expect(lockHolder(lockFile)).toBeNull();
  takeLock(lockFile).release();
}

const CLI = fileURLToPath(new URL('../../../bin/nat64-health.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-cli-'));
const cli = (args: string[]) => execa('node', [CLI, ...args], { reject: false, timeout: 20_000 });
function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('nat64-health validate', () => {
  it('exits 78 naming file, line and field for an HTTP probe Node would refuse (issue 9)', async () => {
    const file = write(
      'bad-http.yaml',
      'prefixes: [2001:db8:64:a::/96]\nprobes:\n  - { type: http, address: 192.0.2.10, path: "/a b" }\n',
    );
    const r = await cli(['validate', '-c', file]);
    expect(r.exitCode, r.stderr).toBe(78);
    expect(r.stderr).toContain(`${file}:3:`);
    expect(r.stderr).toMatch(/probes\[0\]\.path: a path starts with \//);
  });

  it('exits 78 naming the file for a YAML alias bomb (issue 9)', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const [me, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      lines.push(`${me}: &${me} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const file = write('bomb.yaml', lines.join('\n') + '\n');
    const r = await cli(['validate', '-c', file]);
    expect(r.exitCode, r.stderr).toBe(78);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:2:\\d+: YAML: Excessive alias count`));
  });
});

describe('nat64-health maintenance: bad input changes nothing', () => {
  const A = '2001:db8:64:a::/96';
  const B = '2001:db8:64:b::/96';
  const setup = (name: string) => {
    const state = path.join(dir, name, 'state.json');
    const config = write(
      `${name}.yaml`,
      `prefixes:\n  - ${A}\n  - { prefix: "${B}", name: gw-b }\n` +
        `probes:\n  - { type: tcp, address: 192.0.2.10, port: 80 }\n` +
        `state_file: ${state}\n`,
    );
    return { config, file: path.join(dir, name, 'maintenance.json') };
  };

  it('an unconfigured prefix: exit 65, the configured ones listed, no file written, no lock left', async () => {
    const { config, file } = setup('maint-unknown');
    for (const state of ['on', 'off']) {
      const r = await cli(['maintenance', '2001:db8:64:e::/96', state, '-c', config]);
      expect([r.exitCode, r.stdout]).toEqual([65, '']);
      expect(r.stderr).toContain(
        `2001:db8:64:e::/96 is not a configured prefix (${config}); configured: ${A}, ${B} (gw-b)`,
      );
    }
    expect(existsSync(file)).toBe(false);
    lockFree(`${file}.lock`);
  });

  it('a malformed file, a bad prefix, a past --until: refused, the file kept byte for byte', async () => {
    const { config, file } = setup('maint-bad');
    expect((await cli(['maintenance', A, 'on', '-c', config])).exitCode).toBe(0);
    const good = readFileSync(file, 'utf8');
    for (const [args, code, message] of [
      [['maintenance', 'not-a-prefix', 'on'], 65, /not-a-prefix: /],
      [['maintenance', B, 'on', '--until', '2020-01-01T00:00:00Z'], 64, /that time has passed/],
      [['maintenance', B, 'on', '--reason', 'x'.repeat(201)], 64, /--reason: one line/],
    ] as const) {
      const r = await cli([...args, '-c', config]);
      expect([r.exitCode, r.stderr]).toEqual([code, expect.stringMatching(message)]);
      expect(readFileSync(file, 'utf8')).toBe(good);
    }
    writeFileSync(file, good.replace('"version": 1', '"version": 7'));
    const broken = readFileSync(file, 'utf8');
    const r = await cli(['maintenance', B, 'on', '-c', config]);
    expect([r.exitCode, r.stderr]).toEqual([
      65,
      expect.stringMatching(/maintenance\.json: version: .*nothing changed/s),
    ]);
    expect(readFileSync(file, 'utf8')).toBe(broken);
    lockFree(`${file}.lock`);
  });

  it('the lock held by a live process: exit 1 after waiting, nothing changed', async () => {
    const { config, file } = setup('maint-locked');
    mkdirSync(path.dirname(file), { recursive: true });
    const held = takeLock(`${file}.lock`); // this test's process holds it
    try {
      const r = await cli(['maintenance', A, 'on', '-c', config]);
      expect([r.exitCode, r.stderr]).toEqual([
        1,
        expect.stringContaining(`(pid ${process.pid}): another maintenance change holds the lock; nothing`),
      ]);
      expect(existsSync(file)).toBe(false);
    } finally {
      held.release();
    }
  });
});

describe('nat64-health history', () => {
  const MINIMAL = 'prefixes: [2001:db8:64:a::/96]\nprobes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n';
  const hdir = mkdtempSync(path.join(os.tmpdir(), 'nh-cli-history-'));
  const historyDirOf = path.join(hdir, 'history');
  const config = write(
    'history.yaml',
    `prefixes: [2001:db8:64:a::/96, 2001:db8:64:b::/96]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
state_file: ${path.join(hdir, 'state.json')}
targets:
  - name: local
  - name: dns64-2
    ssh: { host: 192.0.2.53, user: root, private_key: /nonexistent/key, known_hosts: /nonexistent/known_hosts }
    bind: { output: /var/lib/bind/nat64-health/dns64.conf }
`,
  );
  const A = '2001:db8:64:a::/96';
  const B = '2001:db8:64:b::/96';
  const entry = (id: number, at: string, o: Partial<HistoryEntry> = {}): HistoryEntry => ({
    id,
    at,
    target: 'local',
    outcome: 'applied',
    old: [A],
    new: [B],
    draining: [],
    reason: 'selection changed',
    changes: [],
    diff: `--- f\tbefore\n+++ f\tafter\n@@ -1,1 +1,1 @@\n-dns64 ${A} { };\n+dns64 ${B} { };\n`,
    verification: null,
    ms: 40,
    ...o,
  });
  mkdirSync(historyDirOf, { recursive: true });
  writeFileSync(
    historyFile(historyDirOf, 'local'),
    formatHistory('local', [
      entry(1, '2026-12-01T10:00:00.000Z', { old: null, new: [A] }),
      entry(2, '2026-12-01T11:00:00.000Z'),
    ]),
  );
  writeFileSync(
    historyFile(historyDirOf, 'dns64-2'),
    formatHistory('dns64-2', [
      entry(1, '2026-12-01T10:30:00.000Z', {
        target: 'dns64-2',
        outcome: 'failed',
        stage: 'connect',
        error: 'ECONNREFUSED',
        attempts: 5,
        last_at: '2026-12-01T10:31:00.000Z',
      }),
    ]),
  );

  it('prints every target, newest first; --target one; -n the newest N', async () => {
    const r = await cli(['history', '-c', config]);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +APPLIED AT +TARGET +OUTCOME +SET +REASON$/);
    const cells = (l: string) => /^(\d+) +(\S+ \S+) \([^)]*\) +(\S+)/.exec(l)!.slice(1).join(' ');
    expect(lines.slice(1).map(cells)).toEqual([
      '2 2026-12-01 11:00:00Z local',
      '1 2026-12-01 10:30:00Z dns64-2',
      '1 2026-12-01 10:00:00Z local',
    ]);
    expect(lines[2]).toMatch(/dns64-2 +failed x5 +/);
    expect(lines[2]).toContain('connect: ECONNREFUSED');
    const one = await cli(['history', '-c', config, '--target', 'local', '-n', '1']);
    expect(one.stdout).toContain(`+${B} -${A}`);
    expect(one.stdout).not.toContain('dns64-2');
    expect(one.stdout).toContain('(1 of 2 shown; -n 0 shows all)');
  });

  it('--diff prints each diff, --json the entries', async () => {
    const d = await cli(['history', '-c', config, '-t', 'local', '--diff']);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stdout).toContain(`#2 local applied at 2026-12-01 11:00:00Z`);
    expect(d.stdout).toContain(`-dns64 ${A} { };\n+dns64 ${B} { };\n`);
    const j = await cli(['history', '-c', config, '--json', '-n', '0']);
    const doc = JSON.parse(j.stdout) as { dir: string; entries: HistoryEntry[] };
    expect(doc.dir).toBe(historyDirOf);
    expect(doc.entries.map((e) => `${e.target}#${e.id}`)).toEqual(['local#2', 'dns64-2#1', 'local#1']);
  });

  it('an unknown target: exit 65 naming the configured ones', async () => {
    const r = await cli(['history', '-c', config, '--target', 'dns64-9']);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain('unknown target "dns64-9": the configured targets are local, dns64-2');
    expect(r.stdout).toBe('');
    for (const n of ['-1', '1.5']) expect((await cli(['history', '-c', config, '-n', n])).exitCode).toBe(64);
  });

  it('a corrupt history file: exit 65 naming file and field, the file unchanged', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-cli-history-bad-'));
    const cfg = write('history-bad.yaml', `${MINIMAL}state_file: ${dir}/state.json\n`);
    mkdirSync(path.join(dir, 'history'));
    const file = historyFile(path.join(dir, 'history'), 'local');
    const bad = formatHistory('local', [entry(1, '2026-12-01T10:00:00.000Z')]).replace('"ms": 40', '"ms": "fast"');
    writeFileSync(file, bad);
    const r = await cli(['history', '-c', cfg]);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(`${file}: not a nat64-health apply history: entries.0.ms: `);
    expect(r.stderr).toContain('nothing changed');
    expect(readFileSync(file, 'utf8')).toBe(bad);
    // a file that cannot be read at all: said as it is
    const other = historyFile(path.join(dir, 'history'), 'local');
    rmSync(other);
    mkdirSync(other);
    const unreadable = await cli(['history', '-c', cfg]);
    expect(unreadable.exitCode).toBe(65);
    expect(unreadable.stderr).toMatch(/cannot read the history: EISDIR/);
    const none = await cli([
      'history',
      '-c',
      write('history-none.yaml', `${MINIMAL}state_file: ${hdir}/x/state.json\n`),
    ]);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toContain('no apply recorded yet');
  });
});
