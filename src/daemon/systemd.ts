// systemd service notifications (sd_notify(3)) for nat64-health.service's Type=notify: READY=1
// after the first completed round, STATUS= with the active prefixes after every round,
// RELOADING=1 ... READY=1 around a re-read, STOPPING=1 when stopping. The CLI owns the signals and
// calls reloading() and close().
//
// It runs systemd-notify(1) rather than sending the datagram itself: see docs/design.md.
//
// Everything here is inert unless NOTIFY_SOCKET is set, i.e. when not started by systemd.
import { runCommand } from '../lib/commands.js';
import type { Logger } from '../lib/log.js';
import type { DaemonHooks } from './daemon.js';

export interface SystemdNotifierOptions {
  log: Logger;
  /** default process.env; only NOTIFY_SOCKET is read */
  env?: NodeJS.ProcessEnv;
  /** the systemd-notify binary (tests substitute a recorder) */
  command?: string;
  /** per message; systemd-notify waits for the manager, which answers in milliseconds */
  timeoutMs?: number;
}

export interface SystemdNotifier {
  /** pass as the Daemon's `hooks` */
  readonly hooks: DaemonHooks;
  /** send VAR=VALUE assignments as one message; resolves when it was handed over (or failed) */
  notify(fields: Record<string, string>): Promise<void>;
  /** RELOADING=1: the configuration is being re-read; the next status() sends READY=1 again */
  reloading(): void;
  /** STOPPING=1 (once) */
  stopping(): void;
  /** STOPPING=1 (once), then wait for queued messages */
  close(): Promise<void>;
}

/** A notifier when running under systemd with a notify socket, else null. */
export function systemdNotifier(opts: SystemdNotifierOptions): SystemdNotifier | null {
  const env = opts.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return null;
  const command = opts.command ?? 'systemd-notify';
  const timeout = opts.timeoutMs ?? 5000;
  const log = opts.log;
  let queue: Promise<void> = Promise.resolve();
  let ready = false;
  let reloading = false;
  let stopping = false;
  let lastStatus: string | null = null;
  let failures = 0;

  const send = (fields: Record<string, string>): Promise<void> => {
    // No newline may end up inside a value: the protocol is one assignment per line.
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
    queue = queue.then(async () => {
      const r = await runCommand([command, ...args], timeout, undefined, {
        ...process.env,
        NOTIFY_SOCKET: env.NOTIFY_SOCKET,
      });
      if (r.ok) return;
      // One warning, then debug: a missing systemd-notify would otherwise log every round.
      const detail = { command: r.command, error: r.output };
      if (failures++ === 0) log.warn('cannot notify systemd', detail);
      else log.debug('cannot notify systemd', detail);
    });
    return queue;
  };

  const onReload = () => {
    // Only once READY=1 went out: RELOADING=1 before it would confuse the start job. The reload
    // happens before the next round; its status() call below sends READY=1 again.
    if (!ready || stopping || reloading) return;
    reloading = true;
    void send({ RELOADING: '1', STATUS: 're-reading the configuration' });
  };
  const onStop = () => {
    if (stopping) return;
    stopping = true;
    void send({ STOPPING: '1', STATUS: 'stopping' });
  };
  const hooks: DaemonHooks = {
    ready() {
      if (ready || stopping) return;
      ready = true;
      void send({ READY: '1', ...(lastStatus !== null ? { STATUS: lastStatus } : {}) });
    },
    status(text) {
      if (stopping) return;
      if (reloading) {
        reloading = false;
        lastStatus = text;
        void send({ READY: '1', STATUS: text });
        return;
      }
      // Rounds repeat every few seconds: only changes are worth a process.
      if (text === lastStatus) return;
      lastStatus = text;
      // Before READY=1 the text is kept for the READY message (status() runs before ready()).
      if (ready) void send({ STATUS: text });
    },
  };

  return {
    hooks,
    notify: send,
    reloading: onReload,
    stopping: onStop,
    async close() {
      onStop();
      await queue;
    },
  };
}
