// Two sites on one resolver (client pools, issue 21), for the integration tests of pools: a world
// with a real named and three live gateways (site A's, site B's, a public last resort), a client
// address of each pool and one in no pool, and the daemon (the built CLI) running a config with a
// pool per site. Each client asks named from its own source address (dig -b).
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { parsePrefix, synthesize } from '../../src/lib/prefix.js';
import { CLI } from './daemon-fixture.js';
import { bindSectionYaml, type NamedInstance } from './named.js';
import { terminate, type Netns } from './netns.js';
import { waitFor as waitForAny } from './wait.js';
import { startWorld, type World } from './world.js';
import { PUB, SA, SB, twoSitesYaml } from './two-sites.js';

export { PUB, SA, SB };
export const NAMED_ADDR = '2001:db8:53::1';
/** a client of pool site-a, one of site-b, one in no pool (the default pool) */
export const CLIENT = { a: '2001:db8:a::10', b: '2001:db8:b::10', other: '2001:db8:c::10' };

export interface PoolsWorld {
  world: World;
  ns: Netns;
  named: NamedInstance;
  /** the config file and the state file the daemon runs with */
  config: string;
  stateFile: string;
  logFile: string;
  daemon: ChildProcess;
  /** The prefixes whose ipv4only.arpa addresses a client gets, sorted. */
  served: (client: string) => Promise<string[]>;
  /** waitFor that shows the daemon's log tail when it times out */
  waitFor: <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs?: number) => Promise<T>;
  stop: () => Promise<void>;
}

/**
 * Starts the world and the daemon: one prefix a round per site (max_active 1), pool site-a
 * preferring site A's gateway, site-b site B's, the default pool by select.groups (site A's first).
 * `extra` is appended to the config (say, an `http:` section).
 */
export async function startPoolsWorld(label: string, extra = ''): Promise<PoolsWorld> {
  if (!existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  const world = await startWorld(label, { alive: [SA, SB, PUB], named: NAMED_ADDR });
  const { ns } = world;
  const named = world.named!;
  let daemon: ChildProcess | undefined;
  const stop = async () => {
    if (daemon) await terminate(daemon);
    await world.stop();
    if (!process.env.NH_KEEP_TMP) await rm(world.dir, { recursive: true, force: true });
  };
  try {
    for (const c of Object.values(CLIENT)) await ns.addAddress(c);
    const logFile = path.join(world.dir, 'daemon.log');
    const stateFile = path.join(world.dir, 'state.json');
    const config = path.join(world.dir, 'config.yaml');
    await writeFile(config, twoSitesYaml(`${bindSectionYaml(named)}state_file: ${stateFile}\n${extra}`));
    daemon = ns.spawn([process.execPath, CLI, 'run', '-c', config, '--log-format', 'json'], { logFile });
    const tail = async () =>
      `daemon log tail:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`;
    return {
      world,
      ns,
      named,
      config,
      stateFile,
      logFile,
      daemon,
      served: async (client) => {
        const out = await named.dig(['-b', client, '+short', 'AAAA', 'ipv4only.arpa']);
        return [SA, SB, PUB].filter((p) => out.includes(synthesize(parsePrefix(p), '192.0.0.170'))).sort();
      },
      waitFor: (what, fn, timeoutMs = 20_000) => waitForAny(what, fn, timeoutMs, 100, tail),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
