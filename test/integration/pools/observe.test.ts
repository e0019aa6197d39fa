/**
 * Client pools as the operator sees them (issue 21): the daemon (the built CLI) with two pools
 * against a real named, as in daemon.test.ts. `status --json`, `status`, the status page and
 * /metrics each show every pool's set (the default pool's too) and which pools use each prefix;
 * when site A's gateway dies, each shows site-a's set and the default's move to site B's prefix,
 * site-b's unchanged, and site A's prefix draining.
 */
import { stripVTControlCharacters, isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, setPrefixAlive } from '../../support/daemon-fixture.js';
import { sample } from '../../support/observe-fixtures.js';
import { checkMetrics, promtoolMissing } from '../../support/prometheus.js';
import { CLIENT, PUB, SA, SB, startPoolsWorld, type PoolsWorld } from '../../support/pools-world.js';

const LISTEN = '127.0.0.1:9464';
const POOLS = ['default', 'site-a', 'site-b'];
const PREFIXES = [SA, SB, PUB];

let w: PoolsWorld | undefined;

/** What a view shows: each pool's active (and draining) prefixes, and the pools using each prefix. */
interface Shown {
  active: Record<string, string[]>;
  /** absent where the view does not show drains (the metrics) */
  draining?: Record<string, string[]>;
  pools: Record<string, string[]>;
}

interface StatusJson {
  active: string[];
  draining: string[];
  prefixes: Array<{ prefix: string; pools?: string[] }>;
  pools?: Array<{ name: string; active: string[]; draining_since: Record<string, string> }>;
}

async function statusJson(): Promise<Shown> {
  const r = await w!.ns.run(['node', CLI, 'status', '-c', w!.config, '--json'], { timeoutMs: 20_000 });
  if (r.exitCode !== 0) throw new Error(`status --json exited ${r.exitCode}: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as StatusJson;
  const pools = s.pools ?? [];
  return {
    active: { default: s.active, ...Object.fromEntries(pools.map((p) => [p.name, p.active])) },
    draining: {
      default: s.draining,
      ...Object.fromEntries(pools.map((p) => [p.name, Object.keys(p.draining_since)])),
    },
    pools: Object.fromEntries(s.prefixes.map((p) => [p.prefix, p.pools ?? ['(none)']])),
  };
}

async function statusText(): Promise<Shown> {
  const r = await w!.ns.run(['node', CLI, 'status', '-c', w!.config], { timeoutMs: 20_000 });
  if (r.exitCode !== 0) throw new Error(`status exited ${r.exitCode}: ${r.stderr}`);
  const lines = stripVTControlCharacters(r.stdout).split('\n');
  const list = (text: string) => (text === '-' ? [] : text.split(', '));
  // the prefix table: the POOLS column, between its header and LATENCY's
  const header = lines[0]!;
  const [from, to] = [header.indexOf('POOLS'), header.indexOf('LATENCY')];
  if (from < 0) throw new Error(`no POOLS column in:\n${r.stdout}`);
  const rows = lines.filter((l) => PREFIXES.some((p) => l.startsWith(`${p} `)));
  // the pool table: POOL, ACTIVE, DRAINING
  const start = lines.findIndex((l) => /^POOL\s+ACTIVE\s+DRAINING$/.test(l));
  if (start < 0) throw new Error(`no pool table in:\n${r.stdout}`);
  const poolRows = lines.slice(start + 1, start + 1 + POOLS.length).map((l) => l.split(/\s{2,}/));
  return {
    active: Object.fromEntries(poolRows.map(([name, active]) => [name!, list(active!)])),
    draining: Object.fromEntries(poolRows.map(([name, , draining]) => [name!, list(draining!)])),
    pools: Object.fromEntries(rows.map((l) => [l.split(' ')[0]!, list(l.slice(from, to).trim())])),
  };
}

/** GET from inside the namespace (the daemon listens on its loopback). */
async function get(urlPath: string): Promise<string> {
  const r = await w!.ns.run(['curl', '-sS', '--fail', '--max-time', '5', `http://${LISTEN}${urlPath}`], {
    timeoutMs: 10_000,
  });
  if (r.exitCode !== 0) throw new Error(`GET ${urlPath} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

async function statusPage(): Promise<Shown> {
  const page = await get('/');
  const ids = (text: string) => (text === '' ? [] : text.split(' '));
  const pools = [
    ...page.matchAll(/<tr class="pool" data-pool="([^"]*)" data-active="([^"]*)" data-draining="([^"]*)"/g),
  ];
  const prefixes = [...page.matchAll(/<tr class="prefix" data-prefix="([^"]*)"[^>]* data-pools="([^"]*)"/g)];
  return {
    active: Object.fromEntries(pools.map((m) => [m[1]!, ids(m[2]!)])),
    draining: Object.fromEntries(pools.map((m) => [m[1]!, ids(m[3]!)])),
    pools: Object.fromEntries(prefixes.map((m) => [m[1]!, ids(m[2]!)])),
  };
}

async function metrics(): Promise<Shown> {
  const text = await get('/metrics');
  const uses = (pool: string, prefix: string) => sample(text, 'nat64_health_pool_active', { pool, prefix }) === 1;
  for (const pool of POOLS) {
    const size = sample(text, 'nat64_health_pool_active_prefixes', { pool });
    const active = PREFIXES.filter((prefix) => uses(pool, prefix)).length;
    if (size !== active) throw new Error(`pool ${pool}: pool_active_prefixes ${size}, ${active} pool_active 1`);
  }
  return {
    active: Object.fromEntries(POOLS.map((pool) => [pool, PREFIXES.filter((prefix) => uses(pool, prefix))])),
    pools: Object.fromEntries(PREFIXES.map((prefix) => [prefix, POOLS.filter((pool) => uses(pool, prefix))])),
  };
}

const VIEWS = { 'status --json': statusJson, status: statusText, 'the status page': statusPage, '/metrics': metrics };

/** Waits until every view shows `expected` (the metrics without drains); the last one seen on timeout. */
async function allShow(expected: Required<Shown>, when: string): Promise<void> {
  for (const [name, view] of Object.entries(VIEWS))
    await w!.waitFor(`${name} to show each pool's set ${when}`, async () => {
      const shown = await view();
      const want = shown.draining ? expected : { active: expected.active, pools: expected.pools };
      if (!isDeepStrictEqual(shown, want)) throw new Error(`it shows ${JSON.stringify(shown)}`);
      return true;
    });
}

