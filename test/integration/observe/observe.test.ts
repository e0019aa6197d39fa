/**
 * Observability end to end: the real daemon (built CLI) in a network namespace with a real named,
 * two live simulated NAT64 prefixes and a dead one; /metrics scraped and checked against the known
 * probe outcomes; the status page loaded in headless Chromium (also inside the namespace, so it
 * cannot reach any network) with a screenshot kept in test-artifacts/; the status command; the
 * logs; bad requests; a taken port.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor as waitForAny } from '../../support/wait.js';
import { parsePrefix, synthesize } from '../../../src/lib/prefix.js';
import { terminate, type Netns } from '../../support/netns.js';
import { checkMetrics, promtoolMissing } from '../../support/prometheus.js';
import { itWith } from '../../support/real-parts.js';
import { startWorld, type World } from '../../support/world.js';
import { readLogLines } from '../../support/daemon-fixture.js';
import { bindSectionYaml, type NamedInstance } from '../../support/named.js';
import { sample } from '../../support/observe-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'bin/nat64-health.js');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

const A = '2001:db8:64:a::/96'; // live, group east
const B = '2001:db8:64:b::/96'; // dead (no addresses), group east
const C = '2001:db8:64:c::/96'; // live, group west
const NAMED_ADDR = '2001:db8:53::1';
const WWW = '192.0.2.10';
const DNS_TARGET = '198.51.100.10';
const LISTEN = '127.0.0.1:9464';
const BASE = `http://${LISTEN}`;

let ns: Netns;
let named: NamedInstance;
let world: World;
let dir: string;
let configFile: string;
let configText: string;
let stateFile: string;
let logFile: string;
let daemon: ChildProcess;
const testStart = Date.now();

interface Reply {
  status: number;
  headers: string;
  body: string;
}

/** An HTTP request from inside the namespace (the daemon's loopback is the namespace's). */
async function http(urlPath: string, curlArgs: string[] = []): Promise<Reply> {
  const r = await ns.run(['curl', '-sS', '-i', '--max-time', '5', ...curlArgs, `${BASE}${urlPath}`], {
    timeoutMs: 10_000,
  });
  if (r.exitCode !== 0) throw new Error(`curl ${urlPath} failed (${r.exitCode}): ${r.stderr}`);
  const split = r.stdout.indexOf('\r\n\r\n');
  const headers = r.stdout.slice(0, split);
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1]), headers, body: r.stdout.slice(split + 4) };
}

async function metrics(): Promise<string> {
  const r = await http('/metrics');
  expect(r.status).toBe(200);
  return r.body;
}

interface LogLine {
  time: string;
  level: string;
  msg: string;
  reason?: string;
  [k: string]: unknown;
}

const logs = () => readLogLines<LogLine>(logFile);

function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const tail = async () =>
    `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  return waitForAny(what, fn, timeoutMs, 100, tail);
}

async function state(): Promise<{
  round: number;
  updated_at: string;
  active: string[];
  prefixes: Array<{ prefix: string; status: string }>;
} | null> {
  return JSON.parse(await readFile(stateFile, 'utf8')) as Awaited<ReturnType<typeof state>>;
}

function config(): string {
  return `prefixes:
  - { prefix: "${A}", name: gw-a, group: east }
  - { prefix: "${B}", name: gw-b, group: east }
  - { prefix: "${C}", name: gw-c, group: west }
probes:
  - { type: tcp, address: ${WWW}, port: 80 }
  - { type: http, address: ${WWW}, port: 8080, path: /health }
  - { type: dns, address: ${DNS_TARGET}, port: 5353, name: probe.example.test }
health: { interval: 500ms, fast_interval: 250ms, timeout: 300ms, rise: 2, fall: 2 }
select: { groups: [east, west], min_active: 2, max_active: 3, drain: 1h }
${bindSectionYaml(named)}state_file: ${stateFile}
http:
  listen: ${LISTEN}
