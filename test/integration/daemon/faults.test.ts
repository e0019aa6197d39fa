/**
 * Issue 20: the world is not what the daemon remembers. The daemon (the CLI, as operators run it)
 * against a real named in a network namespace, with each fault injected for real: a second
 * writer, drift of the output, a full and a read-only file system, the output's directory removed,
 * named stopped, the rndc key unreadable, SIGHUP storms and SIGKILL in the middle of an apply, a
 * truncated state file. For every fault: nothing invalid or partial reaches BIND's files, the
 * daemon keeps running and says why, and once the fault is gone it converges on the decided set
 * without an operator. docs/testing.md lists the matrix.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../support/netns.js';
import { startWorld, type World } from '../../support/world.js';
import { startNamed, type NamedInstance } from '../../support/named.js';
import {
  CLI,
  configText,
  DaemonProcess,
  readFile,
  replaceFile,
  setPrefixAlive,
  waitFor,
  writeFile,
  www,
  type ConfigOptions,
  type LogLine,
} from '../../support/daemon-fixture.js';
import { A, B } from '../../support/prefixes.js';

const C = '2001:db8:64:c::/64';
const NAMED_ADDR = '2001:db8:53::1';

let world: World;
let ns: Netns;
let dir: string;

beforeAll(async () => {
  world = await startWorld('faults', { alive: [A, B, C] });
  ({ ns, dir } = world);
});
afterAll(() => world?.stop());

/** what each case leaves to clean up, newest first */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
});

interface Case {
  named: NamedInstance;
  config: string;
  state: string;
  output: string;
  /** a folder of this case's own */
  work: string;
}

let n = 0;
/** A fresh named (include mode) and a config for it; `output` moves the include file elsewhere. */
async function setup(
  o: Partial<ConfigOptions> & { output?: string; checkconf?: string[]; named?: NamedInstance } = {},
): Promise<Case> {
  n++;
  const work = path.join(dir, `case-${n}`);
  await mkdir(work, { recursive: true });
  const named = o.named ?? (await startNamed({ netns: ns, listen: NAMED_ADDR, mode: o.mode ?? 'include' }));
  if (!o.named) cleanups.push(() => named.stop());
  let output = o.mode === 'block' ? named.optionsConf : named.includeFile;
  if (o.output) {
    await includeAt(named, o.output);
    output = o.output;
  }
  const state = path.join(work, 'state.json');
  let text = configText({ prefixes: [A, B, C], named, ...o }, state).replace(
    `output: ${o.mode === 'block' ? named.optionsConf : named.includeFile}`,
    `output: ${output}`,
  );
  if (o.checkconf) text = text.replace(JSON.stringify(named.checkconfArgv), JSON.stringify(o.checkconf));
  const config = path.join(work, 'config.yaml');
  await writeFile(config, text);
  return { named, config, state, output, work };
}

/** named includes `file` instead of its own dns64.conf (a folder the test can break). */
async function includeAt(named: NamedInstance, file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await readFile(named.includeFile, 'utf8'));
  const options = await readFile(named.optionsConf, 'utf8');
  await writeFile(named.optionsConf, options.replace(`include "${named.includeFile}";`, `include "${file}";`));
  await named.reconfig();
}

function start(c: Case, label: string, args: string[] = [], wrap: string[] = []): DaemonProcess {
  const d = DaemonProcess.start(ns, c.config, path.join(c.work, `${label}.log`), args, wrap);
  cleanups.push(() => d.stop());
  return d;
}

async function cli(args: string[]) {
  return ns.run(['node', CLI, ...args], { timeoutMs: 20_000 });
}

interface State {
  pid: number;
  active: string[];
  targets: Array<{
    last_apply: { result: string; reason?: string; drift?: string; error?: string; stage?: string } | null;
    verification: { ok: boolean } | null;
  }>;
}
const readState = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as State;

/**
 * named serves the active set of the state file, and the daemon verified it; `without`: once that
 * set no longer holds this prefix (the change the test made).
 */
async function converged(c: Case, d: DaemonProcess, o: { timeoutMs?: number; without?: string } = {}): Promise<State> {
  return waitFor(
    'BIND serving the decided set',
    async () => {
      const s = await readState(c.state);
      const t = s.targets[0];
      if (s.active.length === 0 || t?.last_apply?.result === 'failed' || !t?.verification?.ok) return null;
      if (o.without && s.active.includes(o.without)) return null;
      const served = await c.named.aaaa('www.example.test');
      return JSON.stringify(served) === JSON.stringify(s.active.map(www).sort()) && s;
    },
    o.timeoutMs ?? 30_000,
    100,
    async () => (await readFile(d.logFile, 'utf8')).split('\n').slice(-15).join('\n'),
  );
}

