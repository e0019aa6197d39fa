// An exclusive lock the kernel lets go of when the process dies (kill -9 included): flock(2) on a
// lock file. Node has no flock, so util-linux's flock(1) (Essential in Debian) takes it on a file
// descriptor of ours that it inherits as fd 3: a flock belongs to the open file description, which
// this process keeps open after flock(1) exits. Our own descriptors are close-on-exec (libuv
// opens every file with O_CLOEXEC), so no child of ours (rndc, a notify hook) carries it away.
// The holder writes its PID into the file, so a refused process can name it.
import { spawn, spawnSync } from 'node:child_process';
import { constants, closeSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';

/** flock(1) exits with this when another open file description holds the lock */
const HELD = 75;

/** A lock this process holds until release() or its end. */
export interface HeldLock {
  readonly file: string;
  /** the lock file is still the one at its path (a lock on a removed or replaced file excludes nobody) */
  inPlace(): boolean;
  release(): void;
}

export class LockHeldError extends Error {
  constructor(
    readonly file: string,
    /** the PID the holder wrote into the file; null: not written (yet) */
    readonly pid: number | null,
  ) {
    super(`${file} is locked by ${pid === null ? 'another process' : `PID ${pid}`}`);
  }
}

/** The PID written into a lock file, or null. */
export function lockHolder(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** flock(1)'s outcome on our descriptor */
interface FlockRun {
  status: number | null;
  error?: Error;
  stderr: string;
}

/** flock(1) on fd 3, at once (`waitMs` 0) or waiting in the kernel for up to `waitMs` */
function flockArgs(waitMs: number): string[] {
  const wait = waitMs > 0 ? ['--timeout', String(waitMs / 1000)] : ['--nonblock'];
  return ['--exclusive', ...wait, '--conflict-exit-code', String(HELD), '3'];
}

/**
 * Takes the lock on `file` (created 0644 if missing) without waiting. Throws LockHeldError when
 * another process (or another lock of this one) holds it, and the file system's error when the
 * file cannot be opened.
 */
export function takeLock(file: string): HeldLock {
  const fd = openLockFile(file);
  return held(
    file,
    fd,
    spawnSync('flock', flockArgs(0), { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' }),
  );
}

/**
 * The same, waiting up to `waitMs` for the holder to let go. The wait is flock(1)'s, in the kernel:
 * the event loop goes on, and waiters are not turned away by one another's polls.
 */
export async function waitForLock(file: string, waitMs: number): Promise<HeldLock> {
  const fd = openLockFile(file);
  const run = await new Promise<FlockRun>((resolve) => {
    const child = spawn('flock', flockArgs(waitMs), { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ status: null, error, stderr }));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  return held(file, fd, run);
}

/** The lock on `fd` once flock(1) has run on it; the descriptor is closed unless the lock is ours. */
function held(file: string, fd: number, r: FlockRun): HeldLock {
  let ino: number;
  try {
    if (r.error) throw new Error(`${file}: cannot run flock: ${r.error.message}`);
    if (r.status === HELD) throw new LockHeldError(file, lockHolder(file));
    if (r.status !== 0) throw new Error(`${file}: flock failed: ${r.stderr.trim() || `exit status ${r.status}`}`);
    ino = fstatSync(fd).ino;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  writePid(file, `${process.pid}\n`);
  let open = true;
  return {
    file,
    inPlace: () => sameInode(file, ino),
    release() {
      if (!open) return;
      open = false;
      // no PID of a process that no longer holds it (unless the file is another one by now)
      if (sameInode(file, ino)) writePid(file, '');
      // the lock goes with the last descriptor of its open file description: this one
      closeSync(fd);
    },
  };
}

/**
 * The lock's own descriptor is read-only (flock needs no more): a process that holds a file open
 * for writing keeps its file system from being remounted read-only.
 */
function openLockFile(file: string): number {
  try {
    return openSync(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT, 0o644));
    return openSync(file, constants.O_RDONLY);
  }
}

/**
 * The holder's PID, through a descriptor of its own, closed at once: closing it leaves the flock
 * alone (it belongs to the lock's open file description). Best effort: a read-only file system
 * keeps the lock, and the holder goes unnamed.
 */
function writePid(file: string, text: string) {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_TRUNC);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch {
    // see above
  }
}

function sameInode(file: string, ino: number): boolean {
  try {
    return statSync(file).ino === ino;
  } catch {
    return false;
  }
}
