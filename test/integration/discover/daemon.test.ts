/**
 * Discovered prefixes (RFC 7050) end to end: the real daemon and the one-shot commands ask a real
 * named (the "ISP's DNS64", serving ipv4only.arpa with its own dns64 prefixes, a /96 and a /64) and
 * probe, select and render what it answers like configured prefixes, in a network namespace with
 * the NAT64 paths simulated (daemon-fixture.ts). Then the ISP's set changes, it stops answering,
 * and resolvers that answer garbage, no well-known address or nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../support/netns.js';
import { startWorld, type World } from '../../support/world.js';
import { startNamed, type NamedInstance } from '../../support/named.js';
import { startBadDns64 } from '../../support/bad-dns64.js';
import {
  CLI,
  configText,
  DaemonProcess,
  readFile,
  readState,
  waitFor,
  writeFile,
  www,
} from '../../support/daemon-fixture.js';
import { E } from '../../support/prefixes.js';

const A = '2001:db8:64:a::/96'; // configured, and also discovered
const F = '2001:db8:65:1::/64';
const G = '2001:db8:66::/96';
const NAMED_ADDR = '2001:db8:53::1';
const ISP_ADDR = '2001:db8:53::2';
const BAD_ADDR = '2001:db8:53::3';
const dns64 = (prefixes: string[]) => prefixes.map((p) => `dns64 ${p} { clients { any; }; };\n`).join('');
const esc = (s: string) => s.replace(/[/.[\]]/g, '\\$&');

interface State {
  active: string[];
  draining: string[];
  prefixes: Array<{ prefix: string; name: string; group: string | null; discovered_from?: string | null }>;
  discovery?: Array<{
    source: string;
    prefixes: string[];
    answered_at?: string | null;
    error: string | null;
    kept_until: string | null;
  }>;
}

let ns: Netns;
let dir: string;
let named: NamedInstance;
let isp: NamedInstance;

let world: World;

beforeAll(async () => {
  world = await startWorld('discover', { alive: [A, E, F, G], named: NAMED_ADDR });
  ({ ns, dir } = world);
  named = world.named!;
  isp = await startNamed({ netns: ns, listen: ISP_ADDR, mode: 'include', dns64: dns64([A, E, F]) });
});

afterAll(async () => {
  await isp?.stop();
  await world?.stop();
});

const source = () => `[${ISP_ADDR}]:${isp.port}`;
const discoverEntry = (keep = '1h') =>
  `{ discover: { server: "${ISP_ADDR}", port: ${isp.port}, min_refresh: 1s, max_refresh: 1s, keep: ${keep} }, ` +
  'group: isp, name: isp }';

let n = 0;
/** `state`: the state file (absent: a new one), so that a reloaded config keeps the daemon's */
async function writeConfig(prefixes: string[], file?: string, extra?: string, state?: string) {
  n++;
  const stateFile = state ?? path.join(dir, `state-${n}.json`);
  const f = file ?? path.join(dir, `config-${n}.yaml`);
  await writeFile(f, configText({ prefixes, named, maxActive: 3, extra }, stateFile));
  return { file: f, state: stateFile };
}