/** BIND's files as they are pass named-checkconf: nothing invalid or partial reached them. */
async function bindFilesValid(c: Case) {
  const r = await ns.run([...c.named.checkconfArgv]);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
}

/** our temp files beside the output */
async function leftovers(output: string): Promise<string[]> {
  const names = await readdir(path.dirname(output)).catch(() => []);
  return names.filter((f) => f.startsWith(`.${path.basename(output)}.nat64-health-`));
}

const logged = (d: DaemonProcess, level: string, msg: RegExp) =>
  waitFor(`a ${level} line ${msg}`, async () =>
    (await d.logs()).find((l: LogLine) => l.level === level && msg.test(l.msg)),
  );

/** A selection change: B's gateway dies; the set becomes A and C. */
async function killB() {
  await setPrefixAlive(ns, B, false);
}

/** A gate (a file) that a wrapped command waits at, after saying it was reached. */
async function gated(work: string, name: string) {
  const gate = path.join(work, `${name}.open`);
  const reached = path.join(work, `${name}.reached`);
  await writeFile(gate, '');
  /** the shell that waits, then runs `exec` */
  const wait = (exec: string) => `touch ${reached}; while [ ! -e ${gate} ]; do sleep 0.05; done; exec ${exec}`;
  return {
    wait,
    /** a command line that waits at the gate, then runs cmd */
    argv: (cmd: string[]) => ['sh', '-c', wait('"$@"'), 'sh', ...cmd],
    close: () => rm(gate, { force: true }),
    open: () => writeFile(gate, ''),
    reached: () => stat(reached).then(() => true),
    reset: () => rm(reached, { force: true }),
  };
}

