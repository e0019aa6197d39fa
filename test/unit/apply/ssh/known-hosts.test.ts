// known_hosts parsing and host key checks, against files and fingerprints made by OpenSSH's ssh-keygen.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprint,
  hostKeyAlgorithms,
  hostsFieldMatches,
  KnownHostsError,
  lookupName,
  parseKnownHosts,
  readKnownHosts,
} from '../../../../src/apply/ssh/known-hosts.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-knownhosts-'));

interface Key {
  line: string; // "type base64 comment"
  type: string;
  blob: Buffer;
  sshKeygenFingerprint: string;
}

function makeKey(name: string, type: string): Key {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const [t, b64] = line.split(' ');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`])
    .toString()
    .split(' ')[1]!;
  return { line, type: t!, blob: Buffer.from(b64!, 'base64'), sshKeygenFingerprint: fp };
}

let ed: Key;
let rsa: Key;
let other: Key;
beforeAll(() => {
  ed = makeKey('ed', 'ed25519');
  rsa = makeKey('rsa', 'rsa');
  other = makeKey('other', 'ed25519');
});

describe('known_hosts', () => {
  it('fingerprints like ssh-keygen -l', () => {
    expect(fingerprint(ed.blob)).toBe(ed.sshKeygenFingerprint);
    expect(fingerprint(rsa.blob)).toBe(rsa.sshKeygenFingerprint);
  });

  it('looks hosts up as OpenSSH does: host for port 22, [host]:port otherwise', () => {
    expect(lookupName('dns64-2.example.net', 22)).toBe('dns64-2.example.net');
    expect(lookupName('2001:db8:100::53', 22)).toBe('2001:db8:100::53');
    expect(lookupName('2001:DB8:100::53', 2222)).toBe('[2001:db8:100::53]:2222');
    expect(lookupName('[2001:db8:100::53]', 22)).toBe('2001:db8:100::53');
  });

  it('matches plain, port, list, wildcard and negated host fields', () => {
    expect(hostsFieldMatches('a.example,b.example', 'b.example')).toBe(true);
    expect(hostsFieldMatches('[a.example]:2222', 'a.example')).toBe(false);
    expect(hostsFieldMatches('[a.example]:2222', '[a.example]:2222')).toBe(true);
    expect(hostsFieldMatches('*.example', 'dns.example')).toBe(true);
    expect(hostsFieldMatches('dns?.example', 'dns7.example')).toBe(true);
    expect(hostsFieldMatches('*.example,!bad.example', 'bad.example')).toBe(false);
    expect(hostsFieldMatches('2001:db8::53', '2001:db8::5')).toBe(false);
    expect(hostsFieldMatches('A.Example', 'a.example')).toBe(true);
  });

  it('accepts the pinned key, for plain and ssh-keygen -H hashed entries', () => {
    const file = path.join(dir, 'kh-hashed');
    writeFileSync(
      file,
      `# comment\n\n${lookupName('2001:db8:100::53', 2222)} ${ed.line}\ndns64-2.example.net,192.0.2.53 ${rsa.line}\n`,
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain('2001:db8:100::53');
    const entries = parseKnownHosts(text);
    expect(entries).toHaveLength(3); // the comma list is split into one hashed line per name
    const v = checkHostKey(entries, '[2001:db8:100::53]:2222', ed.blob, file);
    expect(v.ok).toBe(true);
    expect(checkHostKey(entries, '192.0.2.53', rsa.blob, file).ok).toBe(true);
    expect(checkHostKey(entries, 'dns64-2.example.net', rsa.blob, file).ok).toBe(true);
    // the same host on port 22 is a different name
    expect(checkHostKey(entries, '2001:db8:100::53', ed.blob, file)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('refuses a changed key, naming the fingerprint seen and the pinned one', () => {
    const entries = parseKnownHosts(`dns64-2.example.net ${ed.line}\n`);
    const v = checkHostKey(entries, 'dns64-2.example.net', other.blob, '/etc/nat64-health/known_hosts');
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.reason).toBe('mismatch');
    expect(v.message).toContain(`presented ssh-ed25519 ${other.sshKeygenFingerprint}`);
    expect(v.message).toContain(`pins ssh-ed25519 ${ed.sshKeygenFingerprint} (line 1)`);
    expect(v.message).toMatch(/HOST KEY MISMATCH/);
  });

  it('refuses an unknown host (no trust on first use) and says how to pin it', () => {
    const v = checkHostKey(parseKnownHosts(`other.example ${ed.line}\n`), '[192.0.2.53]:2222', ed.blob, '/k');
    expect(v).toMatchObject({ ok: false, reason: 'unknown' });
    if (v.ok) return;
    expect(v.message).toContain(ed.sshKeygenFingerprint);
    expect(v.message).toContain('ssh-keyscan -p 2222 192.0.2.53 >> /k');
    expect(checkHostKey([], 'x', ed.blob, '/k')).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('honours @revoked and skips @cert-authority and malformed lines', () => {
    const b64 = ed.line.split(' ')[1];
    const text = [
      `@revoked * ${ed.line}`,
      `host ${ed.line}`,
      `@cert-authority *.example ${rsa.line}`,
      'host ssh-ed25519 not-base64!',
      `host ssh-rsa ${b64}`,
      'garbage',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.line)).toEqual([1, 2]);
    expect(checkHostKey(entries, 'host', ed.blob, '/k')).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('offers the pinned key types first', () => {
    const entries = parseKnownHosts(`h ${rsa.line}\nh ${ed.line}\nother ${ed.line}\n`);
    expect(hostKeyAlgorithms(entries, 'h')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithms(entries, 'nobody')).toEqual([]);
  });

  it('refuses a known_hosts file others can write', () => {
    const file = path.join(dir, 'kh-perm');
    writeFileSync(file, `h ${ed.line}\n`);
    chmodSync(file, 0o644);
    expect(readKnownHosts(file)).toHaveLength(1);
    chmodSync(file, 0o666);
    expect(() => readKnownHosts(file)).toThrow(KnownHostsError);
    expect(() => readKnownHosts(file)).toThrow(/writable by group or others/);
    expect(() => readKnownHosts(path.join(dir, 'missing'))).toThrow(/cannot read known_hosts .*ENOENT/);
  });
});