`;
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/observe/observer.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  world = await startWorld('observe', { alive: [A, C], named: NAMED_ADDR });
  ({ ns, dir } = world);
  named = world.named!;
  configFile = path.join(dir, 'config.yaml');
  stateFile = path.join(dir, 'state.json');
  logFile = path.join(dir, 'daemon.log');
  configText = config();
  await writeFile(configFile, configText);
  daemon = ns.spawn([process.execPath, CLI, 'run', '-c', configFile, '--log-format', 'json', '--log-level', 'debug'], {
    logFile,
  });
  // Settled: both live prefixes active, the dead one down, and enough rounds for a chart.
  await waitFor('the first rounds', async () => {
    const s = await state().catch(() => null);
    return (
      s &&
      s.round >= 6 &&
      s.active.join() === [A, C].join() &&
      s.prefixes.find((p) => p.prefix === B)?.status === 'down'
    );
  });
}, 90_000);

afterAll(async () => {
  if (daemon) await terminate(daemon);
  await world?.stop();
  if (dir && !process.env.NH_KEEP_TMP) await rm(dir, { recursive: true, force: true });
});

describe('GET /metrics during a live run', () => {
  it('matches the known probe outcomes: the dead prefix is down and not active', async () => {
    const text = await metrics();
    for (const p of [A, C]) {
      expect(sample(text, 'nat64_health_prefix_up', { prefix: p }), p).toBe(1);
      expect(sample(text, 'nat64_health_prefix_active', { prefix: p }), p).toBe(1);
      expect(sample(text, 'nat64_health_prefix_state', { prefix: p, state: 'up' })).toBe(1);
      for (const type of ['tcp', 'http', 'dns']) {
        expect(
          sample(text, 'nat64_health_probe_results_total', { prefix: p, type, outcome: 'ok' }),
          `${p} ${type}`,
        ).toBeGreaterThanOrEqual(6);
      }
      expect(sample(text, 'nat64_health_prefix_latency_seconds_count', { prefix: p })).toBeGreaterThanOrEqual(6);
      expect(sample(text, 'nat64_health_prefix_smoothed_latency_seconds', { prefix: p })).toBeGreaterThan(0);
      expect(sample(text, 'nat64_health_prefix_smoothed_latency_seconds', { prefix: p })).toBeLessThan(0.3);
    }
    expect(sample(text, 'nat64_health_prefix_up', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_active', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_draining', { prefix: B })).toBe(0);
    expect(sample(text, 'nat64_health_prefix_state', { prefix: B, state: 'down' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_info', { prefix: B, name: 'gw-b', group: 'east' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_latency_seconds_count', { prefix: B })).toBeUndefined();
    for (const type of ['tcp', 'http', 'dns']) {
      // no route to the dead prefix inside the namespace: every probe fails at once
      expect(sample(text, 'nat64_health_probe_results_total', { prefix: B, type, outcome: 'ok' }), type).toBe(0);
      expect(
        sample(text, 'nat64_health_probe_results_total', { prefix: B, type, outcome: 'unreachable' }),
        type,
      ).toBeGreaterThanOrEqual(6);
    }
    expect(sample(text, 'nat64_health_prefix_state_changes_total', { prefix: B, state: 'down' })).toBe(1);
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: A, change: 'activated' })).toBe(1);
    expect(sample(text, 'nat64_health_failsafe')).toBe(0);
    expect(sample(text, 'nat64_health_active_prefixes')).toBe(2);
    expect(sample(text, 'nat64_health_rounds_total')).toBeGreaterThanOrEqual(6);
  });

  it('applies and reloads by result, the last successful apply, the target state', async () => {
    const text = await metrics();
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'applied' })).toBe(1);
    expect(sample(text, 'nat64_health_applies_total', { target: 'local', result: 'failed' })).toBe(0);
    expect(sample(text, 'nat64_health_reloads_total', { target: 'local', result: 'success' })).toBe(1);
    expect(sample(text, 'nat64_health_reloads_total', { target: 'local', result: 'failure' })).toBe(0);
    const at = sample(text, 'nat64_health_last_successful_apply_timestamp_seconds', { target: 'local' })!;
    expect(at * 1000).toBeGreaterThanOrEqual(testStart - 1000);
    expect(at * 1000).toBeLessThanOrEqual(Date.now());
    expect(sample(text, 'nat64_health_target_last_apply_success', { target: 'local' })).toBe(1);
    expect(sample(text, 'nat64_health_target_in_sync', { target: 'local' })).toBe(1);
    // and BIND really serves that set
    expect(await named.aaaa('www.example.test')).toEqual(
      [synthesize(parsePrefix(A), WWW), synthesize(parsePrefix(C), WWW)].sort(),
    );
  });

  it("has prom-client's process metrics and the standard text format", async () => {
    const r = await http('/metrics');
    expect(r.headers).toMatch(/^content-type: text\/plain; version=0\.0\.4; charset=utf-8\r?$/im);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(r.body).toMatch(new RegExp(`^${name} [\\d.e+-]+$`, 'm'));
    }
    for (const line of r.body.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][\w:]*(\{[^}]*\})? (-?[\d.e+-]+|NaN|[+-]Inf)$/);
    }
  });

  itWith(promtoolMissing())("promtool check metrics finds nothing wrong in the live daemon's /metrics", async () => {
    const r = await http('/metrics');
    expect(await checkMetrics(r.body)).toEqual({ exitCode: 0, said: '' });
  });

  it('counts config reloads by result (a broken edit is rejected, the fix accepted)', async () => {
    await writeFile(configFile, `${configText}bogus_key: 1\n`);
    await waitFor(
      'the rejected reload in /metrics',
      async () => sample(await metrics(), 'nat64_health_config_reloads_total', { result: 'failure' }) === 1,
    );
    let text = await metrics();
    expect(sample(text, 'nat64_health_config_last_reload_successful')).toBe(0);
    expect(sample(text, 'nat64_health_prefix_active', { prefix: A })).toBe(1); // still running on the previous config
    await writeFile(configFile, configText);
    await waitFor(
      'the accepted reload in /metrics',
      async () => sample(await metrics(), 'nat64_health_config_reloads_total', { result: 'success' }) === 1,
    );
    text = await metrics();
    expect(sample(text, 'nat64_health_config_last_reload_successful')).toBe(1);
    expect(sample(text, 'nat64_health_config_reloads_total', { result: 'failure' })).toBe(1);
  });
});

describe('status page in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    // Chromium runs inside the namespace: the page is on the daemon's loopback, and nothing else is reachable.
    profile = await mkdtemp(path.join(os.tmpdir(), 'nh-chromium-profile-'));
    const wrapper = path.join(dir, 'chromium-in-netns');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${ns.name} ${CHROMIUM} "$@"\n`);
    await chmod(wrapper, 0o755);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: wrapper,
      headless: true,
      chromiumSandbox: false,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      viewport: { width: 1280, height: 720 },
      timeout: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('shows every prefix with state, group and role, draws the latency charts, and refreshes itself', async () => {
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    const response = await page.goto(`${BASE}/`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);

    const rows = await page.$$eval('#prefixes tr.prefix', (trs) =>
      trs.map((tr) => ({
        prefix: tr.getAttribute('data-prefix'),
        state: tr.getAttribute('data-state'),
        role: tr.getAttribute('data-role'),
        cells: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
      })),
    );
    expect(rows.map((r) => [r.prefix, r.state, r.role])).toEqual([
      [A, 'up', 'active'],
      [B, 'down', 'standby'],
      [C, 'up', 'active'],
    ]);
    expect(rows.map((r) => r.cells.slice(1, 4))).toEqual([
      ['gw-a', 'east', 'up'],
      ['gw-b', 'east', 'down'],
      ['gw-c', 'west', 'up'],
    ]);

    // The charts are drawn: a visible line for each live prefix, red ticks for the dead one.
    for (const p of [A, C]) {
      const chart = page.locator(`tr[data-prefix="${p}"] svg.chart`);
      const box = await chart.boundingBox();
      expect(box!.width).toBeGreaterThan(100);
      expect(box!.height).toBeGreaterThan(20);
      expect(Number(await chart.getAttribute('data-drawn'))).toBeGreaterThanOrEqual(6);
      const length = await page
        .locator(`tr[data-prefix="${p}"] svg.chart path.latency`)
        .evaluate((el) => (el as SVGPathElement).getTotalLength());
      expect(length).toBeGreaterThan(2);
      const stroke = await page
        .locator(`tr[data-prefix="${p}"] svg.chart path.latency`)
        .evaluate((el) => getComputedStyle(el).stroke);
      expect(stroke).not.toBe('none');
    }
    expect(await page.locator(`tr[data-prefix="${B}"] svg.chart path.latency`).count()).toBe(0);
    expect(await page.locator(`tr[data-prefix="${B}"] svg.chart rect.bad`).count()).toBeGreaterThanOrEqual(1);

    // the last applies with their results and reasons
    const applies = await page.$$eval('#applies tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(applies.length).toBeGreaterThanOrEqual(1);
    expect(applies.at(-1)).toMatch(/local\s*applied\s*selection changed: .*activated/);

    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toMatch(/^\d+$/);
    expect(requests.every((u) => u.startsWith(`${BASE}/`))).toBe(true); // no external assets
    expect(problems).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'observe-status-page.png'), fullPage: true });
    expect(existsSync(path.join(ARTIFACTS, 'observe-status-page.png'))).toBe(true);

    // it refreshes itself: a later round shows up without any action
    const before = await page.locator('#summary').textContent();
    await page.waitForFunction((text) => document.querySelector('#summary')?.textContent !== text, before, {
      timeout: 15_000,
    });
    await page.close();
  });
});

