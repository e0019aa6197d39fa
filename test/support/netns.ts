/**
 * Throw-away network namespaces for integration tests.
 *
 * Every namespace is named `nh-<label>-<pid>` so that leftovers of a crashed test run can be
 * recognised (pid no longer alive) and removed by cleanupStaleNetns().
 */
import { spawn as nodeSpawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { execa } from 'execa';

export interface RunOptions {
  /** throw if the command exits non-zero (or times out) */
  check?: boolean;
  /** default 30 s; on timeout the process is killed and exitCode is 124 (like timeout(1)) */
  timeoutMs?: number;
  input?: string;
  /** merged over the current environment */
  env?: Record<string, string>;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /**
   * start from the environment systemd gives a service (PATH and LANG) instead of the current one,
   * e.g. to measure the daemon as its unit runs it (a shell's NODE_OPTIONS or NODE_EXTRA_CA_CERTS
   * change what node loads)
   */
  serviceEnv?: boolean;
  /** append stdout+stderr to this file; otherwise both are piped (and kept drained) */
  logFile?: string;
}

export interface Netns {
  name: string;
  /** run argv inside the namespace (ip netns exec); never throws on non-zero exit unless opts.check */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** start a long-running process inside the namespace; killed (SIGTERM, then SIGKILL) by destroy() */
  spawn(argv: string[], opts?: SpawnOptions): ChildProcess;
  /** add an address to dev (default 'lo'); a bare address gets /128 or /32; idempotent */
  addAddress(cidr: string, dev?: string): Promise<void>;
  /** kill everything spawned or still running inside, delete the namespace; idempotent */
  destroy(): Promise<void>;
}

const DEFAULT_RUN_TIMEOUT_MS = 30_000;
const TERM_GRACE_MS = 3_000;

/** Namespaces of this process not yet destroyed, for the last-resort exit hook. */
const live = new Map<string, Set<ChildProcess>>();

/** Shell-style exit status: 124 on timeout, 128+n when killed by signal n, 127 if it could not start. */
function exitCodeOf(r: { timedOut: boolean; exitCode?: number; signal?: string }): number {
  if (r.timedOut) return 124;
  if (r.exitCode !== undefined) return r.exitCode;
  const signo = r.signal ? constants.signals[r.signal as NodeJS.Signals] : undefined;
  return signo !== undefined ? 128 + signo : 127;
}

/** Run a command on the host; same result contract as Netns.run. */
export async function runHost(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runHost: empty argv');
  const r = await execa(file, args, {
    reject: false,
    timeout: opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    input: opts.input,
    env: opts.env,
    stripFinalNewline: false,
  });
  const exitCode = exitCodeOf(r);
  const stderr = r.timedOut
    ? `${r.stderr}\n[timed out after ${opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS} ms]`
    : r.stderr;
  const result = { stdout: r.stdout, stderr, exitCode };
  if (opts.check && exitCode !== 0) {
    // Some tools (named-checkconf) report errors on stdout, so include both.
    const detail = [stderr, r.stdout, r.exitCode === undefined ? r.message : ''].filter(Boolean).join('\n');
    throw new Error(`command failed (exit ${exitCode}): ${argv.join(' ')}\n${detail}`);
  }
  return result;
}

/**
 * Spawn a process (on the host) whose output goes to logFile or to drained pipes.
 * Pipes are put in flowing mode right away so a chatty child never blocks on a full pipe;
 * listeners attached synchronously after this call still see all output.
 */
export function spawnProcess(argv: string[], opts: SpawnOptions = {}): ChildProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('spawnProcess: empty argv');
  const base = opts.serviceEnv
    ? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }
    : process.env;
  const env = { ...base, ...opts.env };
  if (opts.logFile === undefined) {
    const child = nodeSpawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.resume();
    child.stderr?.resume();
    child.on('error', () => {}); // surfaced via exit/exitCode; avoid unhandled 'error' crashing vitest
    return child;
  }
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = nodeSpawn(file, args, { env, stdio: ['ignore', fd, fd] });
    child.on('error', () => {});
    return child;
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(hasExited(child)), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM by PID, wait up to graceMs, then SIGKILL and wait for the exit. Safe on dead children. */
export async function terminate(child: ChildProcess, graceMs = TERM_GRACE_MS): Promise<void> {
  if (hasExited(child)) return;
  signal(child.pid, 'SIGTERM');
  if (await waitExit(child, graceMs)) return;
  signal(child.pid, 'SIGKILL');
  await waitExit(child, 5_000);
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone, which is what we want
  }
}