const LISTEN = '127.0.0.1:9464';
/** The daemon's /metrics or status page, fetched inside the namespace. */
async function curl(urlPath: string): Promise<string> {
  const r = await ns.run(['curl', '-sS', '--max-time', '5', `http://${LISTEN}${urlPath}`], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`curl ${urlPath}: ${r.stderr}`);
  return r.stdout;
}
/** One sample of the daemon's metrics, by name and its one label `source`. */
async function metric(name: string, src: string): Promise<number | undefined> {
  const line = (await curl('/metrics')).split('\n').find((l) => l.startsWith(`${name}{source="${src}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const cli = (args: string[]) => ns.run(['node', CLI, ...args], { timeoutMs: 20_000 });
const state = async (file: string) => (await readState(file)) as unknown as State;

describe('one-shot commands discover once, before their round', () => {
  it('check probes the discovered prefixes; render renders them; validate counts them', async () => {
    const { file } = await writeConfig([A, discoverEntry()]);
    const check = await cli(['check', '-c', file, '--json']);
    expect(check.exitCode, check.stderr).toBe(0);
    const rows = (JSON.parse(check.stdout) as { prefixes: Array<Record<string, unknown>> }).prefixes;
    expect(rows.map((r) => [r.prefix, r.name, r.group, r.discovered_from, r.healthy])).toEqual([
      [A, A, null, source(), true],
      [E, 'isp-1', 'isp', source(), true],
      [F, 'isp-2', 'isp', source(), true],
    ]);
    const render = await cli(['render', '-c', file]);
    expect(render.exitCode, render.stderr).toBe(0);
    for (const p of [A, E, F]) expect(render.stdout).toMatch(new RegExp(`dns64 ${esc(p)} \\{`));
    const validate = await cli(['validate', '-c', file]);
    expect(validate.stdout).toMatch(/3 prefixes \(3 discovered from 1 source\), 3 probe targets/);
  });

  it('a discovery server that does not answer: said on stderr, the round runs on the configured prefixes', async () => {
    const { file } = await writeConfig([
      A,
      `{ discover: { server: "${ISP_ADDR}", port: ${isp.port + 1}, timeout: 200ms }, name: gone }`,
    ]);
    const render = await cli(['render', '-c', file]);
    expect(render.exitCode).toBe(0);
    expect(render.stderr).toMatch(/WARN {2}discovery from \[2001:db8:53::2\]:\d+ failed .*error=/);
    expect(render.stdout).toMatch(new RegExp(`dns64 ${esc(A)} \\{`));
    expect(render.stdout).not.toMatch(new RegExp(esc(E)));
  });
});

describe('the daemon with a discover entry', () => {
  let daemon: DaemonProcess;
  let cfg: { file: string; state: string };
  beforeAll(async () => {
    cfg = await writeConfig([A, discoverEntry()], undefined, `http: { listen: "${LISTEN}" }\n`);
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon.log'));
  });
  afterAll(async () => daemon?.stop());
  const logTail = async () =>
    (await readFile(daemon.logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');

  it('probes, selects and renders the discovered ones; a prefix both configured and discovered is one', async () => {
    const s = await waitFor(
      'the discovered prefixes active',
      async () => {
        const st = await state(cfg.state).catch(() => null);
        return st && st.active.length === 3 && st;
      },
      15_000,
      100,
      logTail,
    );
    expect(s.active).toEqual([A, E, F]);
    expect(s.prefixes.map((p) => [p.prefix, p.name, p.group, p.discovered_from])).toEqual([
      [A, A, null, source()],
      [E, 'isp-1', 'isp', source()],
      [F, 'isp-2', 'isp', source()],
    ]);
    expect(s.discovery).toEqual([
      expect.objectContaining({ source: source(), prefixes: [A, E, F].sort(), error: null, kept_until: null }),
    ]);
    // named (the managed one) hands clients addresses under the discovered prefixes
    expect(await named.aaaa('www.example.test')).toEqual([A, E, F].map(www).sort());
    const status = await cli(['status', '-c', cfg.file]);
    expect(status.stdout).toMatch(
      new RegExp(`discovered from ${esc(source())} \\(isp\\): ${esc([A, E, F].sort().join(', '))}; answered`),
    );
    expect((await daemon.logs()).find((l) => l.msg === `discovered prefixes from ${source()}`)).toMatchObject({
      level: 'info',
      appeared: [A, E, F].sort(),
      disappeared: [],
    });
    // the metrics and the status page say the same
    expect(await metric('nat64_health_discovery_prefixes', source())).toBe(3);
    expect(await metric('nat64_health_discovery_last_query_ok', source())).toBe(1);
    const answered = await metric('nat64_health_discovery_last_answer_timestamp_seconds', source());
    expect(Math.abs(answered! - Date.parse((await state(cfg.state)).discovery![0]!.answered_at!) / 1000)).toBeLessThan(
      5,
    );
    expect(await metric('nat64_health_discovery_kept_until_timestamp_seconds', source())).toBeUndefined();
    const page = await curl('/');
    expect(page).toContain(
      `<tr class="discovery" data-source="${source()}" data-discovery="answering" data-prefixes="3">`,
    );
  });

  it("the ISP's dns64 set changes: after re-discovery the new prefix is active, the gone one drains", async () => {
    await writeFile(isp.includeFile, dns64([A, E, G]));
    await isp.reconfig();
    const s = await waitFor(
      'G active, F draining',
      async () => {
        const st = await state(cfg.state);
        return st.active.includes(G) && st.draining.includes(F) && st;
      },
      15_000,
      100,
      logTail,
    );
    expect(s.active).toEqual([A, E, G]);
    const aaaa = await named.aaaa('www.example.test');
    expect(aaaa).toEqual([A, E, G].map(www).sort());
    expect(await readFile(named.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${esc(F)} \\{[^}]*clients \\{ none; \\}`),
    );
    const line = (await daemon.logs()).filter((l) => l.msg === `discovered prefixes from ${source()}`).at(-1);
    expect(line).toMatchObject({ appeared: [G], disappeared: [F] });
    expect(await daemon.count(new RegExp(`^prefix ${esc(F)} deactivated$`))).toBe(1);
  });

  it('the ISP stops answering: a warning, and the last set is kept (nothing applied)', async () => {
    const applies = await daemon.count(/^applied to local$/);
    const text = await readFile(named.includeFile, 'utf8');
    await isp.stop();
    const warn = await waitFor('a discovery warning', async () =>
      (await daemon.logs()).find((l) => l.level === 'warn' && l.msg.startsWith(`discovery from ${source()} failed`)),
    );
    expect(warn.msg).toMatch(/keeping the last set until 20\d\d-/);
    expect(String(warn.error)).toMatch(/ECONNREFUSED|no answer/);
    const round = (await readState(cfg.state)).round;
    await waitFor('three more rounds', async () => (await readState(cfg.state)).round >= round + 3);
    const s = await state(cfg.state);
    expect(s.active).toEqual([A, E, G]);
    expect(s.discovery?.[0]?.prefixes).toEqual([A, E, G].sort());
    expect(s.discovery?.[0]?.kept_until).toMatch(/^20\d\d-/);
    expect(s.discovery?.[0]?.error).toMatch(/ECONNREFUSED|no answer/);
    expect(await daemon.count(/^applied to local$/)).toBe(applies);
    expect(await readFile(named.includeFile, 'utf8')).toBe(text);
    expect(await metric('nat64_health_discovery_last_query_ok', source())).toBe(0);
    expect(await metric('nat64_health_discovery_prefixes', source())).toBe(3);
    expect(await metric('nat64_health_discovery_kept_until_timestamp_seconds', source())).toBe(
      Date.parse(s.discovery![0]!.kept_until!) / 1000,
    );
    expect(await curl('/')).toMatch(/data-discovery="kept" data-prefixes="3">[^]*?; last set kept until/);
  });

  it('a restart while the ISP does not answer: the set from the state file is kept, BIND unchanged', async () => {
    const text = await readFile(named.includeFile, 'utf8');
    await daemon.stop();
    daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-restarted.log'));
    const s = await waitFor(
      'the first round after the restart',
      async () => {
        const st = await readState(cfg.state);
        // the new daemon's state file (ip netns exec execs node: the same pid)
        return st.pid === daemon.child.pid && st.round >= 1 && st;
      },
      15_000,
      100,
      logTail,
    );
    expect(s.round).toBeGreaterThanOrEqual(1);
    expect(await daemon.count(/^discovery from .* failed; keeping the last set until/)).toBeGreaterThan(0);
    const st = await state(cfg.state);
    expect(st.active).toEqual([A, E, G]);
    expect(st.draining).toEqual([F]);
    expect(await readFile(named.includeFile, 'utf8')).toBe(text);
  });

  it('past `keep` (here after a config reload makes it 2s) the discovered prefixes leave and drain', async () => {
    // one write of the watched file: two could each be taken as a whole config on a slow machine
    await writeConfig([A, discoverEntry('2s')], cfg.file, undefined, cfg.state);
    const s = await waitFor(
      'only A active',
      async () => {
        const st = await state(cfg.state);
        return st.active.length === 1 && st;
      },
      15_000,
      100,
      logTail,
    );
    expect(s.active).toEqual([A]);
    expect(s.draining.sort()).toEqual([E, F, G].sort());
    expect(await named.aaaa('www.example.test')).toEqual([www(A)]);
    expect((await daemon.logs()).some((l) => /no longer kept, its prefixes leave \(they drain\)/.test(l.msg))).toBe(
      true,
    );
  });
});

