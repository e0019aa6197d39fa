/**
 * Verification per pool (issue 21), against a real named: the daemon asks ipv4only.arpa as a
 * client of the default pool (verify.source) and of each pool verify.pools lists, from addresses
 * on the namespace's lo, and compares each answer with that pool's decided set. Site B's clients
 * are the acl `site-b-clients` of named.conf: once named runs with that acl leaving out site B's
 * asker, BIND serves site B's clients the default pool's set. The daemon finds that for pool
 * site-b alone, names it, reloads, and is ok once the reload loads a named.conf that is right again.
 * (The include itself is not edited: the daemon writes an edited include back as drift, which is
 * another check; a named.conf BIND runs with and no longer has on disk is what only asking finds.)
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verification } from '../../../src/apply/runner.js';
import type { TargetReport } from '../../../src/apply/fleet.js';
import { runHost, terminate, type Netns } from '../../support/netns.js';
import type { NamedInstance } from '../../support/named.js';
import { waitFor as waitForAny } from '../../support/wait.js';
import { PUB, SA, SB, SITE_A_POOL, twoSitesYaml } from '../../support/two-sites.js';
import { startWorld, type World } from '../../support/world.js';
import { readLogLines } from '../../support/daemon-fixture.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'bin/nat64-health.js');
const NAMED_ADDR = '2001:db8:53::1';
/** where the daemon asks from: one client of each pool it verifies, and one of no pool */
const ASKER = { default: '2001:db8:c::53', 'site-a': '2001:db8:a::53', 'site-b': '2001:db8:b::53' };
const ACL_RIGHT = 'acl "site-b-clients" { 2001:db8:b::/48; };\n';
/** site B's asker left out: named serves it as a client of no pool */
const ACL_WRONG = 'acl "site-b-clients" { 2001:db8:b:1::/64; };\n';

let world: World;
let ns: Netns;
let named: NamedInstance;
let dir: string;
let logFile: string;
let stateFile: string;
let config: string;
let daemon: ChildProcess | undefined;

interface LogLine {
  level: string;
  msg: string;
  detail?: string;
  reason?: string;
}

const logs = () => readLogLines<LogLine>(logFile);

