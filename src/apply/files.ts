// Atomic file replacement: a temp file in the same directory, fsync, rename, fsync the directory.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes a temp file beside `target`, with target's owner and mode if it exists. Returns its path. */
export async function writeTempBeside(target: string, content: string): Promise<string> {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.nat64-health-${randomBytes(4).toString('hex')}`);
  const existing = await fs.stat(target).catch(() => null);
  const handle = await fs.open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    existing ? existing.mode & 0o7777 : 0o644,
  );
  try {
    await handle.writeFile(content, 'utf8');
    if (existing) {
      // keep the owner (e.g. root:bind) and mode an operator gave the live file
      await handle.chown(existing.uid, existing.gid).catch(() => undefined);
      await handle.chmod(existing.mode & 0o7777);
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  return tmp;
}

export async function renameOver(tmp: string, target: string): Promise<void> {
  await fs.rename(tmp, target);
  const dir = await fs.open(path.dirname(target), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export async function writeFileAtomic(target: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = await writeTempBeside(target, content);
  try {
    await renameOver(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
