// The service wiring of `run`: signals reach the daemon, the observer serves while it runs, and
// everything is let go of when it stops. A canned prober: no packet is sent.
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { runService } from '../../../src/service/run-service.js';
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
