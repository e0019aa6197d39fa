// What the apply pipeline needs from the machine BIND runs on: files and commands, each bounded in
// time. Two implementations: this machine (local/host.ts) and a host reached over SSH (ssh/host.ts).
// Paths are absolute POSIX paths on that host; file contents are bytes.
import type { WriteResult } from '../lib/files.js';

export interface HostStat {
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
  isFile: boolean;
  isDirectory: boolean;
  /**
   * changes with every write of the file, also one that keeps its mtime (inode, size, mtime and
   * ctime, which no program can set); absent where the host does not tell (SFTP)
   */
  stamp?: string;
}

export interface ExecResult {
  ok: boolean;
  /** argv joined by spaces, for messages */
  command: string;
  output: string;
  ms: number;
  /** the connection dropped before the command reported an exit status (SSH) */
  lost?: boolean;
}

export interface Host {
  /** for messages: "this host" or user@host:port */
  readonly where: string;
  /** one apply, one connection: after begin(), operations fail rather than continue on a new one */
  begin(): Promise<void>;
  /** operations may reconnect again (the rollback) */
  release(): void;
  read(file: string): Promise<{ data: Buffer; stat: HostStat } | null>;
  stat(file: string): Promise<HostStat | null>;
  /**
   * The entries of `dir` whose names start with `namePrefix`. Only those are looked at: the sweep
   * lists /tmp, which on a busy machine holds thousands of other programs' entries.
   */
  readdir(dir: string, namePrefix?: string): Promise<Array<{ name: string; mtime: number; isDirectory: boolean }>>;
  /** creates `file` (never reuses a name), with the mode and, when allowed, the owner of `like` */
  writeNew(file: string, data: Buffer, opts?: { like?: HostStat | null; sync?: boolean }): Promise<WriteResult>;
  /** rename(2): atomically replaces `to` */
  rename(from: string, to: string): Promise<void>;
  /** makes a rename in `dir` durable */
  syncDir(dir: string): Promise<void>;
  unlink(file: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** a fresh private directory `prefix` + random */
  mkdtemp(prefix: string): Promise<string>;
  /** removes a directory of plain files; `names`: its entries if known */
  removeTree(dir: string, names?: string[]): Promise<void>;
  /** never throws for the command's own failure */
  exec(argv: readonly string[], opts: { timeoutMs: number; cwd?: string }): Promise<ExecResult>;
  /** the error means the connection is gone: whether the operation happened is unknown */
  lostConnection(err: unknown): boolean;
  /** the error means the file or directory does not exist */
  notFound(err: unknown): boolean;
  /** bumped on every new connection: leftovers of interrupted applies are looked for after one */
  readonly generation: number;
  /** the host's own checks for `targets test` (SSH: host key, SFTP extensions) */
  checks?(): Promise<Array<{ check: string; ok: boolean; detail: string }>>;
  close(): Promise<void>;
}

/** Our shadow directories of the include chain. */
export const SHADOW_PREFIX = 'nat64-health-check-';

/** A command's result in a message: "the command: what it said". */
export function commandDetail(r: ExecResult): string {
  return `${r.command}: ${r.output}`;
}
