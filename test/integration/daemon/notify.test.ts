/**
 * Notify hooks against a real named: on_change after each apply that changed what BIND serves,
 * on_state on prefix up/down; a hanging or failing hook never delays an apply.
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServedChange } from '../../../src/apply/runner.js';
import type { Netns } from '../../support/netns.js';
import { startWorld, type World } from '../../support/world.js';
import type { NamedInstance } from '../../support/named.js';
import {
  configText,
  DaemonProcess,
  readFile,
  setPrefixAlive,
  waitFor,
  writeFile,
  www,
} from '../../support/daemon-fixture.js';
import { A, B, C } from '../../support/prefixes.js';

const NAMED_ADDR = '2001:db8:53::1';

let ns: Netns;
let named: NamedInstance;
let dir: string;
let daemon: DaemonProcess | undefined;

let world: World;

beforeAll(async () => {
  world = await startWorld('notify', { named: NAMED_ADDR });
  ({ ns, dir } = world);
  named = world.named!;
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});
afterAll(() => world?.stop());

async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** the on_change document (ServedChange plus its event and target) and the environment recorded */
type ChangeDoc = ServedChange & { event: string; target: string; env: string };

/** The lines a recording hook wrote: its stdin document plus the environment it saw. */
async function recorded<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.split('\n').filter(Boolean);
  const out: T[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) out.push({ ...JSON.parse(lines[i]!), env: lines[i + 1] } as T);
  return out;
}

const served = async () => (await named.aaaa('www.example.test')).sort();

