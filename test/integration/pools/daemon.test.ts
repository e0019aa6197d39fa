/**
 * Client pools through the daemon (issue 21), against a real named: two sites, each with its own
 * NAT64 gateway, and the clients of neither site. Each client asks named for ipv4only.arpa AAAA
 * from its own source address (dig -b) and gets its pool's prefix; when site A's gateway dies,
 * site A's clients (and the others, who preferred it) move to site B's prefix while site B's
 * clients see no change.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefix, synthesize } from '../../../src/lib/prefix.js';
import { setPrefixAlive } from '../../support/daemon-fixture.js';
import { bindSectionYaml, type NamedInstance } from '../../support/named.js';
import { terminate, type Netns } from '../../support/netns.js';
import { waitFor as waitForAny } from '../../support/wait.js';
import { PUB, SA, SB, twoSitesYaml } from '../../support/two-sites.js';
import { startWorld, type World } from '../../support/world.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'bin/nat64-health.js');
const NAMED_ADDR = '2001:db8:53::1';
const CLIENT = { a: '2001:db8:a::10', b: '2001:db8:b::10', other: '2001:db8:c::10' };

let world: World;
let ns: Netns;
let named: NamedInstance;
let logFile: string;
let daemon: ChildProcess | undefined;

/** The prefixes whose ipv4only.arpa addresses a client gets, sorted. */
async function served(client: string): Promise<string[]> {
  const out = await named.dig(['-b', client, '+short', 'AAAA', 'ipv4only.arpa']);
  const found = [SA, SB, PUB].filter((p) => out.includes(synthesize(parsePrefix(p), '192.0.0.170')));
  return found.sort();
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const tail = async () =>
    `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
  return waitForAny(what, fn, timeoutMs, 100, tail);
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  world = await startWorld('pools', { alive: [SA, SB, PUB], named: NAMED_ADDR });
  ({ ns } = world);
  named = world.named!;
  for (const c of Object.values(CLIENT)) await ns.addAddress(c);
  logFile = path.join(world.dir, 'daemon.log');
  const config = path.join(world.dir, 'config.yaml');
  await writeFile(config, twoSitesYaml(`${bindSectionYaml(named)}state_file: ${path.join(world.dir, 'state.json')}\n`));
  daemon = ns.spawn([process.execPath, CLI, 'run', '-c', config, '--log-format', 'json'], { logFile });
}, 60_000);

afterAll(async () => {
  if (daemon) await terminate(daemon);
  await world?.stop();
  if (world?.dir && !process.env.NH_KEEP_TMP) await rm(world.dir, { recursive: true, force: true });
});

describe('client pools against a real named', () => {
  it("each client gets its own pool's gateway; site A's clients move to site B's when site A's dies", async () => {
    await waitFor('each pool on its own gateway', async () => {
      const [a, b, other] = await Promise.all([served(CLIENT.a), served(CLIENT.b), served(CLIENT.other)]);
      return a.join() === SA && b.join() === SB && other.join() === SA;
    });
    await setPrefixAlive(ns, SA, false);
    await waitFor('site A and the others on site B', async () => {
      const [a, other] = await Promise.all([served(CLIENT.a), served(CLIENT.other)]);
      return a.join() === SB && other.join() === SB;
    });
    expect(await served(CLIENT.b)).toEqual([SB]);
    // site A's prefix drains: no client gets it, reverse lookups of its addresses still work
    const conf = await readFile(named.includeFile, 'utf8');
    expect(conf).toMatch(
      new RegExp(`dns64 ${SA.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\{[^}]*clients \\{ none; \\};`),
    );
    const state = JSON.parse(await readFile(path.join(world.dir, 'state.json'), 'utf8')) as {
      pools: Array<{ name: string; active: string[] }>;
    };
    expect(state.pools.map((p) => [p.name, p.active])).toEqual([
      ['site-a', [SB]],
      ['site-b', [SB]],
    ]);
  });
});
