/**
 * The daemon and the one-shot commands against a real named, with simulated NAT64 prefixes in a
 * network namespace (see daemon-fixture.ts). Every DNS answer checked here comes from named.
 */
import { stat } from 'node:fs/promises';
import { execa } from 'execa';
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
  readState,
  setPrefixAlive,
  waitFor,
  writeFile,
  www,
  type ConfigOptions,
} from '../../support/daemon-fixture.js';
import { A, B } from '../../support/prefixes.js';

const C = '2001:db8:64:c::/64';
const DEAD = '2001:db8:64:d::/96';
const NAMED_ADDR = '2001:db8:53::1';

let ns: Netns;
let dir: string;

let world: World;

beforeAll(async () => {
  world = await startWorld('daemon', { alive: [A, B, C] });
  ({ ns, dir } = world);
});

afterAll(() => world?.stop());

async function cli(args: string[]) {
  return ns.run(['node', CLI, ...args], { timeoutMs: 20_000 });
}

let n = 0;
async function writeConfig(o: ConfigOptions): Promise<{ file: string; state: string }> {
  n++;
  const file = path.join(dir, `config-${n}.yaml`);
  const state = path.join(dir, `state-${n}.json`);
  await writeFile(file, configText(o, state));
  return { file, state };
}

/** The part of `check --json` these tests read. */
interface CheckJson {
  prefixes: Array<{
    prefix: string;
    healthy: boolean;
    loss_ratio: number | null;
    targets: Array<{ probe: string; ok: boolean; address: string }>;
  }>;
}