describe('notify hooks', () => {
  it('on_change: old set, new set, draining, reasons; on_state: up and down', async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    const changes = path.join(dir, 'changes.log');
    const states = path.join(dir, 'states.log');
    const onChange = await script(
      'on-change.sh',
      `{ cat; echo "$NAT64_HEALTH_EVENT|$NAT64_HEALTH_TARGET|$NAT64_HEALTH_ACTIVE|$NAT64_HEALTH_OLD"; } >> "$1"`,
    );
    const onState = await script('on-state.sh', `{ cat; echo "$NAT64_HEALTH_PREFIX|$NAT64_HEALTH_STATE"; } >> "$1"`);
    const extra = `hooks:\n  on_change: [${onChange}, ${changes}]\n  on_state: [${onState}, ${states}]\n`;
    const file = path.join(dir, 'config-1.yaml');
    await writeFile(
      file,
      configText({ prefixes: [A, B, C], named, maxActive: 2, extra }, path.join(dir, 'st1', 'state.json')),
    );
    daemon = DaemonProcess.start(ns, file, path.join(dir, 'daemon-1.log'));
    await waitFor('the first change reported', async () => (await recorded(changes)).length === 1);
    const [first] = await recorded<ChangeDoc>(changes);
    expect(first).toMatchObject({ event: 'change', target: 'local', old: null, draining: [] });
    expect(first!.new).toHaveLength(2);
    expect(await served()).toEqual(first!.new.map(www).sort());
    expect(first!.env).toBe(`on_change|local|${first!.new.join(' ')}|`);
    expect(first!.changes.map((c) => c.change)).toEqual(['activated', 'activated']);

    const dead = first!.new[0]!;
    await setPrefixAlive(ns, dead, false);
    try {
      await waitFor('the second change reported', async () => (await recorded(changes)).length === 2);
      const second = (await recorded<ChangeDoc>(changes))[1]!;
      const spare = [A, B, C].find((p) => !first!.new.includes(p))!;
      expect(second).toMatchObject({ old: first!.new, draining: [dead] });
      expect(second.new.sort()).toEqual([first!.new[1]!, spare].sort());
      expect(second.changes).toContainEqual({ id: dead, change: 'deactivated', reason: 'prefix is down; draining' });
      expect(second.reason).toMatch(/^selection changed: /);
      expect(await served()).toEqual(second.new.map(www).sort());
      const s = await recorded<{ prefix: string; from: string; to: string; reason: string; env: string }>(states);
      expect(
        s
          .filter((x) => x.to === 'up')
          .map((x) => x.prefix)
          .sort(),
      ).toEqual([A, B, C]);
      expect(s.find((x) => x.to === 'down')).toMatchObject({ prefix: dead, from: 'up', env: `${dead}|down` });
    } finally {
      await setPrefixAlive(ns, dead, true);
    }
  });

  it('a hook that hangs or fails never delays an apply; the hanging one is killed at its timeout', async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    const pids = path.join(dir, 'hang.pids');
    const hang = await script('hang.sh', `echo $$ >> "${pids}"; sleep 600`);
    const fail = await script('fail.sh', 'echo "pager unreachable" >&2; exit 7');
    const extra = `hooks:\n  on_change: [${hang}]\n  on_state: [${fail}]\n  timeout: 10s\n`;
    const file = path.join(dir, 'config-2.yaml');
    await writeFile(
      file,
      configText({ prefixes: [A, B, C], named, maxActive: 1, drain: '0', extra }, path.join(dir, 'st2', 'state.json')),
    );
    daemon = DaemonProcess.start(ns, file, path.join(dir, 'daemon-2.log'));
    const first = await waitFor('one prefix served', async () => {
      const s = await served();
      return s.length === 1 && s[0];
    });
    await waitFor('the hook started', async () => (await readFile(pids, 'utf8').catch(() => '')).length > 0);
    const hookPid = Number((await readFile(pids, 'utf8')).trim());
    // two more changes while the first hook still hangs: both reach named
    const order = [A, B, C].filter((p) => www(p) !== first);
    const firstPrefix = [A, B, C].find((p) => www(p) === first)!;
    await setPrefixAlive(ns, firstPrefix, false);
    await waitFor('a second set served', async () => {
      const s = await served();
      return s.length === 1 && s[0] !== first;
    });
    const secondServed = (await served())[0]!;
    const secondPrefix = order.find((p) => www(p) === secondServed)!;
    await setPrefixAlive(ns, secondPrefix, false);
    await waitFor('a third set served', async () => {
      const s = await served();
      return s.length === 1 && s[0] !== first && s[0] !== secondServed;
    });
    await waitFor('three applies logged', async () => (await daemon!.count(/^applied to local$/)) === 3);
    // the applies did not wait for the first hook: it is still running (not killed, not reaped), or,
    // on a machine slow enough that its 10 s ran out, it was killed after the next apply. The process
    // is looked at before the log is read, so a kill in between is seen in the log.
    const hook = await readFile(`/proc/${hookPid}/stat`, 'utf8').catch(() => 'gone');
    const logs = await daemon.logs();
    const kill = logs.findIndex((l) => l.msg === 'hook on_change killed after its timeout');
    if (kill === -1) expect(hook).toMatch(/^\d+ \(.*\) [SR]/);
    else expect(logs.slice(0, kill).filter((l) => l.msg === 'applied to local').length).toBeGreaterThanOrEqual(2);
    const killed = async () => daemon!.count(/^hook on_change killed after its timeout$/);
    expect(logs.find((l) => l.msg === 'hook on_state failed')).toMatchObject({
      level: 'warn',
      error: 'exit status 7',
      stderr: 'pager unreachable',
    });
    await waitFor('the hanging hook killed', async () => (await killed()) >= 1, 20_000);
    expect(await readFile(`/proc/${hookPid}/stat`, 'utf8').catch(() => 'gone')).toMatch(/^gone$|^\d+ \(.*\) Z/);
    // at most one at a time: the next queued change runs only after the kill
    await waitFor('the next hook started', async () => (await readFile(pids, 'utf8')).trim().split('\n').length >= 2);
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
  });

  it('SIGTERM: the daemon waits for the hook of its last apply, logs it, and only then says stopped', async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    const started = path.join(dir, 'stop.started');
    const out = path.join(dir, 'stop.json');
    const slow = await script('slow.sh', `touch "${started}"; sleep 1; cat > "${out}"`);
    const extra = `hooks:\n  on_change: [${slow}]\n  timeout: 10s\n`;
    const file = path.join(dir, 'config-stop.yaml');
    await writeFile(
      file,
      configText({ prefixes: [A, B, C], named, maxActive: 2, extra }, path.join(dir, 'st3', 'state.json')),
    );
    const d = DaemonProcess.start(ns, file, path.join(dir, 'daemon-stop.log'));
    await waitFor('the hook of the first apply started', async () => !!(await readFile(started).catch(() => null)));
    await d.stop(); // SIGTERM, and waits for the process to exit
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ event: 'change', target: 'local', old: null });
    const msgs = (await d.logs()).map((l) => l.msg);
    const waited = msgs.indexOf('stopping: waiting for notify hooks');
    const ended = msgs.indexOf('hook on_change ended during the stop');
    expect(waited).toBeGreaterThan(-1);
    expect(ended).toBeGreaterThan(waited);
    expect(msgs.at(-1)).toBe('stopped');
    expect(msgs.slice(0, ended)).not.toContain('stopped');
  });
});
