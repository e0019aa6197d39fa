/**
 * Client pools through the daemon (issue 21), against a real named: two sites, each with its own
 * NAT64 gateway, and the clients of neither site. Each client asks named for ipv4only.arpa AAAA
 * from its own source address (dig -b) and gets its pool's prefix; when site A's gateway dies,
 * site A's clients (and the others, who preferred it) move to site B's prefix while site B's
 * clients see no change.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPrefixAlive } from '../../support/daemon-fixture.js';
import { CLIENT, SA, SB, startPoolsWorld, type PoolsWorld } from '../../support/pools-world.js';

let w: PoolsWorld | undefined;

beforeAll(async () => {
  w = await startPoolsWorld('pools');
}, 60_000);

afterAll(async () => {
  await w?.stop();
});

describe('client pools against a real named', () => {
  it("each client gets its own pool's gateway; site A's clients move to site B's when site A's dies", async () => {
    const { served, waitFor } = w!;
    await waitFor('each pool on its own gateway', async () => {
      const [a, b, other] = await Promise.all([served(CLIENT.a), served(CLIENT.b), served(CLIENT.other)]);
      return a.join() === SA && b.join() === SB && other.join() === SA;
    });
    await setPrefixAlive(w!.ns, SA, false);
    await waitFor('site A and the others on site B', async () => {
      const [a, other] = await Promise.all([served(CLIENT.a), served(CLIENT.other)]);
      return a.join() === SB && other.join() === SB;
    });
    expect(await served(CLIENT.b)).toEqual([SB]);
    // site A's prefix drains: no client gets it, reverse lookups of its addresses still work
    const conf = await readFile(w!.named.includeFile, 'utf8');
    expect(conf).toMatch(
      new RegExp(`dns64 ${SA.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\{[^}]*clients \\{ none; \\};`),
    );
    const state = JSON.parse(await readFile(w!.stateFile, 'utf8')) as {
      pools: Array<{ name: string; active: string[] }>;
    };
    expect(state.pools.map((p) => [p.name, p.active])).toEqual([
      ['site-a', [SB]],
      ['site-b', [SB]],
    ]);
    // the apply's log line: each pool's set, and site A's prefix draining (it left every pool)
    const applied = (await readFile(w!.logFile, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"applied to local'))
      .map((l) => JSON.parse(l) as { draining: string[]; pools: Record<string, string[]> })
      .at(-1);
    expect(applied).toMatchObject({ draining: [SA], pools: { 'site-a': [SB], 'site-b': [SB] } });
  });
});