describe('GET /status.json and `nat64-health status`', () => {
  it('/status.json is exactly what `status --json` prints for the same round', async () => {
    // Rounds come every 500 ms, faster than the CLI starts: keep fetching while it runs, then
    // compare with the response of the same round.
    const byRound = new Map<number, string>();
    let cliDone = false;
    const poll = (async () => {
      while (!cliDone) {
        const r = await http('/status.json');
        expect(r.status).toBe(200);
        expect(r.headers).toMatch(/^content-type: application\/json; charset=utf-8\r?$/im);
        byRound.set((JSON.parse(r.body) as { round: number }).round, r.body);
      }
    })();
    // An unchanged round reaches the state file at most once a second (two rounds here): collect
    // three rounds before the CLI reads the file, so the round it prints has been fetched too.
    await waitForAny('three rounds fetched', () => Promise.resolve(byRound.size >= 3), 10_000, 50);
    // On a loaded machine one fetch can take longer than a round, and the round the CLI prints may
    // be one no fetch saw: ask the CLI again (a few times at most) until its round was fetched.
    let cli: { stdout: string } | undefined;
    let round = -1;
    try {
      for (let attempt = 0; attempt < 5 && !byRound.has(round); attempt++) {
        cli = await ns.run([process.execPath, CLI, 'status', '--json', '-c', configFile], { check: true });
        round = (JSON.parse(cli.stdout) as { round: number }).round;
      }
    } finally {
      cliDone = true;
    }
    await poll;
    expect([...byRound.keys()]).toContain(round);
    expect(byRound.get(round)).toBe(cli!.stdout);
  });

  it('prints an aligned table, colour only when asked', async () => {
    const r = await ns.run([process.execPath, CLI, 'status', '-c', configFile], {
      check: true,
      env: { FORCE_COLOR: '0' },
    });
    expect(r.stdout).not.toContain('\x1b['); // stdout is a pipe, not a TTY
    const lines = r.stdout.split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^PREFIX\s+NAME\s+GROUP\s+STATE\s+ROLE\s+LATENCY\s+LOSS\s+SINCE\s+LAST ROUND$/);
    const row = (p: string) => lines.find((l) => l.startsWith(`${p} `))!;
    expect(row(A)).toMatch(/gw-a\s+east\s+up\s+active\s+[\d.]+ ms/);
    expect(row(B)).toMatch(/gw-b\s+east\s+down\s+-\s+-\s+100%\s+.* ago\s+0\/3 answered: .*ENETUNREACH/);
    expect(row(C)).toMatch(/gw-c\s+west\s+up\s+active/);
    for (const col of ['NAME', 'GROUP', 'STATE', 'ROLE']) {
      const at = header.indexOf(col);
      for (const p of [A, B, C]) expect(row(p)[at - 1], `${p} ${col}`).toBe(' ');
    }
    expect(r.stdout).toMatch(/^2 of 3 up, 2 active; round \d+/m);
    expect(r.stdout).toMatch(/^local\s+applied .* ago/m);
    expect(r.stdout).toMatch(/^\S+ \S+Z\s+local\s+applied\s+[\d.]+ ms\s+selection changed: /m);

    const coloured = await ns.run([process.execPath, CLI, 'status', '-c', configFile], {
      check: true,
      env: { FORCE_COLOR: '1' },
    });
    expect(coloured.stdout).toContain('\x1b[31mdown');
  });
});

