// Private keys: strict permissions, unencrypted private keys only, and never a byte of one in a message.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PrivateKeyError, readPrivateKey } from '../../../../src/apply/ssh/keys.js';
import { loadSsh2 } from '../../../../src/apply/ssh/ssh2-module.js';

beforeAll(() => loadSsh2());

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-keys-'));
function keygen(name: string, extra: string[] = ['-N', '']): string {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-C', name, '-f', file, ...extra]);
  return file;
}

function errorOf(fn: () => unknown): PrivateKeyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PrivateKeyError) return err;
    throw err;
  }
  throw new Error('expected a PrivateKeyError');
}

describe('readPrivateKey', () => {
  it('reads an unencrypted key with mode 0600', () => {
    const file = keygen('good');
    chmodSync(file, 0o600);
    expect(readPrivateKey(file).equals(readFileSync(file))).toBe(true);
  });

  it.each([0o640, 0o604, 0o644, 0o660])('refuses mode %o, without leaking the key', (mode) => {
    const file = keygen(`perm-${mode.toString(8)}`);
    chmodSync(file, mode);
    const err = errorOf(() => readPrivateKey(file));
    expect(err.message).toMatch(/accessible by group or others/);
    expect(err.message).toContain(`chmod 600 ${file}`);
    const body = readFileSync(file, 'utf8').split('\n')[1]!;
    expect(err.message).not.toContain(body.slice(0, 20));
  });

  it('checks the file a symlink points to', () => {
    const file = keygen('linked');
    chmodSync(file, 0o644);
    const link = path.join(dir, 'link');
    symlinkSync(file, link);
    expect(() => readPrivateKey(link)).toThrow(/accessible by group or others/);
  });

  it('refuses a passphrase-protected key with a clear message', () => {
    const file = keygen('encrypted', ['-N', 'secret passphrase']);
    chmodSync(file, 0o600);
    expect(() => readPrivateKey(file)).toThrow(/protected by a passphrase/);
  });

  it('refuses a public key, garbage, a directory and a missing file', () => {
    const file = keygen('pub');
    chmodSync(`${file}.pub`, 0o600);
    expect(() => readPrivateKey(`${file}.pub`)).toThrow(/public key, not a private key|not a usable/);
    expect(() => readPrivateKey(dir)).toThrow(/not a regular file|accessible/);
    expect(() => readPrivateKey(path.join(dir, 'missing'))).toThrow(/cannot read private key .*ENOENT/);
  });
});