describe('one writer', () => {
  it('a second run on the same state file or output exits 75 at once, naming the lock and its PID', async () => {
    const c = await setup();
    const first = start(c, 'first');
    const s = await converged(c, first);
    const before = { include: await stat(c.output), state: s.pid };
    const t0 = Date.now();
    const second = await cli(['run', '-c', c.config]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(second.exitCode).toBe(75);
    expect(second.stderr).toContain(`another nat64-health run (PID ${s.pid}) holds ${c.state}.lock`);
    // the same output with a state file of its own: the output's lock refuses it
    const other = path.join(c.work, 'other.yaml');
    await writeFile(other, (await readFile(c.config, 'utf8')).replace(c.state, path.join(c.work, 'other.json')));
    const third = await cli(['run', '-c', other]);
    expect(third.exitCode).toBe(75);
    const outputLock = path.join(path.dirname(c.output), `.${path.basename(c.output)}.nat64-health.lock`);
    expect(third.stderr).toContain(`(PID ${s.pid}) holds ${outputLock}, the lock of ${c.output}`);
    expect((await stat(c.output)).mtimeMs).toBe(before.include.mtimeMs);
    expect((await readState(c.state)).pid).toBe(before.state);
    await expect(stat(path.join(c.work, 'other.json'))).rejects.toThrow(/ENOENT/);
    // the read-only commands work beside it
    for (const cmd of ['status', 'check', 'render', 'validate', 'history'])
      expect((await cli([cmd, '-c', c.config])).exitCode, cmd).not.toBe(75);
  });

  it('run --dry-run beside it writes none of its files', async () => {
    const c = await setup();
    const first = start(c, 'first');
    const s = await converged(c, first);
    const files = async () => (await readdir(c.work)).filter((f) => f !== 'state.json').sort();
    const before = { files: await files(), include: (await stat(c.output)).mtimeMs };
    await killB(); // a change the dry run would apply, and the daemon does
    const dry = start(c, 'dry', ['--dry-run']);
    await logged(dry, 'info', /^dry run: would apply to local|^local already serves this set/);
    await waitFor('the daemon applying A and C', async () => {
      const st = await readState(c.state);
      return st.active.includes(C) && !st.active.includes(B);
    });
    for (let i = 0; i < 10; i++) {
      expect((await readState(c.state)).pid).toBe(s.pid);
      await new Promise((r) => setTimeout(r, 100));
    }
    await dry.stop();
    expect(dry.child.exitCode).toBe(0);
    // the running daemon writes its state through a temporary file beside it every round: list the
    // folder once it has stopped too, so that only what either left behind is seen
    await first.stop();
    expect(first.child.exitCode).toBe(0);
    expect(await files()).toEqual(before.files.concat(['dry.log']).sort());
    expect((await stat(c.output)).mtimeMs).toBeGreaterThan(before.include); // the daemon's apply, not the dry run's
  });

  it('kill -9 leaves no stale lock: the next run takes over at once', async () => {
    const c = await setup();
    const first = start(c, 'first');
    await converged(c, first);
    first.signal('SIGKILL');
    await waitFor('the first daemon gone', () => first.child.exitCode !== null || first.child.signalCode !== null);
    const next = start(c, 'next');
    await waitFor('the next daemon writing the state', async () => (await readState(c.state)).pid === next.child.pid);
    await converged(c, next);
  });
});

interface HistoryEntry {
  reason: string;
  diff: string;
}
async function history(c: Case): Promise<HistoryEntry[]> {
  const h = JSON.parse(await readFile(path.join(c.work, 'history', 'local.json'), 'utf8')) as {
    entries: HistoryEntry[];
  };
  return h.entries;
}

/** rndc reconfig with a count of its runs */
async function countedReload(c: Case) {
  const calls = path.join(c.work, 'reloads');
  await writeFile(calls, '');
  const argv = ['sh', '-c', `echo x >> ${calls}; exec "$@"`, 'sh', ...c.named.rndcArgv, 'reconfig'];
  const text = await readFile(c.config, 'utf8');
  await writeFile(c.config, text.replace(JSON.stringify([...c.named.rndcArgv, 'reconfig']), JSON.stringify(argv)));
  return async () => (await readFile(calls, 'utf8')).split('\n').filter(Boolean).length;
}

describe('drift: the output is looked at, not remembered', () => {
  it('a removed include file is written back at the next round without a reload; a WARN, a history entry', async () => {
    const c = await setup();
    const reloads = await countedReload(c);
    const d = start(c, 'daemon');
    const s = await converged(c, d);
    const text = await readFile(c.output, 'utf8');
    const count = await reloads();
    await rm(c.output);
    const warn = await logged(d, 'warn', /is not what was written there: the file was removed; writing it back/);
    expect(warn.msg).toContain(c.output);
    await waitFor('the file back', async () => (await readFile(c.output, 'utf8')) === text);
    await converged(c, d);
    expect(await reloads()).toBe(count);
    expect((await readState(c.state)).targets[0]!.last_apply).toMatchObject({
      result: 'applied',
      drift: 'the file was removed',
    });
    const h = await waitFor('the repair in the history', async () =>
      (await history(c)).find((e) => e.reason === 'repair: the file was removed'),
    );
    expect(h.diff).toContain(`+dns64 ${s.active[0]}`);
  });

  it("a hand-edited include (a dead gateway's block added) is written back and BIND reloaded", async () => {
    const c = await setup();
    const reloads = await countedReload(c);
    const d = start(c, 'daemon');
    await converged(c, d);
    const text = await readFile(c.output, 'utf8');
    const count = await reloads();
    await replaceFile(c.output, text + 'dns64 2001:db8:dead::/96 { clients { any; }; };\n');
    await c.named.reconfig(); // BIND loaded the edit: it serves the dead gateway too
    await logged(d, 'warn', /the file was edited \(1 line added, 0 removed\); writing it back/);
    await waitFor('the file back', async () => (await readFile(c.output, 'utf8')) === text);
    await converged(c, d);
    expect(await reloads()).toBe(count + 1);
    // the history is written in the background, after the apply
    await waitFor('the repair in the history', async () =>
      (await history(c)).some((e) => e.diff.includes('-dns64 2001:db8:dead::/96')),
    );
  });

  it('block mode: an edit outside the managed block is kept; one inside it is repaired', async () => {
    const c = await setup({ mode: 'block' });
    const d = start(c, 'daemon');
    await converged(c, d);
    const written = await readFile(c.output, 'utf8');
    const operator = written.replace('options {', 'options {\n\tmax-cache-ttl 3600;');
    await replaceFile(c.output, operator);
    await new Promise((r) => setTimeout(r, 1500)); // several rounds
    expect(await readFile(c.output, 'utf8')).toBe(operator);
    expect(await d.count(/is not what was written there/)).toBe(0);
    const served = (await readState(c.state)).active[0]!;
    await replaceFile(c.output, operator.replace(`dns64 ${served}`, 'dns64 2001:db8:dead::/96'));
    await logged(d, 'warn', /the managed block was edited; writing it back/);
    await waitFor('the block back', async () => (await readFile(c.output, 'utf8')) === operator);
    await converged(c, d);
  });
});

describe('fault matrix', () => {
  /** The fault holds: the daemon logs why, keeps running, BIND's files stay valid and unchanged. */
  async function holds(c: Case, d: DaemonProcess, text: string, why: RegExp) {
    await logged(d, 'error', why);
    expect(d.child.exitCode).toBeNull();
    expect(await readFile(c.output, 'utf8')).toBe(text);
    expect(await leftovers(c.output)).toEqual([]);
    await bindFilesValid(c);
  }

  /** A daemon whose include file is on a tmpfs of its own (`size`), serving its first set. */
  async function onTmpfs(label: string, size: string) {
    const fs = path.join(dir, `${label}-${n + 1}`);
    await mkdir(fs, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', fs]);
    cleanups.push(() => execFileSync('umount', ['-l', fs]));
    const c = await setup({ output: path.join(fs, 'dns64.conf') });
    const d = start(c, 'daemon');
    await converged(c, d);
    return { fs, c, d, text: await readFile(c.output, 'utf8') };
  }

  it('output file system full (ENOSPC), then room again', async () => {
    const { fs, c, d, text } = await onTmpfs('full', '64k');
    const filler = path.join(fs, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the file system is full
    }
    await killB();
    await holds(c, d, text, /^apply to local failed/);
    expect((await d.logs()).some((l) => String(l.error).includes('ENOSPC'))).toBe(true);
    await rm(filler);
    const s = await converged(c, d, { without: B });
    expect(s.active).not.toContain(B);
    await bindFilesValid(c);
  });

  it('output file system read-only, then writable again', async () => {
    const { fs, c, d, text } = await onTmpfs('ro', '1m');
    execFileSync('mount', ['-o', 'remount,ro', fs]);
    await killB();
    await holds(c, d, text, /^apply to local failed/);
    expect((await d.logs()).some((l) => String(l.error).includes('EROFS'))).toBe(true);
    execFileSync('mount', ['-o', 'remount,rw', fs]);
    const s = await converged(c, d, { without: B });
    expect(s.active).not.toContain(B);
  });

  it("the output's directory removed: made again, the file written back, the lock taken again", async () => {
    const c = await setup({ output: path.join(dir, `gone-${n + 1}`, 'nat64', 'dns64.conf') });
    const d = start(c, 'daemon');
    await converged(c, d);
    const text = await readFile(c.output, 'utf8');
    await rm(path.dirname(c.output), { recursive: true });
    await logged(d, 'warn', /the file was removed; writing it back/);
    await waitFor('the file back', async () => (await readFile(c.output, 'utf8')) === text);
    await logged(d, 'warn', /lock file was removed or replaced; taken again/);
    await bindFilesValid(c);
    await converged(c, d);
    // and the lock is real again: a second run is refused
    expect((await cli(['run', '-c', c.config])).exitCode).toBe(75);
  });

  it('named stopped when the daemon starts, started later: the validated file waits for it', async () => {
    const c = await setup();
    const stopped = await ns.run([...c.named.rndcArgv, 'stop']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    await waitFor('named gone', async () => !(await c.named.dig(['+short', 'SOA', 'example.test']).catch(() => '')));
    const d = start(c, 'daemon');
    const failed = await logged(d, 'error', /^apply to local failed/);
    expect(String(failed.error)).toMatch(/BIND is not running: the validated file stays in place for its start/);
    await bindFilesValid(c);
    const text = await readFile(c.output, 'utf8');
    expect(text).toMatch(/^dns64 /m); // the decided set, ready for named's start
    const again = ns.spawn(['named', '-g', '-c', c.named.namedConf], { logFile: path.join(c.work, 'named-2.log') });
    cleanups.push(() => again.kill('SIGTERM'));
    await converged(c, d, { timeoutMs: 90_000 });
    expect(d.child.exitCode).toBeNull();
  }, 120_000); // longer than its 90 s wait

  it('rndc key unreadable: the apply fails and is rolled back; readable again, it converges', async () => {
    const c = await setup();
    // root, but without the capabilities that read any file: the key's mode counts
    const d = start(c, 'daemon', [], ['setpriv', '--bounding-set', '-dac_override,-dac_read_search']);
    await converged(c, d);
    const text = await readFile(c.output, 'utf8');
    // rndc's own copy of the key (named.conf includes the original, and named-checkconf reads it)
    const key = path.join(c.work, 'rndc.key');
    await writeFile(key, await readFile(path.join(c.named.dir, 'rndc.key'), 'utf8'));
    const rndcConf = path.join(c.named.dir, 'rndc.conf');
    await writeFile(rndcConf, (await readFile(rndcConf, 'utf8')).replace(path.join(c.named.dir, 'rndc.key'), key));
    await chmod(key, 0o000);
    cleanups.push(() => chmod(key, 0o600));
    await killB();
    const failed = await logged(d, 'error', /^apply to local failed/);
    expect(failed).toMatchObject({ stage: 'reload', rolled_back: true });
    expect(await readFile(c.output, 'utf8')).toBe(text);
    await bindFilesValid(c);
    await chmod(key, 0o600);
    const s = await converged(c, d, { timeoutMs: 90_000 });
    expect(s.active).not.toContain(B);
  }, 120_000); // longer than its 90 s wait

  it('a SIGHUP storm during an apply: one apply, the daemon keeps running and converges', async () => {
    const c = await setup();
    const gate = await gated(c.work, 'reload');
    const text = await readFile(c.config, 'utf8');
    const rndc = [...c.named.rndcArgv, 'reconfig'];
    await writeFile(c.config, text.replace(JSON.stringify(rndc), JSON.stringify(gate.argv(rndc))));
    const d = start(c, 'daemon');
    await converged(c, d);
    await gate.close();
    await gate.reset();
    const applies = await d.count(/^applied to local$/);
    await killB();
    await waitFor('the reload reached', gate.reached);
    for (let i = 0; i < 50; i++) d.signal('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    await gate.open();
    const s = await converged(c, d, { without: B });
    expect(s.active).not.toContain(B);
    expect(d.child.exitCode).toBeNull();
    expect(await d.count(/^configuration reloaded$/)).toBeGreaterThanOrEqual(1);
    expect(await d.count(/^applied to local$/)).toBe(applies + 1); // the reloads kept the runner and its apply
    expect(await leftovers(c.output)).toEqual([]);
    await bindFilesValid(c);
  });

  it('SIGKILL in the middle of an apply: the state file is intact, the temp files go at the next start', async () => {
    // named-checkconf that waits at a gate: the apply stops with its candidate beside the output
    const wrapper = path.join(dir, `gated-${n + 1}`, 'named-checkconf');
    await mkdir(path.dirname(wrapper), { recursive: true });
    const gate = await gated(path.dirname(wrapper), 'checkconf');
    await writeFile(wrapper, `#!/bin/sh\n${gate.wait('named-checkconf "$@"')}\n`);
    await chmod(wrapper, 0o755);
    const named = await startNamed({ netns: ns, listen: NAMED_ADDR, mode: 'include' });
    cleanups.push(() => named.stop());
    const c = await setup({ named, checkconf: [wrapper, ...named.checkconfArgv.slice(1)] });
    const d = start(c, 'daemon');
    const s = await converged(c, d);
    const text = await readFile(c.output, 'utf8');
    await gate.close();
    await gate.reset();
    await killB();
    await waitFor('the validation reached', gate.reached);
    expect(await leftovers(c.output)).toHaveLength(1); // the candidate beside the output
    d.signal('SIGKILL');
    await waitFor('the daemon gone', () => d.child.signalCode !== null);
    expect(await readFile(c.output, 'utf8')).toBe(text);
    expect((await readState(c.state)).pid).toBe(s.pid); // whole JSON, as last written
    await bindFilesValid(c);
    await gate.open();
    const next = start(c, 'next');
    const after = await converged(c, next, { without: B });
    expect(after.active).not.toContain(B);
    expect(await leftovers(c.output)).toEqual([]);
  });

  it('a state file truncated by a power loss: said, set aside for a fresh start, and rewritten', async () => {
    const c = await setup();
    const d = start(c, 'first');
    await converged(c, d);
    await d.stop();
    const whole = await readFile(c.state, 'utf8');
    await writeFile(c.state, whole.slice(0, Math.floor(whole.length / 2)));
    const next = start(c, 'next');
    const warn = await logged(next, 'warn', /^cannot use the state file of the previous run; starting afresh/);
    expect(warn.file).toBe(c.state);
    const s = await converged(c, next);
    expect(s.pid).toBe(next.child.pid);
    expect(await ns.run(['node', CLI, 'status', '-c', c.config])).toMatchObject({ exitCode: 0 });
  });
});
