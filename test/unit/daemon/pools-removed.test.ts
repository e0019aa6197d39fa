// A client pool removed while the daemon runs (a config reload) or while it was stopped (a restart on
// a state file that names it): the prefixes of its set that no remaining pool uses drain for
// `select.drain` (`clients { none; }`, reverse lookups still answered), then leave; they never vanish
// at once. And what an apply is told with pools: what drains, each pool's set. Canned probes (no
// packets), a fake clock, a target that keeps what it is handed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { historyDir, historyFile } from '../../../src/apply/history.js';
import type { ApplyTarget } from '../../../src/apply/target.js';
import { loadConfig } from '../../../src/config/load.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import type { StateSnapshot } from '../../../src/daemon/state-file.js';
import { createLogger } from '../../../src/lib/log.js';
import { cannedProber } from '../../support/canned-prober.js';
import { A, B } from '../../support/prefixes.js';

const SITE_A = '  - { name: site-a, clients: ["2001:db8:a::/48"], groups: [site-a, site-b] }\n';
const SITE_B = '  - { name: site-b, clients: ["2001:db8:b::/48"], groups: [site-b, site-a] }\n';
const HOUR = 3_600_000;

/** The clients line of a prefix's dns64 statement, or undefined when it is not rendered. */
const clientsOf = (text: string, id: string) =>
  new RegExp(`^dns64 ${id.replace(/[/.]/g, '\\$&')} \\{\\n(?:\\t//.*\\n)?\\tclients \\{ (.*) \\};`, 'm').exec(
    text,
  )?.[1];

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

function setup(good: Set<string> = new Set([A, B])) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-pools-removed-'));
  const configFile = path.join(dir, 'config.yaml');
  const stateFile = path.join(dir, 'state.json');
  const write = (pools: string) =>
    writeFileSync(
      configFile,
      `prefixes:
  - { prefix: "${A}", group: site-a }
  - { prefix: "${B}", group: site-b }
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 1, fall: 1 }
select: { groups: [site-a, site-b], min_active: 1, max_active: 1, drain: 1h }
pools:
${pools}state_file: ${stateFile}
`,
    );
  const applied: string[] = [];
  const target: ApplyTarget = {
    name: 'local',
    apply: (rendered) => {
      applied.push(rendered);
      return Promise.resolve({ target: 'local', result: 'applied', ms: 1 });
    },
    close: () => Promise.resolve(),
  };
  const clock = { t: Date.parse('2026-12-01T10:00:00Z') };
  const lines: string[] = [];
  const daemon = (): Daemon => {
    const d = new Daemon({
      configPath: configFile,
      config: loadConfig(configFile),
      log: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }),
      watch: false,
      makeTarget: () => [target],
      prober: cannedProber(good),
      now: () => clock.t,
    });
    stop = () => d.stop();
    return d;
  };
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as StateSnapshot;
  return { write, daemon, clock, applied, lines, stateFile, state };
}

describe('a removed pool drains', () => {
  it('config reload: the prefix only site B used drains for select.drain, then leaves', async () => {
    const { write, daemon: make, clock, lines, state } = setup();
    write(SITE_A + SITE_B);
    const daemon = make();
    const first = await daemon.step();
    expect(clientsOf(first.rendered, B)).toBe('!{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; };');

    write(SITE_A);
    daemon.reload();
    clock.t += 1000;
    const after = await daemon.nextRound();
    expect(clientsOf(after!.rendered, B)).toBe('none;'); // reverse lookups of its addresses still answered
    expect(clientsOf(after!.rendered, A)).toBe('any;');
    expect(state().draining_since).toEqual({ [B]: new Date(clock.t).toISOString() });
    expect(lines.join('\n')).toMatch(
      /pool site-b is no longer configured: its set leaves.*"draining":\["2001:db8:64:b::\/96"\]/,
    );

    clock.t += HOUR - 1;
    expect(clientsOf((await daemon.nextRound())!.rendered, B)).toBe('none;');
    clock.t += 1;
    const ended = await daemon.nextRound();
    expect(clientsOf(ended!.rendered, B)).toBeUndefined();
    expect(ended!.changes).toContainEqual(expect.objectContaining({ id: B, change: 'drain-ended' }));
  });

  it('restart on a state file naming a pool no longer configured: its prefix drains from the start', async () => {
    const { write, daemon: make, clock, applied, lines, stateFile } = setup();
    write(SITE_A);
    const since = new Date(clock.t - 60_000).toISOString();
    writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        prefixes: [{ prefix: A, active: true }],
        draining_since: {},
        pools: [
          { name: 'site-a', active: [A], draining_since: {}, failsafe: false },
          { name: 'site-b', active: [B], draining_since: {}, failsafe: false },
          { name: 'old', active: [], draining_since: { [B]: since }, failsafe: false },
        ],
      }),
    );
    const daemon = make();
    const started = daemon.start();
    stop = async () => {
      await daemon.stop();
      await started;
    };
    await expect.poll(() => applied.length).toBeGreaterThan(0);
    expect(clientsOf(applied[0]!, B)).toBe('none;');
    expect(lines.join('\n')).toMatch(/pool site-b is no longer configured/);
    // it left at the restart: it drains a full select.drain from then
    clock.t += HOUR - 1;
    expect(clientsOf((await daemon.nextRound())!.rendered, B)).toBe('none;');
  });
});

describe('what an apply is told with pools', () => {
  it("a prefix that left the default pool but stays in site B's is not draining; each pool's set is said", async () => {
    const good = new Set([B]);
    const { write, daemon: make, clock, lines, stateFile } = setup(good);
    write(SITE_A + SITE_B);
    const daemon = make();
    await daemon.step(); // A down: every pool on B
    good.add(A);
    clock.t += 1000;
    const back = await daemon.nextRound(); // A up: the default pool and site-a take A, site-b keeps B
    expect(back!.selection.draining).toHaveProperty([B]); // the default pool drains B ...
    // ... BIND does not: site B's clients still get it
    expect(clientsOf(back!.rendered, B)).toBe('!{ 2001:db8:a::/48; none; }; { 2001:db8:b::/48; };');
    const applied = lines
      .filter((l) => l.includes('"applied to local'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .at(-1);
    expect(applied).toMatchObject({ active: [A], draining: [], pools: { 'site-a': [A], 'site-b': [B] } });
    // what the apply was handed (the hook document and the history say it): nothing draining either
    await daemon.settled();
    const history = JSON.parse(readFileSync(historyFile(historyDir(stateFile), 'local'), 'utf8')) as {
      entries: Array<{ draining: string[] }>;
    };
    expect(history.entries.at(-1)!.draining).toEqual([]);
  });
});
