import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockHeldError, lockHolder, takeLock, waitForLock } from '../../../src/lib/lock.js';
import { lockHolderProcess } from '../../support/lock-holder.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'nh-lock-'));

describe('takeLock', () => {
  it('is exclusive: a second lock on the file is refused, naming the holder, until the first is released', () => {
    const file = path.join(dir(), 'state.json.lock');
    const first = takeLock(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    expect(lockHolder(file)).toBe(process.pid);
    let refused: unknown;
    try {
      takeLock(file);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as LockHeldError).pid).toBe(process.pid);
    expect((refused as Error).message).toBe(`${file} is locked by PID ${process.pid}`);
    first.release();
    expect(readFileSync(file, 'utf8')).toBe('');
    takeLock(file).release();
  });

  it('is let go by the kernel when its process is killed with SIGKILL', async () => {
    const file = path.join(dir(), 'out.lock');
    const child = await lockHolderProcess(file);
    expect(() => takeLock(file)).toThrow(`is locked by PID ${child.pid}`);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const lock = takeLock(file);
    expect(lockHolder(file)).toBe(process.pid);
    lock.release();
  });

  it('waitForLock waits in the kernel for the holder to let go, and gives up after its time', async () => {
    const file = path.join(dir(), 'maintenance.json.lock');
    const first = takeLock(file);
    const t0 = Date.now();
    await expect(waitForLock(file, 300)).rejects.toThrow(`is locked by PID ${process.pid}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const waiting = waitForLock(file, 10_000);
    setTimeout(() => first.release(), 100);
    const second = await waiting;
    expect(lockHolder(file)).toBe(process.pid);
    expect(() => takeLock(file)).toThrow(LockHeldError);
    second.release();
  });

  it('names the file system error when the lock file cannot be made', () => {
    const d = dir();
    rmSync(d, { recursive: true });
    expect(() => takeLock(path.join(d, 'x.lock'))).toThrow(/ENOENT/);
  });
});
