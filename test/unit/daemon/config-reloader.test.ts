import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/lib/log.js';
import { ConfigReloader } from '../../../src/daemon/config-reloader.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const good = (dir: string) =>
  'prefixes: [2001:db8:64:a::/96]\n' +
  'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n' +
  `state_file: ${dir}/state.json\n`;

let reloader: ConfigReloader | null = null;
afterEach(async () => {
  await reloader?.stop();
  reloader = null;
});

function setup(enabled = true) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-reload-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, good(dir));
  const lines: string[] = [];
  const changed = vi.fn();
  reloader = new ConfigReloader(
    file,
    createLogger({ level: 'info', write: (l) => lines.push(l) }),
    () => T0,
    changed,
    enabled,
  );
  return { reloader, dir, file, lines, changed };
}

describe('ConfigReloader', () => {
  it('loads the configuration and records the reload', () => {
    const { reloader } = setup();
    expect(reloader.load()?.prefixes.map((p) => p.id)).toEqual(['2001:db8:64:a::/96']);
    expect(reloader.last).toEqual({ at: '2026-12-01T10:00:00.000Z', ok: true });
  });

  it('a rejected configuration is logged, recorded and hands back nothing', () => {
    const { reloader, file, lines } = setup();
    writeFileSync(file, 'prefixes: [not-a-prefix]\n');
    expect(reloader.load()).toBeNull();
    expect(reloader.last).toMatchObject({ ok: false, error: expect.stringContaining(file) as unknown });
    expect(lines).toContainEqual(expect.stringMatching(/^ERROR new configuration rejected; still running/));
  });

  it('a configuration that cannot be taken into use (a lock another daemon holds) is rejected the same way', () => {
    const { reloader, lines } = setup();
    const next = reloader.load(() => {
      throw new Error('another nat64-health run (PID 42) holds /x/state.json.lock, the lock of /x/state.json');
    });
    expect(next).toBeNull();
    expect(reloader.last).toMatchObject({ ok: false, error: expect.stringContaining('PID 42') as unknown });
    expect(lines).toContainEqual(expect.stringMatching(/^ERROR new configuration rejected; still running/));
  });

  it('reports a change of a watched file once it settles', async () => {
    const { reloader, dir, file, changed } = setup();
    reloader.watch([file]);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(file, good(dir) + '# edited\n');
    await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(1), { timeout: 5000, interval: 50 });
  });

  it('watches nothing when disabled', async () => {
    const { reloader, dir, file, changed } = setup(false);
    reloader.watch([file]);
    writeFileSync(file, good(dir) + '# edited\n');
    await new Promise((r) => setTimeout(r, 800));
    expect(changed).not.toHaveBeenCalled();
  });
});
