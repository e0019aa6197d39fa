// OpenSSH known_hosts: host keys are pinned, never trusted on first use. Supports plain and hashed
// (|1|salt|hmac) host fields, [host]:port, comma lists, * and ? wildcards, !negation and @revoked.
// @cert-authority lines are skipped (host certificates are not supported).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export interface KnownHostEntry {
  /** 1-based line number in the file */
  line: number;
  marker: 'revoked' | null;
  hosts: string;
  type: string;
  key: Buffer;
}

export class KnownHostsError extends Error {}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@cert-authority') return;
      if (m !== '@revoked') return;
      marker = 'revoked';
    }
    const [hosts, type, b64] = fields;
    if (!hosts || !type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return; // malformed: OpenSSH skips it too
    const key = Buffer.from(b64, 'base64');
    // The blob starts with its own type: a line whose type field disagrees is corrupt.
    if (keyType(key) !== type) return;
    out.push({ line: i + 1, marker, hosts, type, key });
  });
  return out;
}

/** The name OpenSSH looks up: host for port 22, else [host]:port. */
export function lookupName(host: string, port: number): string {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return port === 22 ? h : `[${h}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Does a known_hosts host field name this host? */
export function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!wildcardMatch(pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The key type named inside an SSH public key blob ("ssh-ed25519", "ssh-rsa", ...). */
export function keyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const n = blob.readUInt32BE(0);
  if (n > 64 || 4 + n > blob.length) return null;
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** As `ssh-keygen -l` shows it: SHA256:<unpadded base64>. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  { ok: true; entry: KnownHostEntry } | { ok: false; reason: 'revoked' | 'mismatch' | 'unknown'; message: string };

/** Checks the key a server presented against the entries for its name. */
export function checkHostKey(entries: KnownHostEntry[], name: string, blob: Buffer, file: string): HostKeyVerdict {
  const mine = entries.filter((e) => hostsFieldMatches(e.hosts, name));
  const seen = `${keyType(blob) ?? 'unknown-type'} ${fingerprint(blob)}`;
  if (mine.some((e) => e.marker === 'revoked' && e.key.equals(blob))) {
    return { ok: false, reason: 'revoked', message: `host key ${seen} of ${name} is marked @revoked in ${file}` };
  }
  const hit = mine.find((e) => e.marker === null && e.key.equals(blob));
  if (hit) return { ok: true, entry: hit };
  const pinned = mine.filter((e) => e.marker === null);
  if (pinned.length > 0) {
    const known = pinned.map((e) => `${e.type} ${fingerprint(e.key)} (line ${e.line})`).join(', ');
    const mismatch = `HOST KEY MISMATCH for ${name}: the server presented ${seen}, but ${file} pins ${known}`;
    const causes =
      'someone may be intercepting the connection, or the host key was changed ' +
      '(then replace its line after checking the new fingerprint out of band)';
    return { ok: false, reason: 'mismatch', message: `${mismatch}; ${causes}` };
  }
  const unknown = `unknown host ${name}: no entry in ${file}; the server presented ${seen}`;
  const pin = `after checking that fingerprint out of band, pin it (e.g. ${keyscanCommand(name)} >> ${file})`;
  return { ok: false, reason: 'unknown', message: `${unknown}; ${pin}` };
}

/** The ssh-keyscan command that fetches the key of a known_hosts name: `[host]:port` becomes `-p port host`. */
function keyscanCommand(name: string): string {
  const bracketed = /^\[(.*)\]:(\d+)$/.exec(name);
  return bracketed ? `ssh-keyscan -p ${bracketed[2]} ${bracketed[1]}` : `ssh-keyscan ${name}`;
}

/** Host key algorithms to offer, in the order of the pinned keys (as OpenSSH does). */
export function hostKeyAlgorithms(entries: KnownHostEntry[], name: string): string[] {
  const algs: string[] = [];
  for (const e of entries) {
    if (e.marker !== null || !hostsFieldMatches(e.hosts, name)) continue;
    const forType =
      e.type === 'ssh-rsa'
        ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
        : SUPPORTED_TYPES.includes(e.type)
          ? [e.type]
          : [];
    for (const a of forType) if (!algs.includes(a)) algs.push(a);
  }
  return algs;
}

const SUPPORTED_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss'];

/** Reads known_hosts, refusing one that others could have written. */
export function readKnownHosts(file: string): KnownHostEntry[] {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new KnownHostsError(
      `cannot read known_hosts ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!st.isFile()) throw new KnownHostsError(`known_hosts ${file} is not a regular file`);
  if (st.mode & 0o022) {
    const problem = `known_hosts ${file} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
    throw new KnownHostsError(`${problem}: anyone could pin their own key; chmod go-w ${file}`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw new KnownHostsError(`known_hosts ${file} is owned by uid ${st.uid}, not by this user (${uid}) or root`);
  }
  return parseKnownHosts(readFileSync(file, 'utf8'));
}
