// The built CLI (bin/nat64-health.js, run by `npm test` after the build) on commands that send no
// packets: exit statuses and messages an operator sees.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../bin/nat64-health.js', import.meta.url));
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
    expect(existsSync(`${file}.lock`)).toBe(false);
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
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('the lock held by a live process: exit 1 after waiting, nothing changed', async () => {
    const { config, file } = setup('maint-locked');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.lock`, `${process.pid}\n`);
    const r = await cli(['maintenance', A, 'on', '-c', config]);
    expect([r.exitCode, r.stderr]).toEqual([
      1,
      expect.stringContaining(`(pid ${process.pid}): another maintenance change holds the lock; nothing`),
    ]);
    expect(existsSync(file)).toBe(false);
  });
});
