// The Host of a BIND reached over SSH: SFTP for files, exec for commands (ssh/session.ts).
import type { ExecResult, Host, HostStat } from '../host.js';
import type { WriteResult } from '../../lib/files.js';
import { NO_SUCH_FILE, SftpStatusError, SshError, SshSession, type SshEndpoint } from './session.js';

export class SshHost implements Host {
  readonly session: SshSession;

  constructor(endpoint: SshEndpoint) {
    this.session = new SshSession(endpoint);
  }

  get generation(): number {
    return this.session.generation;
  }

  /** SSH's own checks: the host key, and the SFTP extensions an atomic replace needs. */
  async checks(): Promise<Array<{ check: string; ok: boolean; detail: string }>> {
    const session = this.session;
    const checks: Array<{ check: string; ok: boolean; detail: string }> = [];
    try {
      await session.connect();
      const k = session.hostKey;
      const hostKey = k
        ? `${k.type} ${k.fingerprint} matches ${session.ep.known_hosts} line ${k.known_hosts_line}`
        : 'verified';
      checks.push({
        check: 'connect',
        ok: true,
        detail: `${session.ep.user}@${session.ep.host} port ${session.ep.port}; host key ${hostKey}`,
      });
      const ext = await session.extensions;
      const missing = ['posix-rename@openssh.com'].filter((e) => !ext[e]);
      checks.push({
        check: 'sftp',
        ok: missing.length === 0,
        detail: missing.length
          ? `SFTP server lacks ${missing.join(', ')}: no atomic replace possible`
          : `SFTP with posix-rename${ext['fsync@openssh.com'] ? ' and fsync' : ''}`,
      });
    } catch (err) {
      const m = (err as Error).message;
      const name = `${session.ep.name}:`;
      checks.push({ check: 'connect', ok: false, detail: m.startsWith(name) ? m.slice(name.length).trim() : m });
    }
    return checks;
  }

  get where(): string {
    const { user, host, port } = this.session.ep;
    return `${user}@${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  }

  async begin(): Promise<void> {
    await this.session.connect();
    this.session.pin();
  }

  release(): void {
    this.session.unpin();
  }

  read(file: string): Promise<{ data: Buffer; stat: HostStat } | null> {
    return this.session.readFileStat(file);
  }

  stat(file: string): Promise<HostStat | null> {
    return this.session.stat(file);
  }

  async readdir(dir: string, namePrefix = '') {
    return (await this.session.readdir(dir)).filter((e) => e.name.startsWith(namePrefix));
  }

  writeNew(file: string, data: Buffer, opts?: { like?: HostStat | null; sync?: boolean }): Promise<WriteResult> {
    return this.session.writeNew(file, data, opts);
  }

  rename(from: string, to: string): Promise<void> {
    return this.session.renameOver(from, to);
  }

  /** SFTP cannot fsync a directory; OpenSSH's posix-rename is the server's rename(2). */
  syncDir(): Promise<void> {
    return Promise.resolve();
  }

  unlink(file: string): Promise<void> {
    return this.session.unlink(file);
  }

  mkdirp(dir: string): Promise<void> {
    return this.session.mkdirp(dir);
  }

  mkdtemp(prefix: string): Promise<string> {
    return this.session.mkdtemp(prefix);
  }

  removeTree(dir: string, names?: string[]): Promise<void> {
    return this.session.removeTree(dir, names);
  }

  /** A command that cannot even start (connection gone) is reported like a failed one. */
  async exec(argv: readonly string[], opts: { timeoutMs: number; cwd?: string }): Promise<ExecResult> {
    try {
      return await this.session.exec(argv, opts);
    } catch (err) {
      return { ok: false, command: argv.join(' '), output: (err as Error).message, ms: 0, lost: true };
    }
  }

  lostConnection(err: unknown): boolean {
    return err instanceof SshError && err.connection;
  }

  notFound(err: unknown): boolean {
    return err instanceof SftpStatusError && err.status === NO_SUCH_FILE;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