beforeAll(async () => {
  w = await startPoolsWorld('pools-observe', `http:\n  listen: ${LISTEN}\n`);
}, 60_000);

afterAll(async () => {
  await w?.stop();
});

describe('client pools in status, the status page and the metrics', () => {
  it("each shows every pool's set, and how it changes per pool when site A's gateway dies", async () => {
    const { served, waitFor } = w!;
    await waitFor('each pool on its own gateway', async () => {
      const [a, b, other] = await Promise.all([served(CLIENT.a), served(CLIENT.b), served(CLIENT.other)]);
      return a.join() === SA && b.join() === SB && other.join() === SA;
    });
    await allShow(
      {
        active: { default: [SA], 'site-a': [SA], 'site-b': [SB] },
        draining: { default: [], 'site-a': [], 'site-b': [] },
        pools: { [SA]: ['default', 'site-a'], [SB]: ['site-b'], [PUB]: [] },
      },
      'with both gateways up',
    );

    await setPrefixAlive(w!.ns, SA, false);
    await waitFor('site A and the others on site B', async () => {
      const [a, other] = await Promise.all([served(CLIENT.a), served(CLIENT.other)]);
      return a.join() === SB && other.join() === SB;
    });
    await allShow(
      {
        active: { default: [SB], 'site-a': [SB], 'site-b': [SB] },
        // site-b never used site A's prefix: only the pools that left it drain it
        draining: { default: [SA], 'site-a': [SA], 'site-b': [] },
        pools: { [SA]: [], [SB]: ['default', 'site-a', 'site-b'], [PUB]: [] },
      },
      "after site A's gateway died",
    );

    // the change, per pool: site-a and the default pool left site A's prefix, site-b had nothing to change
    const text = await get('/metrics');
    const changes = (pool: string, prefix: string, change: string) =>
      sample(text, 'nat64_health_pool_selection_changes_total', { pool, prefix, change });
    expect(changes('site-a', SA, 'deactivated')).toBe(1);
    expect(changes('site-a', SB, 'activated')).toBe(1);
    expect(changes('default', SA, 'deactivated')).toBe(1);
    expect(changes('site-b', SA, 'deactivated')).toBeUndefined();
    // the per-prefix selection metrics stay the default pool's
    expect(sample(text, 'nat64_health_prefix_selection_changes_total', { prefix: SA, change: 'deactivated' })).toBe(1);
    // the page's prefix rows: what BIND is given over all pools
    const page = await get('/');
    expect(page).toMatch(new RegExp(`data-prefix="${SA}" data-state="down" data-role="draining" data-pools=""`));
    expect(page).toMatch(new RegExp(`data-prefix="${SB}" data-state="up" data-role="active"`));
    if (!promtoolMissing()) expect(await checkMetrics(text)).toEqual({ exitCode: 0, said: '' });
  });
});
