import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockHeldError, lockHolder, takeLock } from '../../../src/lib/lock.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'nh-lock-'));

/** A node process that takes the lock and says so; it holds it until killed. */
async function holder(file: string) {
  const lockModule = new URL('../../../src/lib/lock.ts', import.meta.url).pathname;
  const script =
    `import(${JSON.stringify(lockModule)}).then((m) => ` +
    `{ m.takeLock(${JSON.stringify(file)}); console.log('held'); setInterval(() => {}, 1e6); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

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
    const child = await holder(file);
    expect(() => takeLock(file)).toThrow(`is locked by PID ${child.pid}`);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const lock = takeLock(file);
    expect(lockHolder(file)).toBe(process.pid);
    lock.release();
  });

  it('names the file system error when the lock file cannot be made', () => {
    const d = dir();
    rmSync(d, { recursive: true });
    expect(() => takeLock(path.join(d, 'x.lock'))).toThrow(/ENOENT/);
  });
});