async function verification(): Promise<Verification | null> {
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as { targets: Array<{ verification?: Verification }> };
  return state.targets[0]?.verification ?? null;
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const tail = async () =>
    `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  return waitForAny(what, fn, timeoutMs, 100, tail);
}

/** named.conf with this site-b-clients acl, the one the harness wrote otherwise */
async function setAcl(acl: string): Promise<void> {
  const text = await readFile(named.namedConf, 'utf8');
  await writeFile(named.namedConf, text.replace(/acl "site-b-clients" \{[^}]*\};\n/, acl));
}

/** The config; `verifyPools`: the verify.pools mapping */
function configText(verifyPools: string): string {
  const pools =
    SITE_A_POOL +
    '  - { name: site-b, clients: [site-b-clients], groups: [site-b, site-a, public] }\n' +
    '  - { name: site-c, clients: ["2001:db8:d::/48"], groups: [public, site-a, site-b] }\n';
  return twoSitesYaml(
    `bind:
  mode: include
  output: ${named.includeFile}
  checkconf: ${JSON.stringify(named.checkconfArgv)}
  reload: ${JSON.stringify([...named.rndcArgv, 'reconfig'])}
  verify:
    server: "${named.listen}"
    port: ${named.port}
    source: "${ASKER.default}"
    interval: 2s
    pools:
${verifyPools}state_file: ${stateFile}
`,
    pools,
  );
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  world = await startWorld('poolverify', {
    alive: [SA, SB, PUB],
    named: NAMED_ADDR,
    namedOptions: { conf: ACL_RIGHT },
  });
  ({ ns, dir } = world);
  named = world.named!;
  for (const a of Object.values(ASKER)) await ns.addAddress(a);
  logFile = path.join(dir, 'daemon.log');
  stateFile = path.join(dir, 'state.json');
  config = path.join(dir, 'config.yaml');
  // site-c has no source: it is not asked
  await writeFile(config, configText(`      site-a: "${ASKER['site-a']}"\n      site-b: "${ASKER['site-b']}"\n`));
  // every query named answers goes to its log: who asked is who the daemon asked from
  await runHost([...named.rndcArgv, 'querylog', 'on'], { check: true });
  daemon = ns.spawn([process.execPath, CLI, 'run', '-c', config, '--log-format', 'json', '--log-level', 'debug'], {
    logFile,
  });
}, 60_000);

afterAll(async () => {
  if (daemon) await terminate(daemon);
  await world?.stop();
  if (dir && !process.env.NH_KEEP_TMP) await rm(dir, { recursive: true, force: true });
});

describe('verification per pool against a real named', () => {
  it('with the right ACLs every pool asked gets its decided set; a pool without a source is not asked', async () => {
    const v = await waitFor('every pool verified', async () => {
      const v = await verification();
      return v?.ok && v.decided.join() === SA && v.pools?.every((p) => p.ok) && v;
    });
    expect(v).toMatchObject({ ok: true, served: [SA], decided: [SA] });
    expect(v.pools).toEqual([
      { pool: 'site-a', ok: true, served: [SA], decided: [SA], detail: `BIND serves the decided set: ${SA}` },
      { pool: 'site-b', ok: true, served: [SB], decided: [SB], detail: `BIND serves the decided set: ${SB}` },
    ]);
    expect(v.detail).toBe(
      `pool default: BIND serves the decided set: ${SA}; pool site-a: BIND serves the decided set: ${SA};` +
        ` pool site-b: BIND serves the decided set: ${SB}`,
    );
    // named saw the daemon's questions come from each asker, and from nowhere else (site-c has none)
    const askedFrom = new Set(
      [
        ...(await named.log()).matchAll(
          /client @\S+ ([0-9a-f:.]+)#\d+ \(ipv4only\.arpa\): query: ipv4only\.arpa IN AAAA/g,
        ),
      ].map((m) => m[1]),
    );
    expect([...askedFrom].sort()).toEqual(Object.values(ASKER).sort());
  });

  it('targets test asks as each pool and says what it checked', async () => {
    const r = await ns.run([process.execPath, CLI, 'targets', 'test', '-c', config, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [local] = (JSON.parse(r.stdout) as { targets: TargetReport[] }).targets;
    const verify = local!.checks.filter((c) => c.check === 'verify');
    expect(verify.map((c) => [c.ok, c.detail.replace(/: BIND serves .*/, '')])).toEqual([
      [true, `pool default (asked from ${ASKER.default})`],
      [true, `pool site-a (asked from ${ASKER['site-a']})`],
      [true, `pool site-b (asked from ${ASKER['site-b']})`],
    ]);
    expect(verify[2]!.detail).toContain(`BIND serves ${SB}, of the file's `);
  });

  it('BIND serving pool site-b something else: found for that pool alone, named, reloaded, converged', async () => {
    // named runs with an acl that leaves site B's asker out: it gets the default pool's set
    const since = (await logs()).length; // what the daemon logs from here on
    await setAcl(ACL_WRONG);
    await named.reconfig();
    const wrong = await waitFor('the mismatch of pool site-b', async () => {
      const v = await verification();
      return v && !v.ok && v;
    });
    expect(wrong).toMatchObject({ ok: false, served: [SA], decided: [SA] });
    expect(wrong.pools).toEqual([
      expect.objectContaining({ pool: 'site-a', ok: true, served: [SA] }),
      expect.objectContaining({ pool: 'site-b', ok: false, served: [SA], decided: [SB] }),
    ]);
    expect(wrong.detail).toMatch(new RegExp(`^pool site-b: BIND serves ${re(SA)}, not the decided ${re(SB)}`));
    expect(wrong.detail).not.toMatch(/pool (default|site-a):/);
    // it reloaded first (which reloads the wrong acl again), then says so naming the pool
    const lines = (await logs()).slice(since);
    const warned = lines.find((l) => l.level === 'warn' && /does not serve/.test(l.msg));
    expect(warned?.msg).toBe('local: BIND does not serve the decided set to pool site-b; applying again with a reload');
    expect(warned?.detail).toMatch(/^pool site-b: /);
    expect(
      lines.some((l) => l.level === 'error' && l.msg === 'local: BIND does not serve the decided set to pool site-b'),
    ).toBe(true);

    // named.conf right again on disk, not loaded: the daemon's next check reloads it
    await setAcl(ACL_RIGHT);
    const right = await waitFor('every pool verified again', async () => {
      const v = await verification();
      return v?.ok && v;
    });
    expect(right.pools!.map((p) => [p.pool, p.ok, p.served])).toEqual([
      ['site-a', true, [SA]],
      ['site-b', true, [SB]],
    ]);
    // the way back: the check that found site-b wrong, the apply with a reload, then all served right
    const after = (await logs()).slice(since).map((l) => `${l.level} ${l.msg}${l.reason ? ` (${l.reason})` : ''}`);
    const back = after.indexOf('info local: BIND serves the decided set again');
    expect(back).toBeGreaterThan(0);
    expect(
      after
        .slice(0, back)
        .filter((l) => /does not serve|applied to local/.test(l))
        .slice(-2),
    ).toEqual([
      'warn local: BIND does not serve the decided set to pool site-b; applying again with a reload',
      'info applied to local (BIND did not serve the decided set to pool site-b)',
    ]);
  });

  it('verify.pools naming a pool not configured: a config error with file, line and field (exit 78)', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, configText(`      site-a: "${ASKER['site-a']}"\n      site-x: "2001:db8:e::53"\n`));
    const r = await ns.run([process.execPath, CLI, 'targets', 'test', '-c', bad]);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toContain(
      `${bad}:24:7: bind.verify.pools.site-x: "site-x" is not a configured pool (pools: site-a, site-b, site-c)`,
    );
  });
});

function re(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
