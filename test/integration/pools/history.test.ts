/**
 * What the operator is told about client pools (issue 21), against a real named and daemon: two
 * sites, each with its own NAT64 gateway. When site A's gateway dies, the on_change hook's stdin
 * document and NAT64_HEALTH_POOLS show site-a (and the default pool) moving to site B's prefix and
 * site-b unchanged, `nat64-health history` shows each pool's sets, and the log names the pool of
 * each selection change.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedChange } from '../../../src/apply/runner.js';
import { parsePrefix, synthesize } from '../../../src/lib/prefix.js';
import { readLogLines, setPrefixAlive } from '../../support/daemon-fixture.js';
import { bindSectionYaml, type NamedInstance } from '../../support/named.js';
import { terminate, type Netns } from '../../support/netns.js';
import { waitFor as waitForAny } from '../../support/wait.js';
import { startWorld, type World } from '../../support/world.js';
import { PUB, SA, SB, twoSitesYaml } from '../../support/two-sites.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'bin/nat64-health.js');
const NAMED_ADDR = '2001:db8:53::1';
const CLIENT = { a: '2001:db8:a::10', b: '2001:db8:b::10' };

let world: World;
let ns: Netns;
let named: NamedInstance;
let config: string;
let logFile: string;
let hookFile: string;
let daemon: ChildProcess | undefined;

/** an on_change document as the hook read it from stdin, with the NAT64_HEALTH_POOLS it saw */
type ChangeDoc = ServedChange & { event: string; target: string; env_pools: string };

/** The documents the hook recorded, oldest first: its stdin line, then its NAT64_HEALTH_POOLS line. */
async function hookDocs(): Promise<ChangeDoc[]> {
  const lines = (await readFile(hookFile, 'utf8').catch(() => '')).split('\n');
  const docs: ChangeDoc[] = [];
  for (let i = 0; i + 2 < lines.length; i += 2)
    docs.push({ ...(JSON.parse(lines[i]!) as ServedChange), env_pools: lines[i + 1]! } as ChangeDoc);
  return docs;
}

const logLines = () => readLogLines<Record<string, unknown>>(logFile);

/** The prefixes whose ipv4only.arpa addresses a client gets, sorted. */
async function served(client: string): Promise<string[]> {
  const out = await named.dig(['-b', client, '+short', 'AAAA', 'ipv4only.arpa']);
  return [SA, SB, PUB].filter((p) => out.includes(synthesize(parsePrefix(p), '192.0.0.170'))).sort();
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const tail = async () =>
    `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  return waitForAny(what, fn, timeoutMs, 100, tail);
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  world = await startWorld('pools-history', { alive: [SA, SB, PUB], named: NAMED_ADDR });
  ({ ns } = world);
  named = world.named!;
  for (const c of Object.values(CLIENT)) await ns.addAddress(c);
  logFile = path.join(world.dir, 'daemon.log');
  hookFile = path.join(world.dir, 'on_change.txt');
  const hook = path.join(world.dir, 'on-change.sh');
  await writeFile(hook, `#!/bin/sh\n{ cat; echo "$NAT64_HEALTH_POOLS"; } >> "$1"\n`);
  await chmod(hook, 0o755);
  config = path.join(world.dir, 'config.yaml');
  await writeFile(
    config,
    twoSitesYaml(`hooks: { on_change: [${hook}, ${hookFile}], timeout: 5s }
${bindSectionYaml(named)}state_file: ${path.join(world.dir, 'state.json')}
`),
  );
  daemon = ns.spawn([process.execPath, CLI, 'run', '-c', config, '--log-format', 'json'], { logFile });
}, 60_000);

afterAll(async () => {
  if (daemon) await terminate(daemon);
  await world?.stop();
  if (world?.dir && !process.env.NH_KEEP_TMP) await rm(world.dir, { recursive: true, force: true });
});

describe('client pools: the hook, the history and the log', () => {
  it("site A's gateway dies: each pool's sets before and after in the hook, the history and the log", async () => {
    await waitFor('each pool on its own gateway', async () => {
      const [a, b] = await Promise.all([served(CLIENT.a), served(CLIENT.b)]);
      return a.join() === SA && b.join() === SB;
    });
    // the hook of the apply that put each pool on its gateway has run
    await waitFor('the hook of that apply', async () =>
      (await hookDocs()).some((d) => d.pools?.['site-a']?.new.join() === SA && d.pools['site-b']?.new.join() === SB),
    );
    const before = (await hookDocs()).length;

    await setPrefixAlive(ns, SA, false);
    const moved = await waitFor('the hook of site A moving to site B', async () =>
      (await hookDocs()).slice(before).find((d) => d.pools?.['site-a']?.new.join() !== SA),
    );
    expect(moved).toMatchObject({ event: 'change', target: 'local', old: [SA], new: [SB] });
    expect(moved.pools).toEqual({
      'site-a': { old: [SA], new: [SB] },
      'site-b': { old: [SB], new: [SB] },
      default: { old: [SA], new: [SB] },
    });
    expect(Object.keys(moved.pools!)).toEqual(['site-a', 'site-b', 'default']);
    expect(moved.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: SA, change: 'deactivated', pool: 'site-a' }),
        expect.objectContaining({ id: SB, change: 'activated', pool: 'site-a' }),
      ]),
    );
    const defaultChange = moved.changes.find((c) => c.id === SA && c.pool === undefined);
    expect(defaultChange).toMatchObject({ change: 'deactivated' }); // the default pool's: no `pool`
    expect(moved.changes.some((c) => c.pool === 'site-b')).toBe(false);
    expect(moved.reason).toContain(`${SA} deactivated in pool site-a`);
    expect(moved.env_pools).toBe(`site-a=${SB} site-b=${SB} default=${SB}`);
    expect(await served(CLIENT.b)).toEqual([SB]);

    // the history: the table names the pools whose set changed, --diff each pool's sets
    const table = await execa('node', [CLI, 'history', '-c', config, '-n', '1']);
    const row = table.stdout.split('\n')[1]!;
    expect(row).toContain(`site-a: +${SB} -${SA}; default: +${SB} -${SA}`);
    expect(row).not.toContain('site-b');
    const diff = await execa('node', [CLI, 'history', '-c', config, '-n', '1', '--diff']);
    expect(diff.stdout).toContain(
      `sets:\n  site-a: ${SA} -> ${SB} (+${SB} -${SA})\n  site-b: ${SB} -> ${SB} (same set)\n` +
        `  default: ${SA} -> ${SB} (+${SB} -${SA})\n`,
    );
    expect(diff.stdout).toContain(`\n  site-a: ${SA} deactivated: `);
    const json = await execa('node', [CLI, 'history', '-c', config, '-n', '1', '--json']);
    const [entry] = (JSON.parse(json.stdout) as { entries: Array<{ pools: unknown }> }).entries;
    expect(entry!.pools).toEqual(moved.pools);

    // the log: a pool's change names its pool; the default pool's reads as before pools
    const lines = await logLines();
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: `prefix ${SA} deactivated in pool site-a`, pool: 'site-a' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: `prefix ${SB} activated in pool site-a`, pool: 'site-a' }),
    );
    expect(lines.find((l) => l.msg === `prefix ${SA} deactivated`)).not.toHaveProperty('pool');
    // site-b's set changed once, at the start: it got its own gateway and kept it
    expect(lines.filter((l) => l.pool === 'site-b').map((l) => l.msg)).toEqual([
      `prefix ${SB} activated in pool site-b`,
    ]);
  }, 60_000);
});
