/**
 * A real OpenSSH server for integration tests and the SSH fan-out benchmark.
 *
 * Plain ESM JavaScript (types in sshd.d.mts) so that bench/*.mjs can use it without a build.
 * Everything lives in one directory: sshd_config, an ed25519 host key, a client key pair, an
 * authorized_keys and a known_hosts file that pins the host key. Key-only authentication,
 * listening on loopback (or inside a network namespace the caller created).
 */
import { execFile, spawn as nodeSpawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const READY_TIMEOUT_MS = 10_000;

/** `ssh-keygen` a key pair without passphrase; returns the public key line. */
export async function makeKeyPair(file, type = 'ed25519') {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'nat64-health-test', '-f', file]);
  await chmod(file, 0o600);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/** known_hosts host field for host:port, as OpenSSH writes it. */
export function knownHostsName(host, port) {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * sshd runs commands through the user's shell, and bash sources ~/.bashrc when sshd starts it. A
 * host's root .bashrc (pyenv, cargo, ...) would then cost every remote command hundreds of ms and
 * make timings depend on the test machine. So, when root and `unshare` can do it, sshd runs in a
 * private mount namespace where ~/.bashrc is an empty file. Nothing changes outside that namespace.
 */
async function quietShell(argv, dir) {
  const rc = join(homedir(), '.bashrc');
  if (
    process.getuid?.() !== 0 ||
    !existsSync(rc) ||
    !existsSync('/usr/bin/unshare') ||
    process.env.NH_SSHD_RAW_SHELL === '1'
  )
    return argv;
  const empty = join(dir, 'empty-bashrc');
  await writeFile(empty, '');
  return [
    '/usr/bin/unshare',
    '-m',
    '--propagation',
    'private',
    '/bin/sh',
    '-c',
    'mount --bind "$1" "$2" && shift 2 && exec "$@"',
    'sh',
    empty,
    rc,
    ...argv,
  ];
}

function randomPort() {
  return 20_000 + Math.floor(Math.random() * 20_001);
}

function configText(o) {
  return `# nat64-health test sshd
Port ${o.port}
ListenAddress ${o.listen.includes(':') ? `[${o.listen}]:${o.port}` : `${o.listen}:${o.port}`}
AddressFamily any
HostKey ${o.hostKey}
PidFile none
AuthorizedKeysFile ${o.authorizedKeys}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
UseDNS no
MaxStartups ${o.maxStartups}
MaxSessions 64
LogLevel VERBOSE
Subsystem sftp ${SFTP_SERVER}
`;
}

function portOpen(host, port, spawnedIn) {
  if (spawnedIn) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Options: listen (default 127.0.0.1), port (default random, retried on collision), dir,
 * spawn (argv, logFile) => ChildProcess to run it elsewhere (a netns), maxStartups.
 */
export async function startSshd(opts = {}) {
  const listen = opts.listen ?? '127.0.0.1';
  if (!opts.spawn && !(listen === '::1' || listen.startsWith('127.'))) {
    throw new Error(`startSshd: on the host only loopback may be used, got ${listen}`);
  }
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'nh-sshd-')));
  await mkdir(dir, { recursive: true });
  // sshd's privilege separation directory; Debian creates it from its systemd unit only.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'id_ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  const config = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  const hostPub = await makeKeyPair(hostKey);
  const clientPub = await makeKeyPair(clientKey);
  await writeFile(authorizedKeys, clientPub + '\n', { mode: 0o600 });

  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? randomPort();
    await writeFile(
      config,
      configText({ port, listen, hostKey, authorizedKeys, maxStartups: opts.maxStartups ?? '10:30:100' }),
    );
    await writeFile(logFile, '');
    await run('/usr/sbin/sshd', ['-t', '-f', config]);
    const argv = await quietShell(['/usr/sbin/sshd', '-D', '-e', '-f', config], dir);
    let proc;
    if (opts.spawn) {
      proc = opts.spawn(argv, logFile);
    } else {
      const fd = openSync(logFile, 'a');
      try {
        proc = nodeSpawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
    }
    proc.on('error', () => {});
    const outcome = await waitReady(proc, logFile, listen, port, !!opts.spawn);
    if (outcome === 'ready') {
      const knownHosts = join(dir, 'known_hosts');
      await writeFile(knownHosts, `${knownHostsName(listen, port)} ${hostPub}\n`);
      return makeInstance({
        dir,
        ownDir,
        proc,
        port,
        listen,
        hostKey,
        hostPub,
        clientKey,
        knownHosts,
        config,
        logFile,
        opts,
      });
    }
    await stopProcess(proc);
    if (outcome !== 'in-use' || attempt >= 5) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`sshd did not start (${outcome}) in ${dir}:\n${log}`);
    }
  }
}

