// The private key for SSH targets: read from a file whose permissions keep it private, checked to
// be an unencrypted private key, and never put into a log line or an error message.
import { constants, closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { ParsedKey } from 'ssh2';
import { ssh2 } from './ssh2-module.js';

export class PrivateKeyError extends Error {}

const UNATTENDED =
  'nat64-health runs unattended and needs an unencrypted key (protect it with file permissions instead)';

/** Needs loadSsh2() to have resolved (the SSH session does that before it reads the key). */
export function readPrivateKey(file: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOCTTY);
  } catch (err) {
    throw new PrivateKeyError(
      `cannot read private key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let data: Buffer;
  try {
    // fstat the descriptor we read: no window between the check and the read.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PrivateKeyError(`private key ${file} is not a regular file`);
    if (st.mode & 0o077) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new PrivateKeyError(
        `private key ${file} is accessible by group or others (mode ${mode}); refusing it: chmod 600 ${file}`,
      );
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new PrivateKeyError(
        `private key ${file} is owned by uid ${st.uid}, not by the user nat64-health runs as (uid ${uid}): chown it`,
      );
    }
    data = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const parsed = ssh2().utils.parseKey(data);
  // The types say one key; at run time ssh2 returns an array for a file holding several.
  const key: ParsedKey | Error | undefined = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const encrypted = key instanceof Error && /passphrase|encrypted/i.test(key.message);
    throw new PrivateKeyError(
      encrypted
        ? `private key ${file} is protected by a passphrase: ${UNATTENDED}`
        : `private key ${file} is not a usable SSH private key (OpenSSH, PEM or PuTTY format expected)`,
    );
  }
  if (!key.isPrivateKey()) throw new PrivateKeyError(`${file} holds a public key, not a private key`);
  return data;
}
