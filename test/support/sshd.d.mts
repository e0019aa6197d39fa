import type { ChildProcess } from 'node:child_process';

export interface SshdOptions {
  /** default 127.0.0.1; anything but loopback needs `spawn` (a netns) */
  listen?: string;
  /** default: random free port in 20000-40000 (retried on collision) */
  port?: number;
  dir?: string;
  /** run sshd elsewhere (e.g. `(argv, logFile) => ns.spawn(argv, { logFile })`) */
  spawn?: (argv: string[], logFile: string) => ChildProcess;
  /** sshd MaxStartups (default 10:30:100) */
  maxStartups?: string;
}

export interface SshdInstance {
  dir: string;
  port: number;
  listen: string;
  user: string;
  /** client private key (mode 0600) whose public half is authorized */
  clientKey: string;
  /** known_hosts pinning the current host key */
  knownHosts: string;
  hostPub: string;
  logFile: string;
  readonly pid: number | undefined;
  down(): Promise<void>;
  up(): Promise<void>;
  dropSessions(): Promise<void>;
  rotateHostKey(): Promise<void>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export function makeKeyPair(file: string, type?: string): Promise<string>;
export function knownHostsName(host: string, port: number): string;
export function startSshd(opts?: SshdOptions): Promise<SshdInstance>;