describe('logs', () => {
  it('one structured line per state change, selection change and apply, each with its reason', async () => {
    const lines = await logs();
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
    }
    const down = lines.filter((l) => l.msg === `prefix ${B} is down`);
    expect(down).toHaveLength(1);
    expect(down[0]!.level).toBe('warn');
    expect(down[0]!.reason).toMatch(/first round bad .*ENETUNREACH/);
    for (const p of [A, C]) {
      expect(lines.filter((l) => l.msg === `prefix ${p} is up`)).toHaveLength(1);
      const activated = lines.filter((l) => l.msg === `prefix ${p} activated`);
      expect(activated).toHaveLength(1);
      expect(activated[0]!.reason).toMatch(/healthy/);
    }
    const applied = lines.filter((l) => l.msg === 'applied to local');
    expect(applied).toHaveLength(1);
    expect(applied[0]!.reason).toBe(`selection changed: ${A} activated, ${C} activated`);
    expect(applied[0]!.active).toEqual([A, C]);
    expect(lines.some((l) => l.msg.startsWith('http: serving') && l.listen === LISTEN)).toBe(true);
    expect(lines.some((l) => l.msg === 'new configuration rejected; still running on the previous one')).toBe(true);
  });

  it('text format by default, and --log-level filters', async () => {
    // a second daemon on the same port (with files of its own, or the first one's locks refuse
    // it first): its startup error, in the default text format
    const second = path.join(dir, 'second.yaml');
    await writeFile(
      second,
      (await readFile(configFile, 'utf8'))
        .replace(`state_file: ${stateFile}`, `state_file: ${path.join(dir, 'second', 'state.json')}`)
        .replace(`output: ${named.includeFile}`, `output: ${path.join(dir, 'second', 'dns64.conf')}`),
    );
    const r = await ns.run([process.execPath, CLI, 'run', '-c', second, '--log-level', 'warn'], {
      timeoutMs: 15_000,
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`cannot listen on ${LISTEN} (http.listen): address already in use`);
    expect(r.stderr).not.toMatch(/^\{/m);
    expect(r.stderr).not.toMatch(/^INFO /m); // --log-level warn
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('bad requests', () => {
  it('get proper errors and never crash the daemon', async () => {
    expect((await http('/nope')).status).toBe(404);
    expect((await http('/metrics/../../etc/passwd', ['--path-as-is'])).status).toBe(404);
    await writeFile(path.join(dir, 'body'), 'x'.repeat(200_000));
    const post = await http('/metrics', ['-X', 'POST', '--data-binary', `@${path.join(dir, 'body')}`]);
    expect(post.status).toBe(405);
    expect(post.headers).toMatch(/^allow: GET, HEAD\r?$/im);
    expect((await http('/', ['-X', 'DELETE'])).status).toBe(405);
    expect((await http('/metrics', ['-H', `X-Huge: ${'h'.repeat(64 * 1024)}`])).status).toBe(431);
    const garbage = await ns.run(
      ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/9464; printf 'NOT HTTP AT ALL\\r\\n\\r\\n' >&3; timeout 3 cat <&3`],
      { timeoutMs: 10_000 },
    );
    expect(garbage.stdout).toMatch(/^HTTP\/1\.1 400 /);
    // a flood of half-open connections that never finish their request
    const halfOpen = `(exec 3<>/dev/tcp/127.0.0.1/9464; printf 'GET / HTTP/1.1\\r\\nHost' >&3; sleep 1) &`;
    await ns.run(['bash', '-c', `for i in $(seq 1 50); do ${halfOpen} done; wait`], { timeoutMs: 15_000 });

    expect(daemon.exitCode).toBeNull();
    expect(daemon.signalCode).toBeNull();
    const text = await metrics();
    expect(sample(text, 'nat64_health_http_requests_total', { handler: 'other', code: '404' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(sample(text, 'nat64_health_http_requests_total', { handler: '/metrics', code: '405' })).toBe(1);
    expect(sample(text, 'nat64_health_http_requests_total', { handler: 'invalid', code: '431' })).toBe(1);
    expect(
      sample(text, 'nat64_health_http_requests_total', { handler: 'invalid', code: '400' }),
    ).toBeGreaterThanOrEqual(1);
    // the rounds go on
    const round = (await state())!.round;
    await waitFor('another round', async () => (await state())!.round > round);
    expect((await logs()).filter((l) => l.level === 'error' && /http/.test(l.msg))).toEqual([]);
  });

  it('the server closes with the daemon (SIGTERM)', async () => {
    daemon.kill('SIGTERM');
    await waitFor(
      'the daemon to exit',
      () => Promise.resolve(daemon.exitCode !== null || daemon.signalCode !== null),
      10_000,
    );
    expect(daemon.exitCode).toBe(0);
    const r = await ns.run(['curl', '-sS', '--max-time', '2', `${BASE}/metrics`]);
    expect(r.exitCode).toBe(7); // connection refused: nothing listens any more
  });
});
