// The daemon with background (SSH) targets: a slow or failing one never holds the round or the
// other targets; it converges to the newest set when it is done, retries on its own backoff timer,
// and the state file says which set each target really serves. Probes are replaced by canned
// outcomes (no packets); the targets are fakes whose applies the test releases.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApplyOutcome, ApplyTarget } from '../../../src/apply/target.js';
import type { StateSnapshot } from '../../../src/daemon/state-file.js';
import { Daemon, type DaemonOptions, type Prober } from '../../../src/daemon/daemon.js';
import { cannedProber } from '../../support/canned-prober.js';
import { testConfig } from '../../support/configs.js';
import type { Decision } from '../../../src/core/step.js';
import { formatMaintenance, maintenanceFile, writeMaintenance } from '../../../src/daemon/maintenance.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/lib/log.js';
import { chattrMissing } from '../../support/chattr.js';
import { itWith } from '../../support/real-parts.js';
import { A, B } from '../../support/prefixes.js';

const good = new Set<string>();
const prober = cannedProber(good);

const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-sshdaemon-'));

class FakeTarget implements ApplyTarget {
  applies: string[] = [];
  busy = 0;
  maxBusy = 0;
  private gates: Array<() => void> = [];
  /** results to hand out, in order; then 'applied' */
  script: Array<ApplyOutcome['result']> = [];
  hold = false;
  closed = false;
  constructor(
    readonly name: string,
    readonly background: boolean,
  ) {}
  async apply(rendered: string, opts: { dryRun?: boolean } = {}): Promise<ApplyOutcome> {
    if (opts.dryRun) return { target: this.name, result: 'dry-run', ms: 1 };
    this.applies.push(rendered);
    this.busy++;
    this.maxBusy = Math.max(this.maxBusy, this.busy);
    if (this.hold) await new Promise<void>((r) => this.gates.push(r));
    this.busy--;
    const result = this.script.shift() ?? 'applied';
    return {
      target: this.name,
      result,
      ms: 1,
      ...(result === 'failed' ? { stage: 'connect' as const, error: `${this.name}: ECONNREFUSED` } : {}),
    };
  }
  release() {
    this.hold = false;
    this.gates.splice(0).forEach((g) => g());
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
}

function setup() {
  const stateFile = path.join(dir, `state-${Math.random().toString(36).slice(2)}.json`);
  const config = testConfig({ prefixes: [A, B], stateFile, select: { min_active: 1, max_active: 1, drain: 0 } }, dir);
  const local = new FakeTarget('local', false);
  const remote = new FakeTarget('dns64-2', true);
  const snapshots: StateSnapshot[] = [];
  const daemon = new Daemon({
    configPath: null,
    config,
    log: createLogger({ level: 'error' }),
    watch: false,
    makeTarget: () => [local, remote],
    prober,
    hooks: { snapshot: (s) => snapshots.push(s) },
  });
  const target = (s: StateSnapshot, name: string) => s.targets.find((t) => t.name === name)!;
  return { daemon, local, remote, snapshots, stateFile, target };
}

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('daemon with background targets', () => {
  it('a hanging remote apply holds neither the round nor the local target', async () => {
    const { daemon, local, remote, snapshots, stateFile, target } = setup();
    stop = () => daemon.stop();
    good.clear();
    good.add(A).add(B);
    remote.hold = true;
    const d = await daemon.step(); // returns although the remote apply hangs
    expect(local.applies).toEqual([d.rendered]);
    expect(remote.applies).toEqual([d.rendered]);
    const s1 = JSON.parse(await readFile(stateFile, 'utf8')) as StateSnapshot;
    expect(target(s1, 'local')).toMatchObject({ last_apply: { result: 'applied' }, serving: [A] });
    expect(target(s1, 'dns64-2')).toMatchObject({ last_apply: null, serving: null });

    remote.release();
    await daemon.settled();
    await vi.waitFor(() =>
      expect(target(snapshots.at(-1)!, 'dns64-2')).toMatchObject({ last_apply: { result: 'applied' }, serving: [A] }),
    );
    const s2 = JSON.parse(await readFile(stateFile, 'utf8')) as StateSnapshot;
    expect(target(s2, 'dns64-2').serving).toEqual([A]);
  });

  it('converges to the newest set as soon as a slow apply ends, without waiting for a round', async () => {
    const { daemon, local, remote, snapshots, target } = setup();
    stop = () => daemon.stop();
    good.clear();
    good.add(A).add(B);
    remote.hold = true;
    const first = await daemon.step();
    good.delete(A); // A dies: the next round selects B
    const second = await daemon.step();
    expect(second.rendered).not.toBe(first.rendered);
    expect(local.applies).toEqual([first.rendered, second.rendered]);
    expect(remote.applies).toEqual([first.rendered]); // busy: never two applies at once
    // meanwhile the state says what each really serves
    expect(target(snapshots.at(-1)!, 'local').serving).toEqual([B]);
    expect(target(snapshots.at(-1)!, 'dns64-2').serving).toBeNull();

    remote.release();
    await daemon.settled();
    expect(remote.applies).toEqual([first.rendered, second.rendered]);
    expect(remote.maxBusy).toBe(1);
    await vi.waitFor(() => expect(target(snapshots.at(-1)!, 'dns64-2').serving).toEqual([B]));
  });

  it('a failing remote retries on its own backoff timer, and the others are applied meanwhile', async () => {
    const { daemon, local, remote, snapshots, target } = setup();
    stop = () => daemon.stop();
    good.clear();
    good.add(A).add(B);
    remote.script = ['failed'];
    const start = Date.now();
    await daemon.step();
    // generous waits: this runs beside heavy integration tests; what matters is the order of events
    const wait = { timeout: 10_000 };
    await vi.waitFor(
      () =>
        expect(target(snapshots.at(-1)!, 'dns64-2').last_apply).toMatchObject({
          result: 'failed',
          stage: 'connect',
          error: 'dns64-2: ECONNREFUSED',
        }),
      wait,
    );
    expect(local.applies).toHaveLength(1);
    // no further round: the retry comes from the backoff timer (1 s after the first failure)
    await vi.waitFor(() => expect(remote.applies).toHaveLength(2), wait);
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
    await daemon.settled();
    await vi.waitFor(
      () =>
        expect(target(snapshots.at(-1)!, 'dns64-2')).toMatchObject({
          last_apply: { result: 'applied' },
          serving: [A],
        }),
      wait,
    );
  });

  it('stop() lets an apply in flight finish before closing the targets', async () => {
    const { daemon, remote } = setup();
    good.clear();
    good.add(A);
    remote.hold = true;
    await daemon.step();
    const stopped = daemon.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(remote.closed).toBe(false);
    remote.release();
    await stopped;
    expect(remote.closed).toBe(true);
  });
});

/** A daemon started on a state file left by a previous run (or written by someone else). */
async function restartOn(state: object, o: { maxActive?: number; now?: () => number } = {}) {
  const stateFile = path.join(dir, `state-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(stateFile, JSON.stringify(state));
  const config = parseConfig(
    `prefixes: [${A}, ${B}]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 1, fall: 1 }
select: { min_active: 1, max_active: ${o.maxActive ?? 1}, drain: 1h }
state_file: ${stateFile}
`,
    'c.yaml',
    dir,
  );
  const local = new FakeTarget('local', false);
  const lines: string[] = [];
  let first!: () => void;
  const firstRound = new Promise<void>((r) => (first = r));
  const daemon = new Daemon({
    configPath: null,
    config,
    log: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }),
    watch: false,
    makeTarget: () => [local],
    prober,
    now: o.now,
    hooks: { snapshot: () => first() },
  });
  const started = daemon.start();
  stop = async () => {
    await daemon.stop();
    await started;
  };
  await firstRound;
  return { daemon, local, lines };
}
const iso = (ms: number) => new Date(ms).toISOString();

describe('daemon restarting on a state file (issue 9: the state file is not trusted)', () => {
  it('never renders a draining key that is not a prefix, and logs that it dropped it', async () => {
    good.clear();
    good.add(A);
    const evil = '2001:db8:64:c::/96 { clients { any; }; };\ndns64 64:ff9b::/96 { clients { any; }; }; #';
    const { local, lines } = await restartOn({
      version: 1,
      prefixes: [{ prefix: A, active: true }],
      draining_since: { [evil]: iso(Date.now() - 1000) },
    });
    expect(local.applies).toHaveLength(1);
    expect(local.applies[0]).not.toContain('64:ff9b');
    expect(local.applies[0]).not.toContain('2001:db8:64:c::');
    expect(local.applies[0]!.match(/^dns64 \S+/gm)).toEqual([`dns64 ${A}`]);
    expect(lines.join('\n')).toMatch(/state file.*dropped/);
  });

  it('renders a prefix written in another case (or uncompressed) once', async () => {
    good.clear();
    good.add(A).add(B);
    const { local } = await restartOn(
      {
        version: 1,
        prefixes: [{ prefix: A.toUpperCase(), active: true }],
        draining_since: {
          [B.toUpperCase()]: iso(Date.now() - 1000),
          '2001:0db8:0064:000b:0000:0000:0000:0000/96': iso(Date.now() - 2000),
        },
      },
      { maxActive: 2 },
    );
    expect(local.applies[0]!.match(/^dns64 \S+/gm)).toEqual([`dns64 ${A}`, `dns64 ${B}`]);
  });

  it('clamps a drain that began in the future to now, so it ends `drain` later', async () => {
    good.clear();
    good.add(A);
    let now = Date.parse('2026-12-01T10:00:00Z');
    const { daemon, local } = await restartOn(
      { version: 1, prefixes: [{ prefix: A, active: true }], draining_since: { [B]: '2099-01-01T00:00:00Z' } },
      { now: () => now },
    );
    expect(local.applies[0]).toMatch(/dns64 2001:db8:64:b::\/96 \{\n.*draining/);
    now += 3_600_000;
    const d = await daemon.step();
    expect(d.changes).toContainEqual(expect.objectContaining({ id: B, change: 'drain-ended' }));
    expect(d.rendered.match(/^dns64 \S+/gm)).toEqual([`dns64 ${A}`]);
  });
});

describe('daemon logs', () => {
  it('warns about a target dead everywhere once, not every round (issue 9)', async () => {
    const config = parseConfig(
      `prefixes: [${A}, ${B}]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }, { type: tcp, address: 192.0.2.11, port: 80 }]
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 1, fall: 1 }
select: { min_active: 1, max_active: 1, drain: 0 }
state_file: ${path.join(dir, 'state-logs.json')}
`,
      'c.yaml',
      dir,
    );
    // 192.0.2.11 answers through no prefix, 192.0.2.10 through both
    const retired: Prober = (prefixes, probes) =>
      Promise.resolve({
        started_at: 0,
        duration_ms: 1,
        outcomes: prefixes.flatMap((p) =>
          probes.map((pr) => {
            const ok = pr.address === '192.0.2.10';
            return {
              prefix: p.id,
              probe: pr.id,
              address: '2001:db8::1',
              ok,
              latency_ms: 5,
              ...(ok ? {} : { error: 'timeout' }),
            };
          }),
        ),
      });
    const lines: string[] = [];
    let now = 0;
    const daemon = new Daemon({
      configPath: null,
      config,
      log: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }),
      watch: false,
      makeTarget: () => [new FakeTarget('local', false)],
      prober: retired,
      now: () => now,
    });
    stop = () => daemon.stop();
    for (let i = 0; i < 10; i++, now += 5000) await daemon.step();
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => /probe target/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ targets: ['tcp 192.0.2.11:80'] });
  });
});
describe('confirmation burst (health.confirm_burst)', () => {
  const C = '2001:db8:64:c::/96';
  function burstSetup() {
    const config = parseConfig(
      `prefixes: [${A}, ${B}, ${C}]
