// `targets test` on this host: what it says of a target it cannot change.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalHost } from '../../../src/apply/local/host.js';
import { BindTarget } from '../../../src/apply/pipeline.js';
import { reloadProbe } from '../../../src/apply/pre-checks.js';

describe('reloadProbe', () => {
  it('rndc reconfig becomes rndc status; anything else is only looked up', () => {
    expect(reloadProbe(['rndc', '-s', '::1', 'reconfig'])).toEqual({
      argv: ['rndc', '-s', '::1', 'status'],
      describe: 'rndc -s ::1 status: named answers on its control channel',
    });
    expect(reloadProbe(['systemctl', 'reload', 'named']).argv).toEqual([
      'sh',
      '-c',
      'command -v "$1"',
      'sh',
      'systemctl',
    ]);
  });
});

describe('preChecks through BindTarget.test()', () => {
  it('a writable output, checkconf and a runnable reload pass; a missing block-mode file does not', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-prechecks-'));
    const output = path.join(dir, 'dns64.conf');
    const settings = { output, checkconf: ['true', output], reload: ['true'], command_timeout: 5000 };
    const include = new BindTarget('local', new LocalHost(), { mode: 'include', ...settings });
    expect(await include.test()).toEqual([
      { check: 'output', ok: true, detail: `${output}: directory writable (file not there yet)` },
      { check: 'checkconf', ok: true, detail: `true ${output}: live configuration passes` },
      { check: 'reload', ok: true, detail: 'true is installed (not run: it would reload)' },
    ]);
    const block = new BindTarget('local', new LocalHost(), { mode: 'block', ...settings });
    expect((await block.test())[0]).toEqual({
      check: 'output',
      ok: false,
      detail: `${output} does not exist (block mode edits an existing file)`,
    });
    writeFileSync(output, '');
    expect((await block.test())[0]).toMatchObject({ check: 'output', ok: true });
  });
});
