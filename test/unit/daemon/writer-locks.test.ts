import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputLockFile, SecondWriterError, stateLockFile, WriterLocks } from '../../../src/daemon/writer-locks.js';
import { lockHolder, takeLock } from '../../../src/lib/lock.js';
import { silentLogger } from '../../support/observe-fixtures.js';

type LockConfig = Parameters<WriterLocks['hold']>[0];

/** the parts of a config the locks read */
function config(dir: string, o: { state?: string; output?: string; ssh?: boolean } = {}): LockConfig {
  const output = o.output ?? path.join(dir, 'bind', 'nat64-health', 'dns64.conf');
  return {
    state_file: o.state ?? path.join(dir, 'state.json'),
    bind: { mode: 'include', output },
    targets: o.ssh ? [{ kind: 'ssh', name: 'r1' }] : null,
  } as unknown as LockConfig;
}

describe('WriterLocks', () => {
  it('holds the state file lock and the local output lock (creating the include directory)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const c = config(dir);
    const locks = new WriterLocks(silentLogger());
    locks.hold(c);
    expect(locks.files.sort()).toEqual([outputLockFile(c.bind.output), stateLockFile(c.state_file)].sort());
    expect(outputLockFile('/var/lib/bind/nat64-health/dns64.conf')).toBe(
      '/var/lib/bind/nat64-health/.dns64.conf.nat64-health.lock',
    );
    expect(lockHolder(stateLockFile(c.state_file))).toBe(process.pid);
    locks.release();
    expect(locks.files).toEqual([]);
  });

  it('a second writer is refused, naming the lock and its PID, and keeps nothing it took', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const first = new WriterLocks(silentLogger());
    // another daemon with its own state file, but the same output
    first.hold(config(dir, { state: path.join(dir, 'other-state.json') }));
    const second = new WriterLocks(silentLogger());
    const c = config(dir);
    let err: unknown;
    try {
      second.hold(c);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecondWriterError);
    expect((err as Error).message).toBe(
      `another nat64-health run (PID ${process.pid}) holds ${outputLockFile(c.bind.output)}, the lock of ` +
        `${c.bind.output}; nothing changed (one daemon per state file and output)`,
    );
    // the state lock it took first was let go again
    expect(second.files).toEqual([]);
    takeLock(stateLockFile(c.state_file)).release();
    first.release();
  });

  it('SSH-only configs lock the state file alone', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const locks = new WriterLocks(silentLogger());
    locks.hold(config(dir, { ssh: true }));
    expect(locks.files).toEqual([stateLockFile(path.join(dir, 'state.json'))]);
    locks.release();
  });

  it('a config reload moves the locks; a refused one keeps the old ones', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const locks = new WriterLocks(silentLogger());
    locks.hold(config(dir));
    const moved = config(dir, { state: path.join(dir, 'moved', 'state.json') });
    locks.hold(moved);
    expect(locks.files).toContain(stateLockFile(moved.state_file));
    expect(locks.files).not.toContain(stateLockFile(path.join(dir, 'state.json')));
    takeLock(stateLockFile(path.join(dir, 'state.json'))).release(); // let go

    const other = takeLock(stateLockFile(path.join(dir, 'third.json')));
    expect(() => locks.hold(config(dir, { state: path.join(dir, 'third.json') }))).toThrow(SecondWriterError);
    expect(locks.files).toContain(stateLockFile(moved.state_file));
    other.release();
    locks.release();
  });

  it('takes a lock again when its file is removed with its directory (an include directory is made again)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const lines: string[] = [];
    const locks = new WriterLocks(silentLogger(lines));
    const c = config(dir);
    locks.hold(c);
    const lockFile = outputLockFile(c.bind.output);
    rmSync(path.dirname(c.bind.output), { recursive: true });
    locks.refresh();
    expect(lines.some((l) => l.startsWith('warn lock file was removed or replaced; taken again'))).toBe(true);
    expect(lockHolder(lockFile)).toBe(process.pid);
    expect(() => takeLock(lockFile)).toThrow(/is locked by PID/);
    locks.release();
  });

  it('a lock that cannot be taken (block mode, its directory gone) is logged once and taken once it can be', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const lines: string[] = [];
    const locks = new WriterLocks(silentLogger(lines));
    const output = path.join(dir, 'etc-bind', 'named.conf.options');
    locks.hold({ ...config(dir), bind: { ...config(dir).bind, mode: 'block', output } });
    locks.refresh();
    expect(lines.filter((l) => l.startsWith('warn cannot take the lock; trying again every round'))).toHaveLength(1);
    expect(existsSync(outputLockFile(output))).toBe(false);
    mkdirSync(path.dirname(output));
    locks.refresh();
    expect(lockHolder(outputLockFile(output))).toBe(process.pid);
    expect(lines.at(-1)).toMatch(/^info lock taken/);
    locks.release();
  });
});

describe('WriterLocks: another writer after the lock file was replaced', () => {
  it('is logged once, not every round', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-wl-'));
    const lines: string[] = [];
    const locks = new WriterLocks(silentLogger(lines));
    const c = config(dir);
    locks.hold(c);
    rmSync(stateLockFile(c.state_file));
    const other = takeLock(stateLockFile(c.state_file)); // a second daemon started meanwhile
    for (let i = 0; i < 3; i++) locks.refresh();
    expect(lines.filter((l) => l.startsWith('error another process holds a lock of this daemon'))).toHaveLength(1);
    other.release();
    locks.refresh();
    expect(lockHolder(stateLockFile(c.state_file))).toBe(process.pid);
    locks.release();
  });
});
