// The run's own temp directory (test/support/suite-tmpdir.ts, vitest's globalSetup).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import setup from '../../support/suite-tmpdir.js';

const saved = process.env.TMPDIR;
afterEach(() => {
  process.env.TMPDIR = saved;
});

describe('suite temp directory', () => {
  it('this run writes its temp files into its own directory', () => {
    expect(path.basename(os.tmpdir())).toMatch(/^nh-suite-\d+-/);
  });

  it("is made per run and removed at its end; a dead run's is removed, a live run's kept", () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'nh-suite-test-'));
    const deadPid = spawnSync('true').pid;
    const dead = path.join(base, `nh-suite-${deadPid}-abc`);
    const live = path.join(base, `nh-suite-${process.ppid}-def`);
    const other = path.join(base, 'someone-else');
    for (const d of [dead, live, other]) mkdirSync(d);
    writeFileSync(path.join(dead, 'left'), '');
    process.env.TMPDIR = base;

    const teardown = setup();
    const mine = process.env.TMPDIR;
    expect(path.dirname(mine)).toBe(base);
    expect(path.basename(mine)).toMatch(new RegExp(`^nh-suite-${process.pid}-`));
    expect([existsSync(dead), existsSync(live), existsSync(other)]).toEqual([false, true, true]);

    writeFileSync(path.join(mine, 'a test file'), '');
    teardown();
    expect(existsSync(mine)).toBe(false);
  });
});
