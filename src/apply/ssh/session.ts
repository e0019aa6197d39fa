// One SSH connection to one target, kept open (keep-alive) and re-established when it drops.
// Every operation has a timeout; a timed-out operation tears the connection down, because its
// state is then unknown, and the next operation reconnects. Host keys are checked against the
// pinned known_hosts entries; the private key is read from its file at each connect.
import { randomBytes } from 'node:crypto';
import type { HostStat } from '../host.js';
import type { WriteResult } from '../../lib/files.js';
import type { Client as ClientType, ConnectConfig, SFTPWrapper, Stats, FileEntryWithStats } from 'ssh2';
import { checkHostKey, hostKeyAlgorithms, lookupName, readKnownHosts, fingerprint, keyType } from './known-hosts.js';
import { readPrivateKey } from './keys.js';
import { loadSsh2, ssh2 } from './ssh2-module.js';
import type { SshSettings } from '../../config/targets.js';
import { remoteCommand } from './quote.js';

/** SFTP's SSH_FX_NO_SUCH_FILE */
export const NO_SUCH_FILE = 2;
const WRITE_CHUNK = 32 * 1024;
const READ_CHUNK = 32 * 1024 - 64; // a whole read answer fits OpenSSH's default packet size
const EOF_STATUS = 1;
/** remote command output kept for messages; the rest is dropped */
const MAX_OUTPUT = 64 * 1024;

/** Where and how to log in (the target's `ssh:` settings), and the target's name for messages. */
export interface SshEndpoint extends SshSettings {
  name: string;
}

export class SshError extends Error {
  constructor(
    message: string,
    /** the connection is (now) unusable */
    readonly connection = false,
  ) {
    super(message);
  }
}

export interface ExecResult {
  ok: boolean;
  /** argv joined by spaces, for messages */
  command: string;
  output: string;
  exitCode: number | null;
  signal: string | null;
  /** the connection dropped (or timed out) before the command reported an exit status */
  lost: boolean;
  timedOut: boolean;
  ms: number;
}

export interface HostKeyInfo {
  type: string;
  fingerprint: string;
  known_hosts_line: number;
}

/** Printable text only: remote output ends up in logs and the status page. */
export function sanitizeOutput(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/(?![\t\n])\p{Cc}/gu, '?')
    .trim();
}

export class SshSession {
  private client: ClientType | null = null;
  private connecting: Promise<ClientType> | null = null;
  private sftpP: Promise<SFTPWrapper> | null = null;
  private closed = false;
  private pinned: number | null = null;
  /** the server refused a chown (not root): set modes only */
  private chownRefused = false;
  /** bumped on every new connection: lets callers notice a reconnect */
  generation = 0;
  hostKey: HostKeyInfo | null = null;

  constructor(readonly ep: SshEndpoint) {}

  get connected(): boolean {
    return this.client !== null;
  }

  /**
   * Ties the operations that follow to the current connection: if it drops, they fail instead of
   * quietly carrying on over a new one (an apply must not continue half-way on another session).
   */
  pin(): void {
    this.pinned = this.generation;
  }

  /** Operations may reconnect again (rollback, cleanup, the next apply). */
  unpin(): void {
    this.pinned = null;
  }

