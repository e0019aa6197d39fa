// The Notifier with real commands: small scripts written here, run as argv (no shell in between).
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/log.js';
import type { ServedChange } from '../../../src/apply/runner.js';
import { changeEvent, HOOK_QUEUE, Notifier, type HookResult } from '../../../src/daemon/notify.js';
import { A, B, C } from '../../support/prefixes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nh-notify-'));
});

async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

function setup(settings: ConstructorParameters<typeof Notifier>[0]) {
  const lines: Array<Record<string, unknown>> = [];
  const results: HookResult[] = [];
  const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(JSON.parse(l) as never) });
  return { n: new Notifier(settings, log, (r) => results.push(r)), lines, results };
}

const event = (i: number) => ({ document: { event: 'change', i }, env: { NAT64_HEALTH_TARGET: `t${i}` } });
/** Running, not a zombie waiting to be reaped (a container's pid 1 may never reap it). */
const alive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && !/^\d+ \(.*\) Z/.test(stat);
};

describe('notify hooks', () => {
  it('runs the argv with the JSON document on stdin and NAT64_HEALTH_* in the environment', async () => {
    const out = path.join(dir, 'out.txt');
    const hook = await script('record.sh', `{ cat; echo "$NAT64_HEALTH_EVENT $NAT64_HEALTH_TARGET $1"; } >> "$2"`);
    const { n, results } = setup({ on_change: [hook, 'a b; $(x)', out], timeout: 10_000 });
    n.fire('on_change', event(1));
    n.fire('on_change', event(2));
    await n.idle();
    expect(await readFile(out, 'utf8')).toBe(
      '{"event":"change","i":1}\non_change t1 a b; $(x)\n{"event":"change","i":2}\non_change t2 a b; $(x)\n',
    );
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });

  it('a hook that exits non-zero is logged with its status and stderr; the next event still runs', async () => {
    const hook = await script('fail.sh', 'cat >/dev/null; echo "no route" >&2; exit 3');
    const { n, lines, results } = setup({ on_state: [hook], timeout: 10_000 });
    n.fire('on_state', event(1));
    n.fire('on_state', event(2));
    await n.idle();
    expect(results).toEqual([
      { kind: 'on_state', ok: false, exitCode: 3, timedOut: false, error: 'exit status 3' },
      { kind: 'on_state', ok: false, exitCode: 3, timedOut: false, error: 'exit status 3' },
    ]);
    expect(lines.find((l) => l.msg === 'hook on_state failed')).toMatchObject({
      level: 'warn',
      error: 'exit status 3',
      stderr: 'no route',
    });
  });

  it('a hook that hangs is killed at its timeout, with the children it started; fire() never waits', async () => {
    const pids = path.join(dir, 'pids');
    const hook = await script('hang.sh', `sleep 600 & echo $$ $! > "${pids}"; wait`);
    const { n, lines, results } = setup({ on_change: [hook], timeout: 300 });
    n.fire('on_change', event(1)); // returns at once: a hanging hook is never awaited by the caller
    const [shell, sleeper] = await (async () => {
      for (;;) {
        const t = await readFile(pids, 'utf8').catch(() => '');
        if (/^\d+ \d+\n/.test(t)) return t.trim().split(' ').map(Number);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await n.idle();
    expect(results).toEqual([{ kind: 'on_change', ok: false, timedOut: true }]);
    expect(lines.some((l) => l.msg === 'hook on_change killed after its timeout' && l.timeout_ms === 300)).toBe(true);
    expect([await alive(shell!), await alive(sleeper!)]).toEqual([false, false]);
  });

  it('at most one run per kind and a bounded queue: the oldest waiting event is dropped', async () => {
    const out = path.join(dir, 'queue.txt');
    const gate = path.join(dir, 'gate');
    // the first run waits for the gate file, so the others queue behind it
    const hook = await script('slow.sh', `while [ ! -e "${gate}" ]; do sleep 0.05; done; cat >> "${out}"`);
    const { n, lines } = setup({ on_change: [hook], timeout: 30_000 });
    for (let i = 0; i < HOOK_QUEUE + 3; i++) n.fire('on_change', event(i));
    await writeFile(gate, '');
    await n.idle();
    const ran = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    // 0 was running; 1 and 2 were dropped from the full queue; the rest ran in order
    expect(ran).toEqual([0, ...Array.from({ length: HOOK_QUEUE }, (_, k) => k + 3)]);
    expect(lines.filter((l) => /dropped the oldest/.test(String(l.msg)))).toHaveLength(2);
  });

  it('a kind without a command does nothing; a command that does not exist is logged', async () => {
    const { n, lines, results } = setup({ on_change: [path.join(dir, 'missing')], timeout: 1000 });
    n.fire('on_state', event(1));
    n.fire('on_change', event(1));
    await n.idle();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, timedOut: false });
    expect(lines.find((l) => l.msg === 'hook on_change failed')?.error).toMatch(/ENOENT|exit status/);
  });

  it('stop() waits for a running hook and the ones waiting, and logs what it waited for', async () => {
    const out = path.join(dir, 'stop.txt');
    const gate = path.join(dir, 'stop-gate');
    const started = path.join(dir, 'stop-started');
    const hook = await script(
      'gated.sh',
      `touch "${started}"; while [ ! -e "${gate}" ]; do sleep 0.05; done; cat >> "${out}"`,
    );
    const { n, lines, results } = setup({ on_change: [hook], timeout: 30_000 });
    n.fire('on_change', event(1));
    n.fire('on_change', event(2));
    while (!(await readFile(started).catch(() => null))) await new Promise((r) => setTimeout(r, 20));
    let done = false;
    const stopping = n.stop().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done, 'stop() returned while the hook still ran').toBe(false);
    await writeFile(gate, '');
    await stopping;
    expect(await readFile(out, 'utf8')).toBe('{"event":"change","i":1}\n{"event":"change","i":2}\n');
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(lines.find((l) => l.msg === 'stopping: waiting for notify hooks')).toMatchObject({
      running: [{ kind: 'on_change', command: hook }],
      waiting: 1,
      timeout_ms: 30_000,
    });
    expect(lines.filter((l) => l.msg === 'hook on_change ended during the stop')).toHaveLength(2);
  });

  it('stop() is bounded by the timeout: a hanging hook is killed with its children, the rest dropped', async () => {
    const pids = path.join(dir, 'stop-pids');
    const out = path.join(dir, 'stop-hang.txt');
    const hook = await script('stop-hang.sh', `sleep 600 & echo $$ $! > "${pids}"; wait; cat >> "${out}"`);
    const { n, lines } = setup({ on_change: [hook], timeout: 300 });
    for (let i = 0; i < 4; i++) n.fire('on_change', event(i));
    await n.stop();
    const [shell, sleeper] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    expect([await alive(shell!), await alive(sleeper!)]).toEqual([false, false]);
    expect(await readFile(out, 'utf8').catch(() => '')).toBe('');
    expect(lines.some((l) => /^hook on_change killed/.test(String(l.msg)))).toBe(true);
    expect(lines.some((l) => /waiting event\(s\) dropped, the daemon stopped/.test(String(l.msg)))).toBe(true);
    n.fire('on_change', event(9));
    expect(lines.at(-1)?.msg).toMatch(/not run, the daemon is stopping/);
  });

  it('a hook that does not read its stdin and exits 0 has run fine', async () => {
    const hook = await script('ignore.sh', 'exit 0');
    const { n, results } = setup({ on_change: [hook], timeout: 10_000 });
    n.fire('on_change', { document: { big: 'x'.repeat(1_000_000) }, env: {} });
    await n.idle();
    expect(results[0]).toMatchObject({ ok: true });
  });
});

