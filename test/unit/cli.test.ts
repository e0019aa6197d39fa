// The built CLI (bin/nat64-health.js, run by `npm test` after the build) on commands that send no
// packets: exit statuses and messages an operator sees.
import { mkdtempSync, writeFileSync } from 'node:fs';
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