describe('discovery servers that answer wrongly', () => {
  it('garbage, no well-known address, no answer: a warning each; BIND serves the configured prefix only', async () => {
    const bad = await startBadDns64(ns, BAD_ADDR, [
      { port: 5301, mode: 'garbage' },
      { port: 5302, mode: 'no-well-known' },
      { port: 5303, mode: 'silent' },
    ]);
    const entry = (port: number, name: string) =>
      `{ discover: { server: "${BAD_ADDR}", port: ${port}, timeout: 200ms, min_refresh: 1s }, name: ${name} }`;
    const cfg = await writeConfig([A, entry(5301, 'garbage'), entry(5302, 'nowka'), entry(5303, 'silent')]);
    const daemon = DaemonProcess.start(ns, cfg.file, path.join(dir, 'daemon-bad.log'));
    try {
      const warnings = await waitFor('three discovery warnings', async () => {
        const w = (await daemon.logs()).filter((l) => l.level === 'warn' && /^discovery from/.test(l.msg));
        return new Set(w.map((l) => l.source)).size === 3 && w;
      });
      const errorOf = (port: number) => String(warnings.find((w) => w.source === `[${BAD_ADDR}]:${port}`)?.error);
      expect(errorOf(5301)).toMatch(/no usable answer \(it sent 17 bytes that are not a DNS message\)/);
      expect(errorOf(5302)).toMatch(/neither 192\.0\.0\.170 nor 192\.0\.0\.171/);
      expect(errorOf(5303)).toMatch(/^no answer from \[2001:db8:53::3\]:5303 for ipv4only\.arpa AAAA within 200 ms/);
      const s = await waitFor('A active', async () => {
        const st = await state(cfg.state);
        return st.active.length === 1 && st;
      });
      expect(s.active).toEqual([A]);
      expect(s.prefixes.map((p) => p.prefix)).toEqual([A]);
      expect(s.discovery?.map((d) => [d.prefixes, d.error !== null])).toEqual([
        [[], true],
        [[], true],
        [[], true],
      ]);
      expect(await named.aaaa('www.example.test')).toEqual([www(A)]);
    } finally {
      await daemon.stop();
      await bad.stop();
    }
  });
});