probes:
  - { type: tcp, address: 192.0.2.10, port: 80 }
  - { type: tcp, address: 192.0.2.11, port: 80 }
  - { type: tcp, address: 198.51.100.10, port: 7 }
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 2, fall: 3, confirm_burst: true }
select: { min_active: 1, max_active: 3, drain: 0 }
state_file: ${path.join(dir, `state-burst-${Math.random().toString(36).slice(2)}.json`)}
`,
      'c.yaml',
      dir,
    );
    /** which prefixes answer in each call; the prober's calls, and how many were in flight at most */
    const answering: Array<(prefix: string, probe: string, call: number) => boolean> = [];
    const calls: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const recording: Prober = async (prefixes, probes) => {
      const call = calls.push(prefixes.map((p) => p.id)) - 1;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      const answers = answering[0]!;
      return {
        started_at: 0,
        duration_ms: 10,
        outcomes: prefixes.flatMap((p) =>
          probes.map((pr) => {
            const ok = answers(p.id, pr.id, call);
            return {
              prefix: p.id,
              probe: pr.id,
              address: '::',
              ok,
              latency_ms: 5,
              ...(ok ? {} : { error: 'timeout' }),
            };
          }),
        ),
      };
    };
    const local = new FakeTarget('local', false);
    /** what the observer (metrics, status page) is handed with each snapshot */
    const observed: Array<Decision | null> = [];
    const daemon = new Daemon({
      configPath: null,
      config,
      log: createLogger({ level: 'error' }),
      watch: false,
      makeTarget: () => [local],
      prober: recording,
      hooks: { snapshot: (_s, d) => observed.push(d) },
    });
    stop = () => daemon.stop();
    const answer = (f: (prefix: string, probe: string, call: number) => boolean) => answering.splice(0, 1, f);
    return { daemon, local, calls, answer, maxInFlight: () => maxInFlight, observed };
  }

  it('a dead prefix is down in the step of its first bad round: one burst, its sets in flight together', async () => {
    const { daemon, local, calls, answer, maxInFlight } = burstSetup();
    answer(() => true);
    await daemon.step();
    expect(calls).toEqual([[A, B, C]]);
    answer((prefix) => prefix !== B);
    const d = await daemon.step();
    expect(calls.slice(1)).toEqual([[A, B, C], [B], [B]]);
    expect(maxInFlight()).toBe(2);
    expect(d.transitions).toEqual([expect.objectContaining({ id: B, from: 'up', to: 'down' })]);
    expect(d.health.get(B)).toMatchObject({ status: 'down', bad_streak: 3 });
    expect(d.selection.active).toEqual([A, C]);
    expect(local.applies.at(-1)).not.toContain(B);
    expect(d.confirm).toEqual([]);
  });

  it("the observer is handed the round's outcomes and the burst's (regression: the burst's only)", async () => {
    const { daemon, answer, observed } = burstSetup();
    answer(() => true);
    await daemon.step();
    observed.length = 0;
    answer((prefix) => prefix !== B);
    await daemon.step();
    // the round's snapshot is skipped for the burst's sake: one snapshot, for both steps
    expect(observed).toHaveLength(1);
    const seen = observed[0]!.outcomes.map((o) => o.prefix);
    expect(seen.filter((p) => p === A)).toHaveLength(3);
    expect(seen.filter((p) => p === C)).toHaveLength(3);
    expect(seen.filter((p) => p === B)).toHaveLength(3 + 2 * 3); // its round and the burst's two sets
    expect(observed[0]!.transitions).toEqual([expect.objectContaining({ id: B, to: 'down' })]);
  });

  it('one answer in the burst: the prefix stays up with its bad round; the next good round clears it', async () => {
    const { daemon, calls, answer } = burstSetup();
    answer(() => true);
    await daemon.step();
    // B's round fails; in the burst (calls 2 and 3) one target answers through B in the second set
    answer((prefix, probe, call) => prefix !== B || (call === 3 && probe === 'tcp 198.51.100.10:7'));
    const d = await daemon.step();
    expect(calls).toHaveLength(4);
    expect(d.transitions).toEqual([]);
    expect(d.health.get(B)).toMatchObject({ status: 'up', bad_streak: 1 });
    answer(() => true);
    const next = await daemon.step();
    expect(calls).toHaveLength(5); // a good round asks for no burst
    expect(next.health.get(B)).toMatchObject({ status: 'up', bad_streak: 0 });
  });

  it('off by default: a dead prefix waits out `fall` rounds', async () => {
    const config = testConfig(
      { prefixes: [A, B], stateFile: path.join(dir, 'state-noburst.json'), health: { fall: 3 } },
      dir,
    );
    let count = 0;
    const counting: Prober = (...args) => {
      count++;
      return prober(...args);
    };
    const daemon = new Daemon({
      configPath: null,
      config,
      log: createLogger({ level: 'error' }),
      watch: false,
      makeTarget: () => [new FakeTarget('local', false)],
      prober: counting,
    });
    stop = () => daemon.stop();
    good.clear();
    good.add(A).add(B);
    await daemon.step();
    good.delete(B);
    const states = [];
    for (let i = 0; i < 3; i++) states.push((await daemon.step()).health.get(B)!.status);
    expect(states).toEqual(['up', 'up', 'down']);
    expect(count).toBe(4);
  });
});

describe('runners across failures and config reloads', () => {
  it('a new set is applied at once, even while the previous one is in backoff', async () => {
    const { daemon, remote } = setup();
    stop = () => daemon.stop();
    good.clear();
    good.add(A).add(B);
    remote.script = ['failed'];
    const first = await daemon.step();
    await daemon.settled();
    expect(remote.applies).toEqual([first.rendered]); // failed: its retry is 1 s away
    good.delete(A); // A dies: B is selected
    const second = await daemon.step();
    expect(second.rendered).not.toBe(first.rendered);
    await vi.waitFor(() => expect(remote.applies).toEqual([first.rendered, second.rendered]), { timeout: 500 });
  });

  itWith(chattrMissing())('"reload pending" survives a config reload (same settings)', async () => {
    const p = await pendingAfterFailedRollback();
    p.reloadConfig(); // unchanged: the runner, its backoff and its pending reload are kept
    expect(await p.round()).toEqual(['one']); // its retry is not due yet
    p.clock.t += 2_000;
    expect(await p.round()).toEqual(['one', 'one']); // the retry reloads, though the text is unchanged
    expect(await p.round()).toEqual(['one', 'one']);
  });

  itWith(chattrMissing())('"reload pending" goes to a new target writing the same file', async () => {
    const p = await pendingAfterFailedRollback();
    p.write('two'); // another reload command: a new runner for the same output
    p.reloadConfig();
    expect(await p.round()).toEqual(['one', 'two']);
    expect(await p.round()).toEqual(['one', 'two']);
  });
});

/** A local target whose first reload fails and whose rollback fails too: the new file is live, unloaded. */
async function pendingAfterFailedRollback() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'nh-pending-'));
  mkdirSync(path.join(work, 'live'));
  const out = path.join(work, 'live', 'dns64.conf');
  writeFileSync(out, '');
  const calls = path.join(work, 'calls');
  writeFileSync(calls, '');
  const script = (tag: string) =>
    `echo ${tag} >> ${calls}; if [ $(wc -l < ${calls}) = 1 ]; then chattr +i ${path.dirname(out)}; exit 1; fi`;
  const configFile = path.join(work, 'config.yaml');
  const write = (tag: string) =>
    writeFileSync(
      configFile,
      `prefixes: [${A}]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { interval: 1h, fast_interval: 1h, timeout: 1s, rise: 1, fall: 1 }
