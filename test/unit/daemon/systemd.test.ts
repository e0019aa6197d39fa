// The sd_notify glue: what reaches systemd, in which order, and that it is inert without NOTIFY_SOCKET.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemdNotifier } from '../../../src/daemon/systemd.js';
import { createLogger } from '../../../src/lib/log.js';
import { itWith } from '../../support/real-parts.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'nh-systemd-'));
  dirs.push(d);
  return d;
}

/** A stand-in for systemd-notify that appends its arguments (one message per line) to a file. */
function recorder(): { command: string; messages: () => string[][] } {
  const d = tmp();
  const out = join(d, 'messages');
  const command = join(d, 'systemd-notify');
  writeFileSync(command, `#!/bin/sh\nprintf '%s\\t' "$@" >> '${out}'\necho >> '${out}'\n`);
  chmodSync(command, 0o755);
  return {
    command,
    messages: () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split('\t').filter(Boolean))
        : [],
  };
}

const quiet = createLogger({ write: () => {} });

describe('systemdNotifier', () => {
  it('is null without NOTIFY_SOCKET', () => {
    expect(systemdNotifier({ log: quiet, env: {} })).toBeNull();
  });

  it('sends READY=1 with the first status, then only changed statuses, then STOPPING=1', async () => {
    const r = recorder();
    const n = systemdNotifier({ log: quiet, env: { NOTIFY_SOCKET: '/run/x' }, command: r.command })!;
    n.hooks.status!('active: public-1, public-2'); // round 1 writes its status before ready()
    n.hooks.ready!();
    n.hooks.status!('active: public-1, public-2');
    n.hooks.status!('active: public-2');
    n.hooks.ready!(); // only once
    await n.close();
    await n.close();
    expect(r.messages()).toEqual([
      ['READY=1', 'STATUS=active: public-1, public-2'],
      ['STATUS=active: public-2'],
      ['STOPPING=1', 'STATUS=stopping'],
    ]);
  });

  it('brackets a re-read with RELOADING=1 and READY=1', async () => {
    const r = recorder();
    const n = systemdNotifier({ log: quiet, env: { NOTIFY_SOCKET: '/run/x' }, command: r.command })!;
    try {
      n.reloading(); // before READY=1: ignored
      n.hooks.status!('active: a');
      n.hooks.ready!();
      n.reloading();
      n.hooks.status!('active: a'); // the round after the re-read, same set: READY=1 all the same
    } finally {
      await n.close();
    }
    expect(r.messages()).toEqual([
      ['READY=1', 'STATUS=active: a'],
      ['RELOADING=1', 'STATUS=re-reading the configuration'],
      ['READY=1', 'STATUS=active: a'],
      ['STOPPING=1', 'STATUS=stopping'],
    ]);
  });

  it('logs a failing notifier once and carries on', async () => {
    const lines: string[] = [];
    const n = systemdNotifier({
      log: createLogger({ write: (l) => lines.push(l) }),
      env: { NOTIFY_SOCKET: '/run/x' },
      command: '/nonexistent/systemd-notify',
    })!;
    n.hooks.status!('active: a');
    n.hooks.ready!();
    n.hooks.status!('active: b');
    await n.close();
    expect(lines.filter((l) => l.includes('cannot notify systemd'))).toHaveLength(1);
  });

  // The real systemd-notify against a socket standing in for systemd's: the datagram's content,
  // and that systemd-notify's barrier (it waits until the manager closed the fd it passed) works.
  const python = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { stdio: 'ignore' }).status === 0;
  const realNotify = spawnSync('systemd-notify', ['--help'], { stdio: 'ignore' }).status === 0;
  itWith(!python ? 'python3 with AF_UNIX' : !realNotify ? 'systemd-notify' : null)(
    'reaches a NOTIFY_SOCKET through the real systemd-notify',
    async () => {
      const d = tmp();
      const sock = join(d, 'notify');
      const out = join(d, 'received');
      const receiver = fileURLToPath(new URL('../../support/sd-notify-receiver.py', import.meta.url));
      const p = spawn('python3', [receiver, sock, out], { stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(p);
      await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
      const lines: string[] = [];
      const n = systemdNotifier({
        log: createLogger({ write: (l) => lines.push(l) }),
        env: { NOTIFY_SOCKET: sock },
      })!;
      n.hooks.status!('active: public-1');
      n.hooks.ready!();
      await n.close();
      expect(lines).toEqual([]);
      const got = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      expect(got[0]).toMatch(/READY=1/);
      expect(got[0]).toMatch(/STATUS=active: public-1/);
      expect(got.at(-1)).toMatch(/STOPPING=1/);
    },
  );
});
