// Atomic file replacement on this machine: a temp file in the same directory, fsync, rename, fsync
// the directory. Contents are bytes (Buffer) or UTF-8 text. The temp names are shared with the
// apply pipeline's hosts (local and SSH), whose sweep recognises them.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Our temp files beside an output: `.NAME.nat64-health-XXXXXXXX` (the sweep recognises them). */
export const TEMP_MARK = '.nat64-health-';

export function tempNameBeside(file: string): string {
  return path.posix.join(path.posix.dirname(file), tempPrefixFor(file) + randomBytes(4).toString('hex'));
}

export function tempPrefixFor(file: string): string {
  return `.${path.posix.basename(file)}${TEMP_MARK}`;
}

export interface WriteResult {
  /** set when the owner of `like` could not be kept: why, in words */
  ownerProblem?: string;
}

/**
 * Creates `file` (O_EXCL) with the mode and owner of `like` (default 0644). Only root may give a
 * file away: without that right the group alone is kept if the daemon's user is in it, and the
 * result says what could not be kept.
 */
export async function writeNewFile(
  file: string,
  content: Buffer | string,
  like: { mode: number; uid: number; gid: number } | null,
  sync = true,
): Promise<WriteResult> {
  const mode = like ? like.mode & 0o7777 : 0o644;
  const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  let result: WriteResult = {};
  try {
    await handle.writeFile(content);
    if (like) {
      result = await keepOwner(handle, like);
      await handle.chmod(mode); // after chown, which may clear set-id bits; and the umask applied at open
    }
    if (sync) await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(file, { force: true });
    throw err;
  }
  await handle.close();
  return result;
}

async function keepOwner(handle: fs.FileHandle, like: { uid: number; gid: number }) {
  const st = await handle.stat();
  if (st.uid === like.uid && st.gid === like.gid) return {};
  try {
    await handle.chown(like.uid, like.gid);
    return {};
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const groupKept = await handle.chown(-1, like.gid).then(
      () => true,
      () => false,
    );
    const now = groupKept ? `uid ${st.uid}, group kept` : `${st.uid}:${st.gid}`;
    return {
      ownerProblem: `cannot keep owner ${like.uid}:${like.gid} (chown: ${code}); the new file is owned by ${now}`,
    };
  }
}

/** Temp file beside `target` with target's owner and mode if it exists. Returns its path. */
export async function writeTempBeside(target: string, content: Buffer | string): Promise<string> {
  const tmp = tempNameBeside(target);
  const existing = await fs.stat(target).catch(() => null);
  await writeNewFile(tmp, content, existing);
  return tmp;
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(target: string, content: Buffer | string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = await writeTempBeside(target, content);
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(target));
}
