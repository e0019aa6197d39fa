/**
 * End-to-end: client pools (issue 21) in the real NAT64 lab. One resolver serves two sites: gw1 is
 * site A's gateway, gw2 site B's, gw3 a public one. Site A's and site B's clients are addresses of
 * their own in the client namespace (named tells them apart by the query's source); the lab's own
 * client address is in no pool, so it gets what `select` gives. Site A's gateway dies and comes
 * back: site A's clients move to site B's prefix within the failover bound and back after `rise`
 * rounds, while site B's clients (and the default pool's) see the same answer all along.
 *
 * Same lab, lock and skip rules as lab.test.ts (NH_REQUIRE_E2E=1 turns the skip into a failure).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { realPartsRequired } from '../support/real-parts.js';
import {
  AGGRESSIVE,
  CLIENT6,
  ClientPoller,
  DNS64_FILE,
  GW,
  GWS,
  LabDaemon,
  SVC4,
  WWW,
  acquireLabLock,
  addClientAddress,
  clientAAAA,
  clientHttp,
  clientReverse,
  expectedAAAA,
  fail,
  heal,
  labDown,
  labUnavailable,
  labUp,
  readState,
  reconfigCount,
  settle,
  sleep,
  synth,
  waitFor,
  writeConfig,
  type PolledAnswer,
  type Profile,
} from './lab-fixture.js';

const unavailable = labUnavailable();
if (unavailable && realPartsRequired())
  throw new Error(`e2e pools tests required (NH_REQUIRE_E2E=1) but cannot run: ${unavailable}`);
if (unavailable) console.warn(`skipping the e2e pools tests: ${unavailable}`);

const SITE_A = GW[1];
const SITE_B = GW[2];
const PUBLIC = GW[3];
/** one client of each site (inside its pool's range) and one in no pool */
const CLIENT = { a: '2001:db8:100::a:10', b: '2001:db8:100::b:10', other: CLIENT6 };

/**
 * lab.test.ts's e2e profile with groups and pools: one prefix per set, each pool's own site first.
 * The default pool prefers the public gateway, so all three clients get different prefixes. A long
 * drain, so the dead prefix is still draining when the test looks at it (its end is lab scenario 5).
 */
const POOLS: Profile = {
  ...AGGRESSIVE,
  quorum: 3,
  min_active: 1,
  max_active: 1,
  drain: '1h',
  extraSelect: '  groups: [public, site-a, site-b]\n',
  groups: { 1: 'site-a', 2: 'site-b', 3: 'public' },
  pools: [
    { name: 'site-a', clients: ['2001:db8:100::a:0/112'], groups: ['site-a', 'site-b', 'public'] },
    { name: 'site-b', clients: ['2001:db8:100::b:0/112'], groups: ['site-b', 'site-a', 'public'] },
  ],
};
const ms = (d: string) => (d.endsWith('ms') ? Number(d.slice(0, -2)) : Number(d.slice(0, -1)) * 1000);
const INTERVAL = ms(POOLS.interval);
const FAST = ms(POOLS.fast_interval);
const TIMEOUT = ms(POOLS.timeout);
/** detection bound implied by the settings (as lab.test.ts): interval + fall x (fast_interval + timeout) */
const DETECT = INTERVAL + POOLS.fall * (FAST + TIMEOUT);
/**
 * The failover bound: the detection bound, plus the failover's apply as the daemon measured it (its
 * `ms`: checkconf and rndc, slow on a loaded machine, and no part of detection), plus 1 s for the
 * rest: the round's own work around its probes, and the answer reaching the client's next poll.
 */
const failoverBound = (applyMs: number) => DETECT + applyMs + 1000;
/** generous wait for anything the daemon should do within one detection */
const WAIT = DETECT + 5000;
/** how long to wait for another lab user (a 10-minute soak, say) before giving up */
const LOCK_WAIT_MS = 15 * 60_000;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const same = (a: string[] | undefined, b: string[]) => JSON.stringify(a) === JSON.stringify(b);
/** What each client should get, as a function of whether site A's gateway is up. */
const expected = (siteAUp: boolean) => ({
  a: expectedAAAA([siteAUp ? SITE_A : SITE_B]),
  b: expectedAAAA([SITE_B]),
  other: expectedAAAA([PUBLIC]),
});
/** The distinct answers in the order they came, errors included: [x, x, y, x] -> [x, y, x]. */
const runs = (answers: PolledAnswer[]) =>
  answers
    .map((a) => (a.addrs ? a.addrs.join(' ') : `error: ${a.error}`))
    .filter((a, i, all) => i === 0 || a !== all[i - 1]);
/** The longest time between two answers (the poller kept asking throughout if small). */
const longestGap = (answers: PolledAnswer[]) =>
  answers.reduce((gap, a, i) => (i === 0 ? 0 : Math.max(gap, a.t - answers[i - 1]!.t)), 0);

