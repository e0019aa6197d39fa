/**
 * Client pools and the operator's commands against a real daemon and named (issue 21): `check`
 * prints each pool's set; `maintenance PREFIX on` predicts each pool's next set from the state file
 * the daemon writes and refuses to take the last prefix of a pool's set (naming the pool) when no
 * healthy one would be left; a pool removed from the config leaves its prefix draining (no clients,
 * reverse lookups still answered) instead of dropping it at once.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  DaemonProcess,
  killPrefixes,
  readFile,
  setPrefixAlive,
  waitFor,
  writeFile,
  www,
} from '../../support/daemon-fixture.js';
import { bindSectionYaml, type NamedInstance } from '../../support/named.js';
import type { Netns } from '../../support/netns.js';
import { PUB, SA, SB, SITE_A_POOL, twoSitesYaml } from '../../support/two-sites.js';
import { startWorld, type World } from '../../support/world.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NAMED_ADDR = '2001:db8:53::1';

let world: World;
let ns: Netns;
let named: NamedInstance;
let daemon: DaemonProcess;
let configFile: string;
let stateFile: string;

interface State {
  active: string[];
  failsafe: boolean;
  draining: string[];
  pools: Array<{ name: string; active: string[]; failsafe: boolean }>;
}
const state = async () => JSON.parse(await readFile(stateFile, 'utf8')) as State;
/** Each pool's set as the state file says, the default pool's first */
const sets = async () => {
  const s = await state();
  return [['default', s.active.join()], ...s.pools.map((p) => [p.name, p.active.join()])];
};
const config = (pools?: string) => twoSitesYaml(`${bindSectionYaml(named)}state_file: ${stateFile}\n`, pools);
const cli = (args: string[]) => ns.run(['node', CLI, ...args, '-c', configFile], { timeoutMs: 20_000 });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does)');
  world = await startWorld('pmaint', { alive: [SA, SB, PUB], named: NAMED_ADDR });
  ({ ns } = world);
  named = world.named!;
  configFile = path.join(world.dir, 'config.yaml');
  stateFile = path.join(world.dir, 'state', 'state.json');
  await writeFile(configFile, config());
  daemon = DaemonProcess.start(ns, configFile, path.join(world.dir, 'daemon.log'));
  await waitFor('each pool on its own gateway', async () =>
    same(await sets().catch(() => null), [
      ['default', SA],
      ['site-a', SA],
      ['site-b', SB],
    ]),
  );
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await world?.stop();
});

describe('client pools: check, maintenance and a removed pool', () => {
  it("check prints each pool's set from its own probe round", async () => {
    const r = await cli(['check']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`POOL     SET\ndefault  ${SA}\nsite-a   ${SA}\nsite-b   ${SB}\n`);
    const json = JSON.parse((await cli(['check', '--json'])).stdout) as { pools: unknown };
    expect(json.pools).toEqual([
      { name: 'default', active: [SA], failsafe: false },
      { name: 'site-a', active: [SA], failsafe: false },
      { name: 'site-b', active: [SB], failsafe: false },
    ]);
  });

  it("maintenance on site B's gateway says what each pool's set becomes; site B moves to site A's", async () => {
    const r = await cli(['maintenance', SB, 'on', '--reason', 'upgrade']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `pool default: active now: ${SA}; the set would become: ${SA}\n` +
        `pool site-a: active now: ${SA}; the set would become: ${SA}\n` +
        `pool site-b: active now: ${SB}; the set would become: ${SA}\n`,
    );
    await waitFor('site B on site A', async () => (await sets()).every(([, set]) => set === SA));
    expect((await cli(['maintenance', SB, 'off'])).exitCode).toBe(0);
    await waitFor('site B back on its own', async () => (await sets())[2]![1] === SB);
  });

  it("every gateway down: refuses the prefix a pool's fail-safe set holds, naming that pool", async () => {
    // All three die at once, so each pool's fail-safe set is usually the one it held (site A's and
    // the default pool's SA, site B's SB). On a loaded machine one may still be seen down a round
    // before the others and a pool move first: the refusals are checked against the sets as they are.
    await killPrefixes(ns, [SA, SB, PUB]);
    try {
      await waitFor('fail-safe', async () => (await state()).pools.every((p) => p.failsafe));
      const held = await sets();
      const maintenanceFile = path.join(path.dirname(stateFile), 'maintenance.json');
      const before = await readFile(maintenanceFile, 'utf8');
      for (const prefix of new Set(held.map(([, set]) => set!))) {
        const pools = held.filter(([, set]) => set === prefix).map(([pool]) => pool!);
        const r = await cli(['maintenance', prefix, 'on']);
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stderr).toContain(
          `refused: without ${prefix} the active set of pool${pools.length > 1 ? 's' : ''} ${pools.join(', ')} ` +
            'would have no healthy prefix; ',
        );
        for (const pool of pools)
          expect(r.stderr).toMatch(new RegExp(`the set of pool ${pool} would become: [^;]+ \\(fail-safe\\)`));
        expect(r.stderr).toContain('Use --force');
      }
      expect(await readFile(maintenanceFile, 'utf8')).toBe(before);
    } finally {
      for (const p of [SA, SB, PUB]) await setPrefixAlive(ns, p, true);
    }
    await waitFor('healthy again', async () => !(await state()).failsafe);
  });

  it("a pool removed from the config: its gateway's prefix drains, reverse lookups still answered", async () => {
    await waitFor('site B on its own', async () => (await sets())[2]![1] === SB);
    await writeFile(configFile, config(SITE_A_POOL)); // the daemon watches its config
    await waitFor('the reload', async () => (await state()).pools.length === 1);
    await waitFor('site B drains', async () => (await state()).draining.includes(SB));
    expect(await readFile(named.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${SB.replace(/[/.]/g, '\\$&')} \\{\\n\\t// .* is draining.*\\n\\tclients \\{ none; \\};`),
    );
    const ptr = await named.reverse(www(SB));
    expect([ptr.status, ptr.answers.join('\n')]).toEqual([
      'NOERROR',
      expect.stringMatching(/CNAME\s+10\.2\.0\.192\.in-addr\.arpa\./),
    ]);
    expect(
      (await daemon.logs()).find((l) => l.msg === 'pool site-b is no longer configured: its set leaves'),
    ).toMatchObject({ draining: [SB] });
  });
});