/** Whether a process with this PID exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function withPrefixLength(cidr: string): string {
  if (cidr.includes('/')) return cidr;
  return cidr.includes(':') ? `${cidr}/128` : `${cidr}/32`;
}

/** PIDs of processes still inside the namespace (e.g. a `run` that was killed, or a grandchild). */
async function netnsPids(name: string): Promise<number[]> {
  const r = await runHost(['ip', 'netns', 'pids', name]);
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Kill whatever still lives inside, then delete the namespace; tolerant of it being gone already. */
async function deleteNetns(name: string): Promise<void> {
  for (const pid of await netnsPids(name)) signal(pid, 'SIGKILL');
  const r = await runHost(['ip', 'netns', 'del', name]);
  if (r.exitCode !== 0 && !/No such file|does not exist|Invalid/i.test(r.stderr)) {
    throw new Error(`ip netns del ${name} failed: ${r.stderr}`);
  }
}

function uniqueName(label: string): string {
  const clean = label.replace(/[^A-Za-z0-9_.]/g, '_');
  let name = `nh-${clean}-${process.pid}`;
  // Same label twice in one process: add a counter before the pid so the pid stays the suffix.
  for (let i = 2; live.has(name); i++) name = `nh-${clean}${i}-${process.pid}`;
  return name;
}

async function setupNetns(name: string): Promise<void> {
  // Same name = same (reused) pid and not in `live`: a leftover of a dead process, safe to drop.
  if (existsSync(`/run/netns/${name}`)) await deleteNetns(name);
  await runHost(['ip', 'netns', 'add', name], { check: true });
  await runHost(['ip', '-n', name, 'link', 'set', 'lo', 'up'], { check: true });
  // New namespaces inherit IPv6 defaults that may have it disabled; the tests need it on lo.
  for (const scope of ['all', 'default', 'lo']) {
    await runHost(['ip', 'netns', 'exec', name, 'sysctl', '-q', '-w', `net.ipv6.conf.${scope}.disable_ipv6=0`], {
      check: true,
    });
  }
}

export async function createNetns(label: string): Promise<Netns> {
  const name = uniqueName(label);
  const children = new Set<ChildProcess>();
  live.set(name, children);
  installExitHook();
  try {
    await setupNetns(name);
  } catch (e) {
    live.delete(name);
    await deleteNetns(name).catch(() => {});
    throw e;
  }
  const exec = ['ip', 'netns', 'exec', name];
  let destroyed: Promise<void> | undefined;

  return {
    name,
    run: (argv, opts) => runHost([...exec, ...argv], opts),
    spawn(argv, opts) {
      if (destroyed) throw new Error(`netns ${name} already destroyed`);
      // `ip netns exec` execs (no fork), so child.pid is the target process itself.
      const child = spawnProcess([...exec, ...argv], opts);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async addAddress(cidr, dev = 'lo') {
      const addr = withPrefixLength(cidr);
      // nodad: the address must be usable immediately, not "tentative" for a second.
      const extra = addr.includes(':') ? ['nodad'] : [];
      await runHost(['ip', '-n', name, 'addr', 'replace', addr, 'dev', dev, ...extra], { check: true });
    },
    destroy() {
      destroyed ??= (async () => {
        await Promise.all([...children].map((c) => terminate(c)));
        await deleteNetns(name);
        live.delete(name);
      })();
      return destroyed;
    },
  };
}

/** Delete `prefix*-<pid>` namespaces whose pid is not a live process (leftovers of crashed runs). */
export async function cleanupStaleNetns(prefix = 'nh-'): Promise<void> {
  const r = await runHost(['ip', 'netns', 'list'], { check: true });
  const names = r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  for (const name of names) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await deleteNetns(name);
  }
}

let exitHookInstalled = false;

/** Synchronous best effort: kill what lives in our namespaces and delete them. */
function cleanupLiveSync(): void {
  for (const [name, children] of live) {
    for (const c of children) signal(c.pid, 'SIGKILL');
    try {
      const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
      for (const pid of pids.split(/\s+/).filter(Boolean)) signal(Number(pid), 'SIGKILL');
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // nothing more we can do while exiting; cleanupStaleNetns() catches it next run
    }
  }
  live.clear();
}

/** Last resort if a test forgot destroy() or the worker is torn down mid-test. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', cleanupLiveSync);
  // vitest ends fork workers with SIGTERM, which skips 'exit' handlers: clean up, then re-raise
  // so the default action (or anybody else's handler) still applies.
  process.once('SIGTERM', () => {
    cleanupLiveSync();
    process.kill(process.pid, 'SIGTERM');
  });
}