describe.skipIf(!!unavailable)('e2e: client pools in the NAT64 lab', () => {
  const daemon = new LabDaemon();
  let poller: ClientPoller | undefined;
  let unlock: (() => void) | undefined;

  /** Every client gets its pool's prefix (asked with dig from its own address). */
  const poolsServe = (siteAUp: boolean) =>
    waitFor(
      `each client on its pool's prefix (site A ${siteAUp ? 'up' : 'down'})`,
      async () => {
        const want = expected(siteAUp);
        const [a, b, other] = await Promise.all([
          clientAAAA(WWW, CLIENT.a),
          clientAAAA(WWW, CLIENT.b),
          clientAAAA(WWW, CLIENT.other),
        ]);
        return same(a, want.a) && same(b, want.b) && same(other, want.other);
      },
      WAIT,
      100,
    );

  beforeAll(async () => {
    unlock = await acquireLabLock(LOCK_WAIT_MS); // a concurrent run (lab.test.ts, bench:failover) finishes first
    await labDown(); // leftovers of an earlier, killed run
    await labUp();
    await addClientAddress(CLIENT.a);
    await addClientAddress(CLIENT.b);
    await writeConfig(POOLS);
    await daemon.start('pools');
    await settle(1); // every prefix up, the default pool's one prefix served
    await poolsServe(true);
  }, LOCK_WAIT_MS + 60_000);

  afterAll(async () => {
    await poller?.stop();
    await daemon.stop();
    await labDown();
    unlock?.();
  }, 60_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      console.error(
        `--- daemon log (last lines; full log in test-artifacts/e2e-pools-daemon.log) ---\n${daemon.tail()}`,
      );
    });
    expect(daemon.running, 'the daemon is running').toBe(true);
  });

  it("1. all healthy: each pool's clients get exactly their pool's prefix, and its answer connects", async () => {
    const s = await readState();
    expect(s.prefixes.map((p) => p.status)).toEqual(['up', 'up', 'up']);
    expect(s.failsafe).toBe(false);
    expect(s.active, 'the default pool: select.groups puts public first').toEqual([PUBLIC]);
    expect(s.pools).toEqual([
      { name: 'site-a', active: [SITE_A], draining_since: {}, failsafe: false },
      { name: 'site-b', active: [SITE_B], draining_since: {}, failsafe: false },
    ]);
    const want = expected(true);
    for (const [who, from] of Object.entries(CLIENT) as Array<[keyof typeof CLIENT, string]>) {
      expect(await clientAAAA(WWW, from), `${who}'s AAAA for www`).toEqual(want[who]);
      const pool = who === 'a' ? SITE_A : who === 'b' ? SITE_B : PUBLIC;
      expect(await clientAAAA('svc.example.test', from), `${who}'s AAAA for svc`).toEqual(expectedAAAA([pool], SVC4));
      // the answer connects, from the client that got it, through its gateway
      for (const addr of want[who])
        expect(await clientHttp(addr, 3000, from), `HTTP from ${from} via ${addr}`).toBe('HTTP/1.1 200 OK');
    }
    // a query that names no source comes from the lab's client address: the default pool
    expect(await clientAAAA()).toEqual(want.other);
    // every prefix is rendered once, for its pool's clients; none drains
    const conf = await readFile(DNS64_FILE, 'utf8');
    for (const n of GWS) expect(conf.split(`dns64 ${GW[n]} {`), `${GW[n]} once in dns64.conf`).toHaveLength(2);
    expect(conf).not.toContain('clients { none; }');
  });

  it("2. site A's gateway dies, heals: A's clients go to B's prefix and back; B's clients see no change", async () => {
    const want = { up: expected(true), down: expected(false) };
    poller = new ClientPoller([CLIENT.a, CLIENT.b, CLIENT.other], WWW, 50);
    await waitFor(
      'the poller to hear from every client',
      () => Object.values(CLIENT).every((c) => poller!.of(c).length > 0),
      5000,
      20,
    );
    const tStart = Date.now();
    let mark = daemon.mark();
    let reconfigs = await reconfigCount();

    // ---- kill site A's gateway; detection starts once it is dead
    await fail(1);
    const tKill = Date.now();
    const moved = await waitFor(
      "site A's client on site B's prefix",
      () => poller!.of(CLIENT.a, tKill).find((x) => same(x.addrs, want.down.a)),
      WAIT,
      20,
    );
    const failover = moved.t - tKill;
    const applied = await daemon.waitLog('the failover apply', mark, 'applied to local', 3000);
    const bound = failoverBound(Number(applied.ms));
    expect(failover, `failover within the bound (${bound} ms)`).toBeLessThanOrEqual(bound);
    // a fresh answer connects through site B's gateway; site A's old address leads nowhere now
    expect(await clientAAAA(WWW, CLIENT.a)).toEqual(want.down.a);
    expect(await clientHttp(synth(SITE_B), 3000, CLIENT.a)).toBe('HTTP/1.1 200 OK');
    expect(await clientHttp(synth(SITE_A), 1000, CLIENT.a)).toBe('timeout');
    expect(daemon.since(mark, /^prefix .* is down$/).map((l) => l.msg)).toEqual([`prefix ${SITE_A} is down`]);

    // site A's prefix left every pool: it drains, and reverse lookups of its addresses still answer
    const s = await waitFor(
      "site A's pool on site B's prefix in the state file",
      async () => {
        const st = await readState();
        return same(st.pools?.[0]?.active, [SITE_B]) ? st : false;
      },
      3000,
      50,
    );
    expect(Object.keys(s.pools![0]!.draining_since)).toEqual([SITE_A]);
    expect(s.pools![1]).toMatchObject({ name: 'site-b', active: [SITE_B], failsafe: false });
    expect(s.active).toEqual([PUBLIC]);
    const conf = await readFile(DNS64_FILE, 'utf8');
    expect(conf).toMatch(new RegExp(`dns64 ${escape(SITE_A)} \\{[^}]*clients \\{ none; \\};`));
    expect(await clientReverse(synth(SITE_A), CLIENT.a)).toEqual({
      status: 'NOERROR',
      cname: ['10.2.0.192.in-addr.arpa.'],
      ptr: ['www.example.test.'],
    });
    await sleep(2 * INTERVAL + 500); // later rounds must not touch BIND again
    expect(daemon.applies(mark), 'one apply for the failover').toHaveLength(1);
    expect((await reconfigCount()) - reconfigs, 'rndc reconfig commands seen by named').toBe(1);

    // ---- heal it: site A's clients come back after `rise` good rounds
    mark = daemon.mark();
    reconfigs = await reconfigCount();
    // the state file is written in the round site A's pool takes its prefix back (its status changes
    // then): watched from before the heal, the first snapshot with it back shows that round's streak
    const backInState = waitFor(
      "site A's pool back on its prefix in the state file",
      async () => {
        const st = await readState();
        return same(st.pools?.[0]?.active, [SITE_A]) ? st : false;
      },
      WAIT + 5000,
      25,
    );
    const tHeal = Date.now();
    await heal(1);
    const back = await waitFor(
      "site A's client back on site A's prefix",
      () => poller!.of(CLIENT.a, tHeal).find((x) => same(x.addrs, want.up.a)),
      WAIT,
      20,
    );
    const recovery = back.t - tHeal;
    const up = await daemon.waitLog(`${SITE_A} up`, mark, `prefix ${SITE_A} is up`, 3000);
    expect(up.reason).toMatch(new RegExp(`^${POOLS.rise} good rounds in a row`));
    const streak = (await backInState).prefixes.find((p) => p.prefix === SITE_A)?.good_streak;
    expect(streak, "good rounds of site A's prefix when its pool took it back").toBe(POOLS.rise);
    expect(recovery, 'rise good rounds take at least (rise - 1) x fast_interval').toBeGreaterThanOrEqual(
      (POOLS.rise - 1) * FAST - 100,
    );
    expect(await clientHttp(synth(SITE_A), 3000, CLIENT.a)).toBe('HTTP/1.1 200 OK');
    await sleep(2 * INTERVAL + 500);
    expect(daemon.applies(mark), 'one apply for the return').toHaveLength(1);
    expect((await reconfigCount()) - reconfigs).toBe(1);
    expect((await readFile(DNS64_FILE, 'utf8')).includes('clients { none; }'), 'nothing drains').toBe(false);
    expect((await readState()).pools!.map((p) => p.active)).toEqual([[SITE_A], [SITE_B]]);
    await poolsServe(true);

    // ---- the whole episode as the clients saw it, every 50 ms
    await poller.stop();
    const seen = (c: string) => poller!.of(c, tStart);
    for (const c of Object.values(CLIENT)) expect(longestGap(seen(c)), `${c} polled throughout`).toBeLessThan(1000);
    expect(runs(seen(CLIENT.a)), "site A's client: its prefix, site B's, its own again").toEqual(
      [want.up.a, want.down.a, want.up.a].map((x) => x.join(' ')),
    );
    expect(runs(seen(CLIENT.b)), "site B's client: never a change").toEqual([want.up.b.join(' ')]);
    expect(runs(seen(CLIENT.other)), 'the default pool: never a change').toEqual([want.up.other.join(' ')]);
    console.info(
      `pools: failover ${failover} ms (bound ${bound} ms), recovery ${recovery} ms; ` +
        `answers polled per client: ${Object.values(CLIENT)
          .map((c) => seen(c).length)
          .join(', ')}`,
    );
  });
});
