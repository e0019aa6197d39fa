// vitest globalSetup: the run's temp files go into one directory of its own (TMPDIR, inherited by
// the workers and every process they start), removed when the run ends. Before, each run left
// hundreds of folders in /tmp, and the apply pipeline's sweep lists the temp directory.
// A run that was killed leaves its directory behind; the next run removes it once its process
// is gone (the PID is in the name).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from './netns.js';

const PREFIX = 'nh-suite-';

function remove(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (err) {
    // a test that left an immutable file or a mount behind: say so, do not fail the run
    console.warn(`suite-tmpdir: could not remove ${dir}: ${(err as Error).message}`);
  }
}

export default function setup(): () => void {
  const base = os.tmpdir();
  for (const name of readdirSync(base)) {
    const pid = Number(/^nh-suite-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) remove(path.join(base, name));
  }
  const dir = mkdtempSync(path.join(base, `${PREFIX}${process.pid}-`));
  process.env.TMPDIR = dir;
  return () => remove(dir);
}