describe('one-shot commands', () => {
  let named: NamedInstance;
  beforeAll(async () => {
    named = await startNamed({ netns: ns, listen: NAMED_ADDR, mode: 'include' });
  });
  afterAll(async () => named?.stop());

  it('check: a table per prefix, exit 1 when some prefix is unhealthy', async () => {
    const { file } = await writeConfig({ prefixes: [A, C, DEAD], named });
    const r = await cli(['check', '-c', file]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${DEAD.replace(/[/.]/g, '\\$&')}\\s+UNHEALTHY\\s+-\\s+100%`, 'm'));
    expect(r.stdout).toMatch(/^2001:db8:64:a::\/96\s+healthy\s+\d+(\.\d)? ms\s+0%\s+tcp 192\.0\.2\.10:80: \d/m);
    expect(r.stdout).toMatch(/2 of 3 prefixes healthy/);
    const json = JSON.parse((await cli(['check', '-c', file, '--json'])).stdout) as CheckJson;
    expect(json.prefixes.map((p: { prefix: string; healthy: boolean }) => [p.prefix, p.healthy])).toEqual([
      [A, true],
      [C, true],
      [DEAD, false],
    ]);
    expect(json.prefixes[2]!.targets.every((t) => !t.ok)).toBe(true);
    expect(json.prefixes.map((p) => p.loss_ratio)).toEqual([0, 0, 1]);
  });

  it('check: exit 0 when all are healthy, 2 when none is', async () => {
    expect((await cli(['check', '-c', (await writeConfig({ prefixes: [A, B], named })).file])).exitCode).toBe(0);
    expect((await cli(['check', '-c', (await writeConfig({ prefixes: [DEAD], named })).file])).exitCode).toBe(2);
  });

  it('check: ICMP probes through fping', async () => {
    const { file } = await writeConfig({ prefixes: [A, DEAD], named });
    const text = (await readFile(file, 'utf8')).replace(
      /probes:\n/,
      'probes:\n  - { type: icmp, address: 192.0.2.10 }\n',
    );
    await writeFile(file, text);
    const json = JSON.parse((await cli(['check', '-c', file, '--json'])).stdout) as CheckJson;
    const icmp = (p: number) => json.prefixes[p]!.targets.find((t) => t.probe === 'icmp 192.0.2.10');
    expect(icmp(0)).toMatchObject({ ok: true, address: www(A) });
    expect(icmp(1)).toMatchObject({ ok: false });
  });

  it('render: the healthy prefixes, max_active of them; --static: all of them', async () => {
    const { file } = await writeConfig({ prefixes: [A, B, C, DEAD], named });
    const r = await cli(['render', '-c', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    const blocks = r.stdout.match(/^dns64 \S+/gm)!;
    expect(blocks).toHaveLength(2);
    expect(r.stdout).not.toContain(DEAD);
    const s = await cli(['render', '-c', file, '--static']);
    expect(s.stdout.match(/^dns64 \S+/gm)).toEqual([A, B, C, DEAD].map((p) => `dns64 ${p}`));
  });

  it('validate: exit 0 for a good config (also with --bind), 78 with file and line for a bad one', async () => {
    const { file } = await writeConfig({ prefixes: [A, B], named });
    const ok = await cli(['validate', '-c', file, '--bind']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/named-checkconf accepts the rendered include file/);
    await writeFile(file, (await readFile(file, 'utf8')).replace(`  - ${B}`, '  - 2001:db8:64:b::/80'));
    const bad = await cli(['validate', '-c', file]);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toMatch(new RegExp(`${file}:3:5: prefixes\\[1\\]\\.prefix: .*/80 is not one of`));
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('validate --bind: says so when named.conf does not include the output file', async () => {
    const { file } = await writeConfig({ prefixes: [A], named });
    await writeFile(file, (await readFile(file, 'utf8')).replace(named.includeFile, path.join(dir, 'elsewhere.conf')));
    const r = await cli(['validate', '-c', file, '--bind']);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/does not include .*elsewhere\.conf/);
  });

  it('synth prints RFC 6052 addresses and rejects bad input', async () => {
    expect((await cli(['synth', C, '192.0.2.10'])).stdout.trim()).toBe('2001:db8:64:c:c0:2:a00:0');
    const bad = await cli(['synth', '2001:db8::/80', '192.0.2.10']);
    expect([bad.exitCode, bad.stderr.trim()]).toEqual([
      65,
      '"2001:db8::/80": prefix length /80 is not one of /32 /40 /48 /56 /64 /96 (RFC 6052)',
    ]);
  });
});

describe('daemon, include mode', () => {
  let named: NamedInstance;
  let daemon: DaemonProcess;
  let cfg: { file: string; state: string };
  let opts: ConfigOptions;

  beforeAll(async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    named = await startNamed({ netns: ns, listen: NAMED_ADDR, mode: 'include' });
    opts = { prefixes: [A, B, C, DEAD], named };
    cfg = await writeConfig(opts);
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-include.log'));
  });
  afterAll(async () => {
    await daemon?.stop();
    await named?.stop();
  });

  let active: string[] = [];
  it('serves exactly the selected prefixes (max_active of the healthy ones) after one apply', async () => {
    const state = await waitFor('two active prefixes', async () => {
      const s = await readState(cfg.state).catch(() => null);
      return s && s.active.length === 2 && s;
    });
    active = state.active;
    expect(active).not.toContain(DEAD);
    expect(await named.aaaa('www.example.test')).toEqual(active.map(www).sort());
    expect(await daemon.count(/^applied to local$/)).toBe(1);
  });

  it('status reads the state file: a table, or JSON', async () => {
    const table = await cli(['status', '-c', cfg.file]);
    expect(table.exitCode, table.stderr).toBe(0);
    for (const p of active)
      expect(table.stdout).toMatch(new RegExp(`${p.replace(/[/.]/g, '\\$&')}.*\\bup\\b.*\\bactive\\b`));
    expect(table.stdout).toMatch(new RegExp(`${DEAD.replace(/[/.]/g, '\\$&')}.*\\bdown\\b`));
    const json = JSON.parse((await cli(['status', '-c', cfg.file, '--json'])).stdout) as { active: string[] };
    expect(json.active).toEqual(active);
    const missing = await cli(['status', '-c', (await writeConfig({ prefixes: [A], named })).file]);
    expect([missing.exitCode, missing.stderr]).toEqual([
      3,
      expect.stringMatching(/no state file at .*: is the daemon running\?/),
    ]);
  });

  it('writes and reloads nothing while nothing changes', async () => {
    const before = await stat(named.includeFile);
    const round = (await readState(cfg.state)).round;
    await waitFor('five more rounds', async () => (await readState(cfg.state)).round >= round + 5);
    expect((await stat(named.includeFile)).mtimeMs).toBe(before.mtimeMs);
    expect(await daemon.count(/^applied to local$/)).toBe(1);
  });

  let dead: string;
  it('replaces a prefix whose NAT64 dies, with one apply, and drains it (PTR still answered)', async () => {
    dead = active[0]!;
    const spare = [A, B, C].find((p) => !active.includes(p))!;
    await setPrefixAlive(ns, dead, false);
    await waitFor('the dead prefix to leave the answers', async () => {
      const answers = await named.aaaa('www.example.test');
      return !answers.includes(www(dead)) && answers.includes(www(spare));
    });
    expect(await named.aaaa('www.example.test')).toEqual([active[1]!, spare].map(www).sort());
    expect(await daemon.count(/^applied to local$/)).toBe(2);
    const s = await readState(cfg.state);
    expect(s.draining).toEqual([dead]);
    expect(await readFile(named.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${dead.replace(/[/.]/g, '\\$&')} \\{\\n\\t// .* is draining.*\\n\\tclients \\{ none; \\};`),
    );
    const ptr = await named.reverse(www(dead));
    expect(ptr.status).toBe('NOERROR');
    expect(ptr.answers.join('\n')).toMatch(/CNAME\s+10\.2\.0\.192\.in-addr\.arpa\./);
    const logs = await daemon.logs();
    expect(logs.find((l) => l.msg === `prefix ${dead} is down`)).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/2 bad rounds in a row/) as unknown,
    });
    expect(logs.find((l) => l.msg === `prefix ${dead} deactivated`)).toMatchObject({
      reason: 'prefix is down; draining',
    });
  });

  it('a healed prefix comes back up but stays out of a full, stable set', async () => {
    await setPrefixAlive(ns, dead, true);
    await waitFor('the healed prefix to be up', async () =>
      (await daemon.logs()).some((l) => l.msg === `prefix ${dead} is up`),
    );
    expect(await daemon.count(/^applied to local$/)).toBe(2);
    expect((await readState(cfg.state)).active).not.toContain(dead);
  });

  it('rejects a config with a bad prefix on hot reload and keeps running on the old one', async () => {
    const good = await readFile(cfg.file, 'utf8');
    const before = await named.aaaa('www.example.test');
    await writeFile(cfg.file, good.replace(`  - ${DEAD}`, '  - 2001:db8:64:d::1/96'));
    await waitFor('the rejection', async () => (await readState(cfg.state)).last_config_reload?.ok === false);
    const rejected = (await daemon.logs()).find((l) => l.msg.startsWith('new configuration rejected'))!;
    expect(rejected.error).toMatch(
      new RegExp(`${cfg.file}:\\d+:\\d+: prefixes\\[3\\]\\.prefix: .*bits beyond /96 are set`),
    );
    const round = (await readState(cfg.state)).round;
    await waitFor('more rounds', async () => (await readState(cfg.state)).round >= round + 3);
    expect(await named.aaaa('www.example.test')).toEqual(before);
    await writeFile(cfg.file, good);
    await waitFor('the good config again', async () => (await readState(cfg.state)).last_config_reload?.ok === true);
  });

  it('rejects a broken template on hot reload; named keeps its config', async () => {
    const good = await readFile(cfg.file, 'utf8');
    const before = await readFile(named.includeFile, 'utf8');
    const tpl = path.join(dir, 'broken.hbs');
    await writeFile(tpl, '{{#each prefixes}}\ndns64 {{prefix}} { };\n{{/if}}\n');
    await writeFile(cfg.file, configText({ ...opts, template: tpl }, cfg.state));
    await waitFor('the rejection', async () => (await readState(cfg.state)).last_config_reload?.ok === false);
    const rejected = (await daemon.logs()).filter((l) => l.msg.startsWith('new configuration rejected')).at(-1)!;
    expect(rejected.error).toMatch(/broken\.hbs:\d+: template: /);
    expect(await readFile(named.includeFile, 'utf8')).toBe(before);
    await writeFile(cfg.file, good);
    await waitFor('the good config again', async () => (await readState(cfg.state)).last_config_reload?.ok === true);
  });

  it('drains a prefix removed from the config: no more AAAA, PTR still answered', async () => {
    const removed = (await readState(cfg.state)).active[0]!;
    const text = await readFile(cfg.file, 'utf8');
    await writeFile(cfg.file, text.replace(`  - ${removed}\n`, ''));
    await waitFor(
      'the removed prefix to leave the answers',
      async () => !(await named.aaaa('www.example.test')).includes(www(removed)),
    );
    expect(await readFile(named.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${removed.replace(/[/.]/g, '\\$&')} \\{\\n\\t// .* is draining.*\\n\\tclients \\{ none; \\};`),
    );
    const ptr = await named.reverse(www(removed));
    expect([ptr.status, ptr.answers.join('\n')]).toEqual([
      'NOERROR',
      expect.stringMatching(/CNAME\s+10\.2\.0\.192\.in-addr\.arpa\./),
    ]);
    expect((await daemon.logs()).find((l) => l.msg === `prefix ${removed} deactivated`)).toMatchObject({
      reason: 'no longer configured; draining',
    });
  });
});

