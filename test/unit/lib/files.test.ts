import { chmod, chown, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeTempBeside } from '../../../src/lib/files.js';

describe('atomic files', () => {
  it('replaces a file keeping its owner and mode, leaving no temp file behind', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nh-files-'));
    const file = path.join(dir, 'dns64.conf');
    await writeFile(file, 'old\n');
    await chmod(file, 0o640);
    await chown(file, 0, 65534); // root:nogroup, as an operator might set root:bind
    await writeFileAtomic(file, 'new\n');
    const s = await stat(file);
    expect([await readFile(file, 'utf8'), s.mode & 0o777, s.uid, s.gid]).toEqual(['new\n', 0o640, 0, 65534]);
    expect(await readdir(dir)).toEqual(['dns64.conf']);
  });

  it('creates a missing file (and directory) with mode 0644', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nh-files-'));
    const file = path.join(dir, 'sub', 'dns64.conf');
    await writeFileAtomic(file, 'x');
    expect([(await stat(file)).mode & 0o777, await readFile(file, 'utf8')]).toEqual([0o644, 'x']);
  });

  it('writes the candidate beside the live file without touching it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nh-files-'));
    const file = path.join(dir, 'dns64.conf');
    await writeFile(file, 'live');
    const tmp = await writeTempBeside(file, 'candidate');
    expect(path.dirname(tmp)).toBe(dir);
    expect([await readFile(file, 'utf8'), await readFile(tmp, 'utf8')]).toEqual(['live', 'candidate']);
  });
});
