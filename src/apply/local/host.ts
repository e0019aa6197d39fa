// The Host of the local BIND: node:fs and execa, on this machine.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ExecResult, Host, HostStat } from '../host.js';
import { runCommand } from '../../lib/commands.js';
import { syncDir, writeNewFile, type WriteResult } from '../../lib/files.js';

function toStat(st: import('node:fs').Stats): HostStat {
  return {
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtimeMs / 1000,
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
    stamp: `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`,
  };
}

const code = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

export class LocalHost implements Host {
  readonly where = 'this host';
  readonly generation = 0;

  begin(): Promise<void> {
    return Promise.resolve();
  }

  release(): void {}

  async read(file: string): Promise<{ data: Buffer; stat: HostStat } | null> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
    try {
      const [data, st] = await Promise.all([handle.readFile(), handle.stat()]);
      return { data, stat: toStat(st) };
    } finally {
      await handle.close();
    }
  }

  async stat(file: string): Promise<HostStat | null> {
    return fs.stat(file).then(toStat, (err: unknown) => {
      if (code(err) === 'ENOENT') return null;
      throw err;
    });
  }

  async readdir(dir: string, namePrefix = '') {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return Promise.all(
      entries
        .filter((e) => e.name.startsWith(namePrefix))
        .map(async (e) => ({
          name: e.name,
          isDirectory: e.isDirectory(),
          mtime: ((await fs.lstat(path.join(dir, e.name)).catch(() => null))?.mtimeMs ?? 0) / 1000,
        })),
    );
  }

  writeNew(file: string, data: Buffer, opts: { like?: HostStat | null; sync?: boolean } = {}): Promise<WriteResult> {
    return writeNewFile(file, data, opts.like ?? null, opts.sync ?? true);
  }

  rename(from: string, to: string): Promise<void> {
    return fs.rename(from, to);
  }

  syncDir(dir: string): Promise<void> {
    return syncDir(dir);
  }

  unlink(file: string): Promise<void> {
    return fs.unlink(file);
  }

  async mkdirp(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
  }

  async mkdtemp(prefix: string): Promise<string> {
    const dir = `${prefix}${randomBytes(6).toString('hex')}`;
    await fs.mkdir(dir, { mode: 0o700 });
    return dir;
  }

  removeTree(dir: string): Promise<void> {
    return fs.rm(dir, { recursive: true, force: true });
  }

  exec(argv: readonly string[], opts: { timeoutMs: number; cwd?: string }): Promise<ExecResult> {
    return runCommand([...argv], opts.timeoutMs, opts.cwd);
  }

  lostConnection(): boolean {
    return false;
  }

  notFound(err: unknown): boolean {
    return code(err) === 'ENOENT';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