describe('daemon, failures never reach named', () => {
  let named: NamedInstance;
  let daemon: DaemonProcess | undefined;
  beforeAll(async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    named = await startNamed({
      netns: ns,
      listen: NAMED_ADDR,
      mode: 'include',
      dns64: `dns64 ${A} { clients { any; }; };\n`,
    });
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });
  afterAll(async () => named?.stop());

  it('a template that named-checkconf rejects never reaches the live file', async () => {
    const tpl = path.join(dir, 'bad-bind.hbs');
    await writeFile(tpl, '{{#each prefixes}}dns64 {{prefix}} { no-such-option yes; };\n{{/each}}');
    const cfg = await writeConfig({ prefixes: [B, C], named, template: tpl });
    const before = await readFile(named.includeFile, 'utf8');
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-badbind.log'));
    const s = await waitFor('a failed apply', async () => {
      const st = await readState(cfg.state).catch(() => null);
      return st?.targets[0]?.last_apply?.result === 'failed' && st;
    });
    expect(s.targets[0]!.last_apply).toMatchObject({
      stage: 'validate',
      error: expect.stringMatching(/no-such-option/) as unknown,
    });
    expect(await readFile(named.includeFile, 'utf8')).toBe(before);
    await named.reconfig();
    expect(await named.aaaa('www.example.test')).toEqual([www(A)]);
  });

  it('a failing rndc: the previous file is restored and named keeps answering with the old set', async () => {
    // named answers but refuses the command (a key it does not know); a control channel where
    // nothing answers is another case: named is not running (faults.test.ts)
    const wrongKey = path.join(dir, 'wrong-rndc.key');
    await execa('rndc-confgen', ['-a', '-c', wrongKey]);
    const cfg = await writeConfig({
      prefixes: [B, C],
      named,
      reload: ['rndc', '-k', wrongKey, '-s', '127.0.0.1', '-p', String(named.controlPort), 'reconfig'],
    });
    const before = await readFile(named.includeFile, 'utf8');
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-badrndc.log'));
    const s = await waitFor('a failed apply', async () => {
      const st = await readState(cfg.state).catch(() => null);
      return st?.targets[0]?.last_apply?.result === 'failed' && st;
    });
    expect(s.targets[0]!.last_apply).toMatchObject({ stage: 'reload', rolled_back: true });
    expect(await readFile(named.includeFile, 'utf8')).toBe(before);
    expect(await named.aaaa('www.example.test')).toEqual([www(A)]);
    // it retries with backoff rather than every round (rounds are 400 ms apart): the log's own
    // times, not a sleep of the test, show the pause, so a slow apply cannot fail it
    const failures = await waitFor('a second failed apply', async () => {
      const f = (await daemon!.logs()).filter(
        (l) => l.msg === 'apply to local failed; BIND keeps its previous configuration',
      );
      return f.length >= 2 && f;
    });
    expect(failures.slice(0, 2).map((f) => f.retry_in_ms)).toEqual([1000, 2000]);
    const apart = Date.parse(String(failures[1]!.time)) - Date.parse(String(failures[0]!.time));
    expect(apart).toBeGreaterThanOrEqual(1000);
  });

  it('SIGHUP re-reads the config (with the file watcher off)', async () => {
    const cfg = await writeConfig({ prefixes: [A, B, C], named, maxActive: 1 });
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-hup.log'), ['--no-watch']);
    await waitFor('one active', async () => (await readState(cfg.state).catch(() => null))?.active.length === 1);
    await writeFile(cfg.file, configText({ prefixes: [A, B, C], named, maxActive: 3 }, cfg.state));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await readState(cfg.state)).active).toHaveLength(1);
    daemon.signal('SIGHUP');
    await waitFor('three active', async () => (await readState(cfg.state)).active.length === 3);
    expect((await named.aaaa('www.example.test')).sort()).toEqual([A, B, C].map(www).sort());
  });

  it('--dry-run decides and logs but never writes or reloads', async () => {
    const cfg = await writeConfig({ prefixes: [B, C], named });
    const before = await stat(named.includeFile);
    const answers = await named.aaaa('www.example.test');
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-dry.log'), ['--dry-run']);
    const line = await waitFor('the dry-run line', async () =>
      (await daemon!.logs()).find((l) => l.msg === 'dry run: would apply to local'),
    );
    expect(line.text).toMatch(/dns64 2001:db8:64:b::\/96/);
    expect((await stat(named.includeFile)).mtimeMs).toBe(before.mtimeMs);
    expect(await named.aaaa('www.example.test')).toEqual(answers);
    expect(answers).not.toEqual([B, C].map(www).sort());
  });

  it('after a restart with every probe failing, keeps the set it served before (not the static set)', async () => {
    const cfg = await writeConfig({ prefixes: [A, B, C], named, maxActive: 1 });
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-restart-1.log'));
    const first = await waitFor('one active', async () => {
      const s = await readState(cfg.state).catch(() => null);
      return s?.active.length === 1 && s.targets[0]?.last_apply?.result === 'applied' && s.active[0];
    });
    await daemon.stop();
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, false);
    try {
      daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-restart-2.log'));
      const s = await waitFor('the fail-safe', async () => {
        const st = await readState(cfg.state);
        return st.failsafe && st;
      });
      expect(s.active).toEqual([first]);
      expect(await named.aaaa('www.example.test')).toEqual([www(first)]);
      const logs = await daemon.logs();
      expect(logs.find((l) => l.msg === 'restored the previous active set from the state file')).toMatchObject({
        active: [first],
      });
      expect(logs.some((l) => l.level === 'error' && l.msg.startsWith('FAIL-SAFE'))).toBe(true);
      expect(logs.some((l) => l.msg === 'applied to local')).toBe(false);
    } finally {
      for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    }
  });

  it('a drain survives a restart, also for a prefix removed from the config', async () => {
    const cfg = await writeConfig({ prefixes: [A, B, C], named, maxActive: 1 });
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-drain-restart-1.log'));
    // (named may already serve that set from an earlier test: then the apply is 'unchanged')
    const first = await waitFor('one active and served', async () => {
      const s = await readState(cfg.state).catch(() => null);
      return (
        s?.active.length === 1 &&
        (await readFile(named.includeFile, 'utf8')).includes(`dns64 ${s.active[0]} {`) &&
        s.active[0]
      );
    });
    await writeFile(cfg.file, (await readFile(cfg.file, 'utf8')).replace(`  - ${first}\n`, ''));
    await waitFor('the removed prefix draining', async () => (await readState(cfg.state)).draining.includes(first));
    const served = await readFile(named.includeFile, 'utf8');
    await daemon.stop();
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-drain-restart-2.log'));
    await waitFor(
      'a few rounds',
      async () =>
        ((await readState(cfg.state)).round >= 3 && (await readState(cfg.state)).pid === daemon!.child.pid) || false,
    );
    expect((await readState(cfg.state)).draining).toEqual([first]);
    expect(await readFile(named.includeFile, 'utf8')).toBe(served);
    expect((await daemon.logs()).some((l) => l.msg === 'applied to local')).toBe(false);
    expect((await named.reverse(www(first))).status).toBe('NOERROR');
  });

  it('deduplicates prefixes written differently, so rndc reconfig does not fail with "already exists"', async () => {
    const cfg = await writeConfig({ prefixes: [A, '2001:DB8:64:A:0::/96', B], named, maxActive: 3 });
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-dup.log'));
    await waitFor(
      'applied',
      async () => (await readState(cfg.state).catch(() => null))?.targets[0]?.last_apply?.result === 'applied',
    );
    expect((await readFile(named.includeFile, 'utf8')).match(/^dns64 /gm)).toHaveLength(2);
    expect((await daemon.logs()).some((l) => l.level === 'warn' && /is already listed/.test(l.msg))).toBe(true);
  });
});

describe('daemon, block mode', () => {
  let named: NamedInstance;
  let daemon: DaemonProcess;
  afterAll(async () => {
    await daemon?.stop();
    await named?.stop();
  });

  it('manages only its block inside options in named.conf.options', async () => {
    for (const p of [A, B, C]) await setPrefixAlive(ns, p, true);
    named = await startNamed({ netns: ns, listen: NAMED_ADDR, mode: 'block' });
    const original = await readFile(named.optionsConf, 'utf8');
    const cfg = await writeConfig({ prefixes: [A, DEAD], named, mode: 'block' });
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-block.log'));
    await waitFor('the block to be served', async () => (await named.aaaa('www.example.test')).includes(www(A)));
    const text = await readFile(named.optionsConf, 'utf8');
    const begin = text.indexOf('\t// BEGIN nat64-health');
    const end = text.indexOf('// END nat64-health managed block\n') + '// END nat64-health managed block\n'.length;
    expect(text.slice(0, begin) + text.slice(end)).toBe(original);
    expect(text.slice(begin, end)).toContain(`dns64 ${A} {`);
    expect(await named.aaaa('www.example.test')).toEqual([www(A)]);
  });
});