describe('the on_change event', () => {
  const change: ServedChange = {
    old: [A],
    new: [B],
    draining: [A],
    reason: `selection changed: ${A} deactivated`,
    changes: [{ id: A, change: 'deactivated', reason: 'down' }],
    at: '2026-12-01T10:00:00.000Z',
  };

  it('without pools: the document and the variables as they always were', () => {
    const e = changeEvent('local', change);
    expect(JSON.stringify(e.document)).toBe(
      `{"event":"change","target":"local","old":["${A}"],"new":["${B}"],"draining":["${A}"],` +
        `"reason":"selection changed: ${A} deactivated","changes":[{"id":"${A}","change":"deactivated",` +
        `"reason":"down"}],"at":"2026-12-01T10:00:00.000Z"}`,
    );
    expect(e.env).toEqual({
      NAT64_HEALTH_TARGET: 'local',
      NAT64_HEALTH_ACTIVE: B,
      NAT64_HEALTH_OLD: A,
      NAT64_HEALTH_DRAINING: A,
      NAT64_HEALTH_REASON: `selection changed: ${A} deactivated`,
    });
    expect(changeEvent('local', { ...change, old: null }).env.NAT64_HEALTH_OLD).toBe('');
  });

  it("with pools: each pool's sets in the document, each change's pool, NAT64_HEALTH_POOLS", () => {
    const pools = {
      'site-a': { old: [A], new: [B, C] },
      'site-b': { old: null, new: [] },
      default: { old: [A], new: [B] },
    };
    const changes = [...change.changes, { id: A, change: 'deactivated', reason: 'down', pool: 'site-a' }];
    const e = changeEvent('local', { ...change, changes, pools });
    expect(e.document).toEqual({ event: 'change', target: 'local', ...change, changes, pools });
    expect(JSON.stringify(e.document)).toContain(
      `"pools":{"site-a":{"old":["${A}"],"new":["${B}","${C}"]},"site-b":{"old":null,"new":[]},` +
        `"default":{"old":["${A}"],"new":["${B}"]}}`,
    );
    expect(e.env.NAT64_HEALTH_POOLS).toBe(`site-a=${B},${C} site-b= default=${B}`);
    expect(e.env.NAT64_HEALTH_ACTIVE).toBe(B); // the default pool's, as ever
  });

  it('a hook reads NAT64_HEALTH_POOLS as name=set pairs in a plain shell loop', async () => {
    const out = path.join(dir, 'pools.txt');
    const hook = await script(
      'pools.sh',
      `cat >/dev/null; for p in $NAT64_HEALTH_POOLS; do echo "\${p%%=*}: \${p#*=}"; done > "$1"`,
    );
    const { n } = setup({ on_change: [hook, out], timeout: 10_000 });
    const pools = { 'site-a': { old: [A], new: [B] }, default: { old: [A], new: [A, B] } };
    n.fire('on_change', changeEvent('local', { ...change, pools }));
    await n.idle();
    expect(await readFile(out, 'utf8')).toBe(`site-a: ${B}\ndefault: ${A},${B}\n`);
  });
});