  /** The live connection, or a new one (unless pinned). `purpose` is for the message when it is gone. */
  connect(purpose?: string): Promise<ClientType> {
    if (this.closed) return Promise.reject(new SshError(`${this.ep.name}: session closed`, true));
    if (this.pinned !== null && (!this.client || this.generation !== this.pinned)) {
      return Promise.reject(
        new SshError(`${this.ep.name}: connection lost${purpose ? ` before ${purpose}` : ''}`, true),
      );
    }
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private open(): Promise<ClientType> {
    return loadSsh2().then(() => this.openLoaded());
  }

  private openLoaded(): Promise<ClientType> {
    const ep = this.ep;
    const where = `${ep.user}@${lookupName(ep.host, ep.port)}`;
    let privateKey: Buffer;
    let entries;
    try {
      privateKey = readPrivateKey(ep.private_key);
      entries = readKnownHosts(ep.known_hosts);
    } catch (err) {
      return Promise.reject(new SshError(`${ep.name}: ${(err as Error).message}`, true));
    }
    const name = lookupName(ep.host, ep.port);
    const algorithms = hostKeyAlgorithms(entries, name);
    let hostKeyProblem: string | null = null;
    let hostKey: HostKeyInfo | null = null;
    const client = new (ssh2().Client)();
    const config: ConnectConfig = {
      host: ep.host.replace(/^\[(.*)\]$/, '$1'),
      port: ep.port,
      username: ep.user,
      privateKey,
      readyTimeout: ep.timeout,
      keepaliveInterval: ep.keepalive,
      keepaliveCountMax: 3,
      // Offer the pinned key types first so the server picks a key we know (as OpenSSH does).
      ...(algorithms.length > 0
        ? { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } }
        : {}),
      hostVerifier: (key: Buffer) => {
        const verdict = checkHostKey(entries, name, key, ep.known_hosts);
        if (!verdict.ok) {
          hostKeyProblem = verdict.message;
          return false;
        }
        hostKey = { type: keyType(key) ?? '?', fingerprint: fingerprint(key), known_hosts_line: verdict.entry.line };
        return true;
      },
    };
    return new Promise<ClientType>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.destroy();
        const detail = hostKeyProblem ?? describeConnectError(err, ep.timeout);
        reject(new SshError(`${ep.name}: ${hostKeyProblem ? '' : `cannot connect to ${where}: `}${detail}`, true));
      };
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        if (this.closed) {
          client.end();
          reject(new SshError(`${ep.name}: session closed`, true));
          return;
        }
        this.client = client;
        this.hostKey = hostKey;
        this.generation++;
        resolve(client);
      });
      client.on('error', fail);
      client.once('close', () => {
        fail(new Error('connection closed during the handshake'));
        if (this.client === client) this.dropped();
      });
      // A guard on top of readyTimeout: DNS or a SYN nobody answers.
      const guard = setTimeout(() => fail(new Error(`timed out after ${ep.timeout} ms`)), ep.timeout + 1000);
      client.once('ready', () => clearTimeout(guard));
      client.once('close', () => clearTimeout(guard));
      client.connect(config);
    });
  }

  private dropped() {
    this.client = null;
    this.sftpP = null;
  }

  /** Tear the connection down (its state is unknown after a timeout); the next call reconnects. */
  reset() {
    const c = this.client;
    this.dropped();
    c?.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client ?? (await this.connecting?.catch(() => null));
    this.dropped();
    if (!c) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        c.destroy();
        resolve();
      }, 1000);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      c.end();
    });
  }

  /**
   * Runs argv remotely (quoted, through the login shell), with a timeout. Never throws for the
   * command's own failure.
   */
  async exec(argv: readonly string[], opts: { timeoutMs: number; cwd?: string }): Promise<ExecResult> {
    const command = argv.join(' ');
    const line = remoteCommand(argv, opts.cwd);
    const client = await this.connect(`running ${command}`);
    const start = performance.now();
    return new Promise<ExecResult>((resolve) => {
      let out = '';
      let done = false;
      let exitCode: number | null = null;
      let signal: string | null = null;
      const finish = (over: Partial<ExecResult> = {}) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const lost = over.lost ?? (exitCode === null && signal === null);
        const timedOut = over.timedOut ?? false;
        const ok = !lost && !timedOut && exitCode === 0;
        const text = sanitizeOutput(out);
        const detail = timedOut
          ? `timed out after ${opts.timeoutMs} ms`
          : lost
            ? `connection lost before ${argv[0]} reported an exit status${text ? `: ${text}` : ''}`
            : text ||
              (ok ? '' : exitCode === 127 ? `${argv[0]}: command not found` : `exit status ${exitCode ?? signal}`);
        resolve({ ok, command, output: detail, exitCode, signal, lost, timedOut, ms: performance.now() - start });
      };
      const timer = setTimeout(() => {
        // The remote process may keep running; the connection goes, and with it its channel.
        finish({ timedOut: true, lost: false });
        this.reset();
      }, opts.timeoutMs);
      const onClose = () => finish({ lost: true });
      client.once('close', onClose);
      client.exec(line, (err, ch) => {
        if (err) {
          client.removeListener('close', onClose);
          out = err.message;
          finish({ lost: !this.client });
          return;
        }
        const add = (d: Buffer) => {
          if (out.length < MAX_OUTPUT) out += d.toString('utf8');
        };
        ch.on('data', add);
        ch.stderr.on('data', add);
        ch.on('exit', (code: number | null, sig?: string) => {
          if (typeof code === 'number') exitCode = code;
          if (sig) signal = sig;
        });
        ch.on('close', () => {
          client.removeListener('close', onClose);
          finish();
        });
      });
    });
  }

  private sftp(purpose?: string): Promise<SFTPWrapper> {
    if (this.sftpP) return this.sftpP;
    const p = this.connect(purpose).then(
      (client) =>
        new Promise<SFTPWrapper>((resolve, reject) => {
          client.sftp((err, sftp) => {
            if (err) return reject(new SshError(`${this.ep.name}: cannot start SFTP: ${err.message}`));
            sftp.once('close', () => {
              if (this.sftpP === p) this.sftpP = null;
            });
            resolve(sftp);
          });
        }),
    );
    this.sftpP = p;
    p.catch(() => {
      if (this.sftpP === p) this.sftpP = null;
    });
    return this.withTimeout(p, 'starting SFTP');
  }

  /** Bounds one operation; on timeout the connection is torn down (its state is unknown). */
  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new SshError(`${this.ep.name}: ${what} timed out after ${this.ep.timeout} ms`, true));
        this.reset();
      }, this.ep.timeout);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private async op<T>(
    what: string,
    fn: (sftp: SFTPWrapper, cb: (err: Error | undefined | null, v?: T) => void) => void,
  ): Promise<T> {
    const sftp = await this.sftp(what);
    const p = new Promise<T>((resolve, reject) => {
      const onClose = () => reject(new SshError(`${this.ep.name}: connection lost during ${what}`, true));
      sftp.once('close', onClose);
      fn(sftp, (err, v) => {
        sftp.removeListener('close', onClose);
        if (err) reject(sftpError(err, this.ep.name, what));
        else resolve(v as T);
      });
    });
    return this.withTimeout(p, what);
  }

  get extensions(): Promise<Record<string, string>> {
    return this.sftp('using SFTP').then(
      (s) => (s as unknown as { _extensions: Record<string, string> })._extensions ?? {},
    );
  }

  /**
   * Content and attributes from one open handle, or null if the file does not exist. Requests on a
   * handle are pipelined (the server handles them in order): open, then fstat and read together.
   */
  async readFileStat(path: string): Promise<{ data: Buffer; stat: HostStat } | null> {
    let handle: Buffer;
    try {
      handle = await this.op<Buffer>(`opening ${path}`, (s, cb) => s.open(path, 'r', cb));
    } catch (err) {
      if (err instanceof SftpStatusError && err.status === NO_SUCH_FILE) return null;
      throw err;
    }
    try {
      const readAt = (pos: number) => {
        const buf = Buffer.alloc(READ_CHUNK);
        return this.op<Buffer>(`reading ${path}`, (s, cb) =>
          s.read(handle, buf, 0, buf.length, pos, (err, n) => {
            // SFTP reports the end of the file as an EOF status
            if (err && (err as { code?: unknown }).code === EOF_STATUS) cb(undefined, buf.subarray(0, 0));
            else cb(err, buf.subarray(0, n ?? 0));
          }),
        );
      };
      const [st, first] = await Promise.all([
        this.op<Stats>(`stat ${path}`, (s, cb) => s.fstat(handle, cb)),
        readAt(0),
      ]);
      const chunks = [first];
      let total = first.length;
      for (let last = first; last.length > 0 && total < st.size; total += last.length) {
        last = await readAt(total);
        chunks.push(last);
      }
      return { data: Buffer.concat(chunks), stat: toHostStat(st) };
    } finally {
      this.closeHandle(handle, path);
    }
  }

  /** Close without waiting for the answer: nothing depends on it, and a failure changes nothing. */
  private closeHandle(handle: Buffer, path: string): void {
    this.op<void>(`closing ${path}`, (s, cb) => s.close(handle, cb)).catch(() => undefined);
  }

  async stat(path: string): Promise<HostStat | null> {
    try {
      return toHostStat(await this.op<Stats>(`stat ${path}`, (s, cb) => s.stat(path, cb)));
    } catch (err) {
      if (err instanceof SftpStatusError && err.status === NO_SUCH_FILE) return null;
      throw err;
    }
  }

  async readdir(path: string): Promise<Array<{ name: string; mtime: number; isDirectory: boolean }>> {
    const list = await this.op<FileEntryWithStats[]>(`listing ${path}`, (s, cb) => s.readdir(path, cb));
    return list.map((e) => ({ name: e.filename, mtime: e.attrs.mtime, isDirectory: e.attrs.isDirectory() }));
  }

  /** mkdir -p */
  async mkdirp(dir: string): Promise<void> {
    const st = await this.stat(dir);
    if (st?.isDirectory) return;
    if (st) throw new SshError(`${this.ep.name}: ${dir} exists and is not a directory`);
    const parent = dir.replace(/\/[^/]+\/?$/, '') || '/';
    if (parent !== dir) await this.mkdirp(parent);
    await this.op<void>(`creating ${dir}`, (s, cb) => s.mkdir(dir, { mode: 0o755 }, cb)).catch(async (err) => {
      if (err instanceof SshError && err.connection) throw err;
      if (!(await this.stat(dir))?.isDirectory) throw err; // lost a race: fine if it is there now
    });
  }

  /** Creates a fresh private directory (the mkdir fails if the name exists) and returns it. */
  async mkdtemp(prefix: string): Promise<string> {
    const dir = `${prefix}${randomBytes(6).toString('hex')}`;
    await this.op<void>(`creating ${dir}`, (s, cb) => s.mkdir(dir, { mode: 0o700 }, cb));
    return dir;
  }

  /**
   * Writes a new file (O_EXCL: never follows or reuses an existing name), gives it the mode and, if
   * allowed, the owner of `like`, and (sync) fsyncs it when the server has fsync@openssh.com. After
   * the open, every request is sent at once (pipelined; the server handles them in order).
   */
  async writeNew(
    path: string,
    content: Buffer | string,
    opts: { like?: HostStat | null; sync?: boolean } = {},
  ): Promise<WriteResult> {
    const { like, sync = true } = opts;
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const mode = like ? like.mode & 0o7777 : 0o644;
    const doSync = sync && !!(await this.extensions)['fsync@openssh.com'];
    const handle = await this.op<Buffer>(`creating ${path}`, (s, cb) => s.open(path, 'wx', { mode }, cb));
    let closed = false;
    try {
      const steps: Array<Promise<unknown>> = [];
      for (let off = 0; off < data.length; off += WRITE_CHUNK) {
        const len = Math.min(WRITE_CHUNK, data.length - off);
        steps.push(this.op<void>(`writing ${path}`, (s, cb) => s.write(handle, data, off, len, off, cb)));
      }
      // Keep the owner (e.g. root:bind) and the exact mode (the server's umask applies at open) an
      // operator gave the live file. Only root may chown: after one refusal, set the mode alone.
      let attrs: Promise<unknown> = Promise.resolve();
      const chownWanted = !this.chownRefused;
      if (like) {
        const chown = chownWanted;
        attrs = this.op<void>(`setting owner and mode of ${path}`, (s, cb) =>
          s.fsetstat(handle, chown ? { uid: like.uid, gid: like.gid, mode } : { mode }, cb),
        ).catch((err) => {
          if ((err instanceof SshError && err.connection) || !chown) throw err;
          this.chownRefused = true;
          return 'retry';
        });
      }
      if (doSync) steps.push(this.op<void>(`fsync ${path}`, (s, cb) => s.ext_openssh_fsync(handle, (err) => cb(err))));
      steps.push(attrs);
      const close = this.op<void>(`closing ${path}`, (s, cb) => s.close(handle, cb));
      closed = true;
      const results = await Promise.all([...steps, close]);
      if (results.includes('retry')) await this.op<void>(`chmod ${path}`, (s, cb) => s.setstat(path, { mode }, cb));
      if (!like || (chownWanted && !this.chownRefused)) return {};
      const now = await this.stat(path);
      if (now && now.uid === like.uid && now.gid === like.gid) return {};
      const user = this.ep.user;
      const refused = `the server refused the chown: ${user} is not root`;
      return {
        ownerProblem: `cannot keep owner ${like.uid}:${like.gid} (${refused}); the new file is owned by ${user}`,
      };
    } finally {
      if (!closed) this.closeHandle(handle, path);
    }
  }

  /** rename(2) on the server: atomically replaces `to` (posix-rename@openssh.com). */
  async renameOver(from: string, to: string): Promise<void> {
    if (!(await this.extensions)['posix-rename@openssh.com']) {
      throw new SshError(
        `${this.ep.name}: the SFTP server lacks posix-rename@openssh.com, so ${to} cannot be replaced atomically`,
      );
    }
    await this.op<void>(`renaming ${from} to ${to}`, (s, cb) => s.ext_openssh_rename(from, to, cb));
  }

  async unlink(path: string): Promise<void> {
    await this.op<void>(`removing ${path}`, (s, cb) => s.unlink(path, cb));
  }

  async rmdir(path: string): Promise<void> {
    await this.op<void>(`removing ${path}`, (s, cb) => s.rmdir(path, cb));
  }

  /** Removes a directory of plain files (no recursion); `files`: its entries if known (no listing). */
  async removeTree(dir: string, files?: string[]): Promise<void> {
    const names = files ?? (await this.readdir(dir)).map((e) => e.name).filter((n) => n !== '.' && n !== '..');
    // Sent together: the server handles them in order, so the rmdir comes after the unlinks.
    const unlinks = names.map((n) =>
      this.unlink(`${dir}/${n}`).catch((err) => {
        if (!(err instanceof SftpStatusError && err.status === NO_SUCH_FILE)) throw err;
      }),
    );
    await Promise.all([...unlinks, this.rmdir(dir)]);
  }
}

export class SftpStatusError extends SshError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function toHostStat(st: Stats): HostStat {
  return {
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    isFile: st.isFile(),
    isDirectory: st.isDirectory(),
  };
}

function sftpError(err: Error, target: string, what: string): Error {
  if (err instanceof SshError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return new SftpStatusError(`${target}: ${what}: ${err.message}`, code);
  return new SshError(`${target}: ${what}: ${err.message}`, true);
}

function describeConnectError(err: Error, timeout: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  const level = (err as { level?: string }).level;
  if (level === 'client-authentication')
    return 'authentication failed (is the public key in the authorized_keys of that user?)';
  if (level === 'client-timeout' || /timed out/i.test(err.message)) return `timed out after ${timeout} ms`;
  if (typeof code === 'string') return `${code}${err.message.includes(code) ? '' : ` (${err.message})`}`;
  return err.message;
}
