// The service wiring of `run`: signals reach the daemon, the observer serves while it runs, and
// everything is let go of when it stops. A canned prober: no packet is sent.
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { runService } from '../../../src/service/run-service.js';
import { SecondWriterError, WriterLocks } from '../../../src/daemon/writer-locks.js';
import { cannedProber } from '../../support/canned-prober.js';
import { silentLogger } from '../../support/observe-fixtures.js';
import { A, B } from '../../support/prefixes.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe('runService', () => {
  it('SIGHUP asks for a reload, SIGTERM stops; the observer serves until then; no listener is left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-service-'));
    const port = await freePort();
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      `prefixes: [${A}, ${B}]\nprobes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n` +
        `state_file: ${dir}/state.json\nhttp: { listen: "127.0.0.1:${port}" }\n`,
    );
    const signals = new EventEmitter();
    const lines: string[] = [];
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const done = runService({
      configPath: file,
      config: loadConfig(file),
      log: silentLogger(lines),
      dryRun: true,
      watch: false,
      prober: cannedProber(new Set([A])),
      signals,
      env: {},
      hooks: { ready },
    });
    await started;
    expect(signals.eventNames().sort()).toEqual(['SIGHUP', 'SIGINT', 'SIGTERM']);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    signals.emit('SIGHUP', 'SIGHUP');
    signals.emit('SIGTERM', 'SIGTERM');
    await done;
    expect(signals.eventNames()).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    const said = lines.map((l) => l.replace(/ \{.*\}$/, ''));
    expect(said).toEqual(
      expect.arrayContaining([
        'info SIGHUP: re-reading the configuration',
        'info SIGTERM: stopping after the current step',
        'info stopped',
      ]),
    );
    expect(said.at(-1)).toBe('info stopped');
  });
});

describe('runService beside a running daemon (issue 20)', () => {
  const configFor = (dir: string, port: number, name = 'config.yaml') => {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      `prefixes: [${A}, ${B}]\nprobes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n` +
        `state_file: ${dir}/state.json\nhttp: { listen: "127.0.0.1:${port}" }\n` +
        `bind: { output: ${dir}/bind/dns64.conf, checkconf: ["true"], reload: ["true"] }\n`,
    );
    return file;
  };

  it('a second run is refused before it binds its port or writes; a dry run goes on without the page', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-service-'));
    const port = await freePort();
    const file = configFor(dir, port);
    // the running daemon: its locks and its port
    const first = new WriterLocks(silentLogger());
    first.hold(loadConfig(file));
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    try {
      const opts = {
        configPath: file,
        config: loadConfig(file),
        watch: false,
        prober: cannedProber(new Set([A])),
        env: {},
      };
      await expect(runService({ ...opts, log: silentLogger(), signals: new EventEmitter() })).rejects.toThrow(
        SecondWriterError,
      );
      const lines: string[] = [];
      const signals = new EventEmitter();
      let ready!: () => void;
      const started = new Promise<void>((r) => (ready = r));
      const done = runService({ ...opts, log: silentLogger(lines), dryRun: true, signals, hooks: { ready } });
      await started;
      signals.emit('SIGTERM', 'SIGTERM');
      await done;
      expect(lines).toContainEqual(expect.stringMatching(/^warn dry run: no \/metrics and status page/));
      expect(readdirSync(dir).sort()).toEqual(['config.yaml', 'state.json.lock', 'bind'].sort());
    } finally {
      first.release();
      await new Promise((r) => taken.close(r));
    }
  });
});