async function waitReady(proc, logFile, listen, port, spawnedElsewhere) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exited = proc.exitCode !== null || proc.signalCode !== null;
    const log = await readFile(logFile, 'utf8').catch(() => '');
    if (/Address already in use|Cannot bind any address/i.test(log)) return 'in-use';
    if (exited) return 'exited';
    if (/Server listening on/.test(log) && (spawnedElsewhere || (await portOpen(listen, port, false)))) return 'ready';
    await new Promise((r) => setTimeout(r, 25));
  }
  return 'timeout';
}

function hasExited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined;
}

async function stopProcess(proc) {
  if (hasExited(proc)) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    proc.kill('SIGTERM');
  } catch {
    // gone already
  }
  const timer = setTimeout(() => {
    try {
      proc.kill('SIGKILL');
    } catch {
      // gone already
    }
  }, 3_000);
  await exited;
  clearTimeout(timer);
}

function makeInstance(s) {
  let proc = s.proc;
  let stopped;
  const inst = {
    dir: s.dir,
    port: s.port,
    listen: s.listen,
    user: 'root',
    clientKey: s.clientKey,
    knownHosts: s.knownHosts,
    hostPub: s.hostPub,
    logFile: s.logFile,
    /** the listener's pid (per-connection children are separate processes) */
    get pid() {
      return proc.pid;
    },
    /** stop listening and kill established sessions (their connections drop) */
    async down() {
      // Established connections are served by forked children that outlive the listener: them too.
      const sessions = proc.pid !== undefined && !hasExited(proc) ? await descendants(proc.pid) : [];
      await stopProcess(proc);
      killAll(sessions);
    },
    /** start again with the same keys, port and config */
    async up() {
      if (!hasExited(proc)) return;
      await writeFile(s.logFile, '');
      const argv = await quietShell(['/usr/sbin/sshd', '-D', '-e', '-f', s.config], s.dir);
      if (s.opts.spawn) {
        proc = s.opts.spawn(argv, s.logFile);
      } else {
        const fd = openSync(s.logFile, 'a');
        try {
          proc = nodeSpawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd] });
        } finally {
          closeSync(fd);
        }
      }
      proc.on('error', () => {});
      const outcome = await waitReady(proc, s.logFile, s.listen, s.port, !!s.opts.spawn);
      if (outcome !== 'ready')
        throw new Error(`sshd did not come back up (${outcome}): ${await readFile(s.logFile, 'utf8').catch(() => '')}`);
    },
    /** kill every established session (the TCP connections drop), keep listening */
    async dropSessions() {
      if (proc.pid !== undefined) killAll(await descendants(proc.pid));
    },
    /** new host key (restarts sshd); this instance's known_hosts is updated, copies made before are not */
    async rotateHostKey() {
      await inst.down();
      s.hostPub = await makeKeyPair(s.hostKey);
      inst.hostPub = s.hostPub;
      await writeFile(s.knownHosts, `${knownHostsName(s.listen, s.port)} ${s.hostPub}\n`);
      await inst.up();
    },
    log: () => readFile(s.logFile, 'utf8'),
    stop() {
      stopped ??= (async () => {
        await inst.down();
        if (s.ownDir && process.env.NH_KEEP_TMP !== '1') await rm(s.dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return inst;
}

/** Every process below pid (sshd's per-connection "[priv]" monitors, their children, shells). */
async function descendants(pid) {
  const parent = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    parent.set(Number(entry), ppid);
  }
  const out = [];
  for (const p of parent.keys()) {
    for (let q = parent.get(p), depth = 0; q && depth < 16; q = parent.get(q), depth++) {
      if (q === pid) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}

function killAll(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