select: { min_active: 1, max_active: 1 }
bind: { output: ${out}, checkconf: ["true", ${out}], reload: [sh, -c, ${JSON.stringify(script(tag))}], verify: false }
state_file: ${path.join(work, 'state.json')}
`,
    );
  write('one');
  const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
  const daemon = new Daemon({
    configPath: configFile,
    config: loadConfig(configFile),
    log: createLogger({ level: 'error' }),
    watch: false,
    prober,
    now: () => clock.t,
  });
  stop = () => daemon.stop();
  good.clear();
  good.add(A);
  const lines = () => readFileSync(calls, 'utf8').split('\n').filter(Boolean);
  try {
    await daemon.step();
    expect(lines()).toEqual(['one']);
    expect(readFileSync(out, 'utf8')).toContain(A); // live, never loaded: the rollback failed
  } finally {
    execFileSync('chattr', ['-i', path.dirname(out)]);
  }
  // the loop re-reads the config between rounds (nextRound); here the test plays the loop
  const reloadConfig = () => daemon.reload();
  const round = async () => {
    await daemon.nextRound();
    await daemon.settled();
    return lines();
  };
  return { clock, write, reloadConfig, round };
}

describe('maintenance', () => {
  /** A daemon over A and B with hour-long rounds and its state file in a fresh folder */
  const maintenanceDaemon = (label: string, opts: Pick<DaemonOptions, 'log' | 'hooks'>) => {
    const work = mkdtempSync(path.join(dir, `${label}-`));
    const stateFile = path.join(work, 'state.json');
    const daemon = new Daemon({
      configPath: null,
      config: testConfig({ prefixes: [A, B], stateFile, select: { drain: 0 } }, work),
      watch: false,
      makeTarget: () => [new FakeTarget('local', false)],
      prober,
      ...opts,
    });
    stop = () => daemon.stop();
    return { daemon, stateFile };
  };

  it('every prefix held: said so, not the fail-safe (regression: it said "no prefix passed its probes")', async () => {
    const lines: string[] = [];
    const statuses: string[] = [];
    const snapshots: StateSnapshot[] = [];
    const { daemon, stateFile } = maintenanceDaemon('all-held', {
      log: createLogger({ level: 'info', write: (l) => lines.push(l) }),
      hooks: { status: (t) => statuses.push(t), snapshot: (s) => snapshots.push(s) },
    });
    const held = { reason: 'upgrade', since: Date.now(), until: null };
    writeFileSync(maintenanceFile(stateFile), formatMaintenance(new Map([A, B].map((id) => [id, held]))));
    good.clear();
    good.add(A);
    // one round of the loop: it reads the maintenance file first
    await daemon.nextRound();
    expect(lines.filter((l) => /FAIL-SAFE|passed its probes/.test(l))).toEqual([]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^WARN {2}ALL IN MAINTENANCE: every prefix \(2\) is in maintenance/),
    );
    expect(statuses.at(-1)).toBe('ALL IN MAINTENANCE active: none');
    expect(snapshots.at(-1)).toMatchObject({ active: [], failsafe: false });
  });

  it('a change of the file starts a round within a second or so, also between hour-long rounds', async () => {
    const snapshots: StateSnapshot[] = [];
    const { daemon, stateFile } = maintenanceDaemon('maint-poll', {
      log: createLogger({ level: 'error' }),
      hooks: { snapshot: (s) => snapshots.push(s) },
    });
    good.clear();
    good.add(A);
    good.add(B);
    const running = daemon.start();
    await vi.waitFor(() => expect(snapshots.at(-1)?.active).toEqual([A, B]), { timeout: 5000, interval: 20 });
    const since = Date.now();
    await writeMaintenance(maintenanceFile(stateFile), new Map([[A, { reason: 'test', since, until: null }]]), since);
    await vi.waitFor(() => expect(snapshots.at(-1)?.active).toEqual([B]), { timeout: 5000, interval: 20 });
    await daemon.stop();
    await running;
  });
});

describe('stop and notify hooks', () => {
  it('stop() waits for the on_change hook of the last apply (regression: it returned while the hook ran)', async () => {
    const work = mkdtempSync(path.join(dir, 'stop-hook-'));
    const out = path.join(work, 'hook.json');
    const started = path.join(work, 'started');
    const hook = `touch ${started}; sleep 0.5; cat > ${out}`;
    const lines: string[] = [];
    const daemon = new Daemon({
      configPath: null,
      config: testConfig(
        {
          prefixes: [A, B],
          stateFile: path.join(work, 'state.json'),
          extra: `hooks: { on_change: [sh, -c, ${JSON.stringify(hook)}], timeout: 10s }\n`,
        },
        work,
      ),
      log: createLogger({ level: 'info', write: (l) => lines.push(l) }),
      watch: false,
      makeTarget: () => [new FakeTarget('local', false)],
      prober,
    });
    good.clear();
    good.add(A);
    await daemon.step();
    while (!(await readFile(started).catch(() => null))) await new Promise((r) => setTimeout(r, 20));
    await daemon.stop();
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ event: 'change', target: 'local', new: [A] });
    expect(lines).toContainEqual(expect.stringMatching(/^INFO {2}stopping: waiting for notify hooks/));
  });
});

describe('dry run (issue 20: beside a running daemon it writes none of its files)', () => {
  it('writes no state file, prunes no maintenance, sets no history file aside; hooks see every snapshot', async () => {
    const work = mkdtempSync(path.join(dir, 'dry-'));
    const stateFile = path.join(work, 'state.json');
    const now = Date.now();
    // what a running daemon owns: an ended maintenance entry (it prunes those) and a history file
    const maintenance = formatMaintenance(
      new Map([[A, { reason: 'r', since: now - 7200_000, until: now - 3600_000 }]]),
    );
    writeFileSync(maintenanceFile(stateFile), maintenance);
    mkdirSync(path.join(work, 'history'));
    writeFileSync(path.join(work, 'history', 'local.json'), 'not json');
    const snapshots: StateSnapshot[] = [];
    good.clear();
    good.add(A);
    const daemon = new Daemon({
      configPath: null,
      config: testConfig({ prefixes: [A, B], stateFile }, work),
      log: createLogger({ level: 'error' }),
      watch: false,
      dryRun: true,
      makeTarget: () => [new FakeTarget('local', false)],
      prober,
      hooks: { snapshot: (s) => snapshots.push(s) },
    });
    stop = () => daemon.stop();
    const running = daemon.start();
    await vi.waitFor(() => expect(snapshots.length).toBeGreaterThanOrEqual(1));
    await daemon.nextRound();
    await daemon.stop();
    await running;
    expect(snapshots.at(-1)!.dry_run).toBe(true);
    expect(readdirSync(work).sort()).toEqual(['history', 'maintenance.json']);
    expect(readFileSync(maintenanceFile(stateFile), 'utf8')).toBe(maintenance);
    expect(readdirSync(path.join(work, 'history'))).toEqual(['local.json']);
  });
});
