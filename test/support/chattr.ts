// Whether the immutable attribute works here (ext4 as root): some tests make a directory immutable
// so that even root cannot create the temp file a rename or a rollback needs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function chattrWorks(): boolean {
  const d = mkdtempSync(path.join(os.tmpdir(), 'nh-chattr-'));
  try {
    execFileSync('chattr', ['+i', d], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', d], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why chattr cannot be used here, or null when it can (for itWith). */
export function chattrMissing(): string | null {
  return chattrWorks() ? null : 'chattr +i does not work on this file system';
}
