// decide(): counterexamples of the property tests, and runs over many rounds with lossy gateways
// (probe outcomes drawn from a seeded generator, the clock advanced by nextDelay(), so each run is
// the same and a failure can be replayed).
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../../src/config/load.js';
import { carryOverHealth, decide, decideConfirmation, nextDelay } from '../../../src/core/step.js';
import type { PrefixHealth } from '../../../src/health/state.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';
import { EMPTY_SELECTION, type SelectionState } from '../../../src/select/select.js';
import { A, B, C } from '../../support/prefixes.js';

const L = '2001:db8:64::/96';
const X = '2001:db8:64:3::/96';
const Y = '2001:db8:64:5::/96';

describe('decide', () => {
  it('property counterexample: a local prefix that comes up after `rise` joins the set of ungrouped ones', () => {
    // step.property.test.ts, shrunk on the old selection (seed 20261204)
    const config = parseConfig(
      `prefixes: [{ prefix: "${L}", group: local }, "${X}", "${Y}"]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { rise: 3, fall: 1 }
select: { min_active: 2, max_active: 2, drain: 60, groups: [local] }
`,
      'c.yaml',
      '/tmp',
    );
    let health: ReadonlyMap<string, PrefixHealth> = new Map();
    let selection: SelectionState = EMPTY_SELECTION;
    const round = (alive: string[], now: number) => {
      const outcomes = [L, X, Y].map((prefix) => ({
        prefix,
        probe: 'tcp 192.0.2.10:80',
        address: '::',
        ok: alive.includes(prefix),
        latency_ms: 2,
      }));
      const d = decide(config, health, selection, outcomes, now);
      ({ health, selection } = d);
      return d;
    };
    expect(round([X, Y], 1000).selection.active).toEqual([X, Y]);
    expect(round([L, X, Y], 2000).selection.active).toEqual([X, Y]); // L recovering: 1 of 3 good rounds
    expect(round([L, X, Y], 3000).selection.active).toEqual([X, Y]);
    const d = round([L, X, Y], 4000);
    expect(d.transitions).toEqual([expect.objectContaining({ id: L, to: 'up' })]);
    expect(d.selection.active).toEqual([L, X]);
    expect(d.rendered.match(/^dns64 \S+/gm)).toEqual([`dns64 ${L}`, `dns64 ${X}`, `dns64 ${Y}`]); // Y drains
  });
});

/** mulberry32: a small seeded generator, so every run draws the same outcomes */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function config(extra = ''): Config {
  const text = `
prefixes: [ "${A}", "${B}", "${C}" ]
probes:
  - { type: tcp, address: 192.0.2.10, port: 80 }
  - { type: tcp, address: 192.0.2.11, port: 80 }
  - { type: tcp, address: 198.51.100.10, port: 7 }
select: { min_active: 2, max_active: 2, drain: 0s }
${extra}`;
  return parseConfig(text, '/etc/nat64-health/config.yaml', '/etc/nat64-health');
}

interface Gateway {
  latency: number;
  loss: number;
  dead?: boolean;
}

/** Runs decide() for `minutes` of simulated time; returns every active set and when it began. */
function simulate(cfg: Config, gateways: Record<string, Gateway>, minutes: number, seed = 1) {
  const random = seeded(seed);
  let health: Map<string, PrefixHealth> = carryOverHealth(cfg, new Map());
  let selection: SelectionState = EMPTY_SELECTION;
  const sets: Array<{ at: number; active: string[] }> = [];
  let downs = 0;
  let bursts = 0;
  const probe = (prefixes: Config['prefixes']): ProbeOutcome[] =>
    prefixes.flatMap((p) =>
      cfg.probes.map((probe) => {
        const g = gateways[p.id]!;
        const ok = !g.dead && random() >= g.loss;
        return {
          prefix: p.id,
          probe: probe.id,
          address: '2001:db8::1',
          ok,
          latency_ms: ok ? g.latency * (0.9 + 0.2 * random()) : cfg.health.timeout,
          ...(ok ? {} : { error: 'timeout' }),
        };
      }),
    );
  for (let now = 0; now < minutes * 60_000; now += nextDelay(cfg, health, random)) {
    let d = decide(cfg, health, selection, probe(cfg.prefixes), now);
    if (d.confirm.length > 0) {
      bursts++;
      const most = Math.max(...d.confirm.map((c) => c.sets));
      const burst = Array.from({ length: most }, (_, i) =>
        probe(cfg.prefixes.filter((p) => d.confirm.some((c) => c.prefix === p.id && c.sets > i))),
      );
      const round = d;
      d = decideConfirmation(cfg, round, burst, now + cfg.health.timeout);
      d = { ...d, transitions: [...round.transitions, ...d.transitions] };
    }
    downs += d.transitions.filter((t) => t.from === 'up' && t.to === 'down').length;
    health = d.health;
    selection = d.selection;
    if (sets.at(-1)?.active.join() !== selection.active.join()) sets.push({ at: now, active: selection.active });
  }
  return { sets, health, downs, bursts };
}

describe('selection under packet loss', () => {
  it('a gateway with steady 30% loss leaves for a clean standby once, within switch_after, and stays out', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { sets } = simulate(
        config(),
        { [A]: { latency: 5, loss: 0.3 }, [B]: { latency: 8, loss: 0 }, [C]: { latency: 9, loss: 0 } },
        10,
        seed,
      );
      // at most 2 set changes in 10 minutes: the initial set, then one swap
      expect(sets.length, JSON.stringify(sets)).toBeLessThanOrEqual(2);
      expect(sets.at(-1)!.active).toEqual([B, C]);
      // switch_after (2 min) plus a few rounds of 5 s
      expect(sets.at(-1)!.at).toBeLessThanOrEqual(120_000 + 4 * 5_000);
    }
  });

  it('never takes a lossy gateway in and out of the set, also when its rounds are often bad (quorum 3)', () => {
    const cfg = config('health: { quorum: 3 }');
    for (const seed of [1, 2, 3]) {
      const { sets } = simulate(
        cfg,
        { [A]: { latency: 5, loss: 0.3 }, [B]: { latency: 8, loss: 0 }, [C]: { latency: 9, loss: 0 } },
        10,
        seed,
      );
      expect(sets.length, JSON.stringify(sets)).toBeLessThanOrEqual(2);
      expect(sets.at(-1)!.active).toEqual([B, C]);
    }
  });

  it('keeps a lossy gateway when it is the only healthy one: loss alone never removes it', () => {
    const { sets, health } = simulate(
      config(),
      {
        [A]: { latency: 5, loss: 0.3 },
        [B]: { latency: 8, loss: 0, dead: true },
        [C]: { latency: 9, loss: 0, dead: true },
      },
      10,
    );
    expect(health.get(A)!.status).toBe('up');
    expect(
      sets.every((s) => s.active.includes(A)),
      JSON.stringify(sets),
    ).toBe(true);
  });
});

describe('confirmation burst in the fast profile', () => {
  const fast = () =>
    config('health: { interval: 200ms, fast_interval: 100ms, timeout: 100ms, rise: 2, fall: 3, confirm_burst: true }');

  it('5% loss on every probe of every gateway, 10 simulated minutes, 5 seeds: bursts, and no prefix goes down', () => {
    let allBursts = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const { downs, bursts, health } = simulate(
        fast(),
        { [A]: { latency: 2, loss: 0.05 }, [B]: { latency: 3, loss: 0.05 }, [C]: { latency: 4, loss: 0.05 } },
        10,
        seed,
      );
      expect(downs).toBe(0);
      expect([...health.values()].every((h) => h.status === 'up')).toBe(true);
      allBursts += bursts;
    }
    // a bad round (all 3 probes lost, 1 in 8,000) happens about once in a run's 9,000 prefix-rounds
    expect(allBursts).toBeGreaterThan(0);
  });

  it('a dead gateway beside lossy ones goes down through the burst of its first bad round', () => {
    const cfg = fast();
    const { health, sets } = simulate(
      cfg,
      { [A]: { latency: 2, loss: 0.05, dead: true }, [B]: { latency: 3, loss: 0.05 }, [C]: { latency: 4, loss: 0.05 } },
      0.01,
    );
    expect(health.get(A)).toMatchObject({ status: 'down' });
    expect(sets.every((s) => !s.active.includes(A))).toBe(true);
  });
});

describe('decideConfirmation', () => {
  const [P1, P2, P3, P4] = ['2001:db8:64:1::/96', '2001:db8:64:2::/96', '2001:db8:64:3::/96', '2001:db8:64:4::/96'];
  const cfg = parseConfig(
    `prefixes: [ "${P1}", "${P2}", "${P3}", "${P4}" ]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
health: { rise: 1, fall: 3, confirm_burst: true }
select: { min_active: 2, max_active: 2, drain: 0s, switch_after: 10s }
`,
    'c.yaml',
    '/tmp',
  );
  /** one probe per prefix: its latency, or null for a lost probe */
  const outcomes = (latency: Record<string, number | null>): ProbeOutcome[] =>
    Object.entries(latency).map(([prefix, ms]) => ({
      prefix,
      probe: cfg.probes[0]!.id,
      address: '2001:db8::1',
      ok: ms !== null,
      latency_ms: ms ?? cfg.health.timeout,
      ...(ms === null ? { error: 'timeout' } : {}),
    }));

  it('makes no swap of its own: at most one swap in a round and its burst together (selection rule 3)', () => {
    // P1 and P2 are active; P3 and P4 become clearly better in the same round, so both have
    // waited out switch_after in the same later round. The round swaps one of them in; that round
    // also has a bad round of P2, so a burst follows. It must not swap the second one in: that is
    // the next round's swap.
    let health: ReadonlyMap<string, PrefixHealth> = carryOverHealth(cfg, new Map());
    let selection: SelectionState = EMPTY_SELECTION;
    const step = (latency: Record<string, number | null>, now: number) => {
      const d = decide(cfg, health, selection, outcomes(latency), now);
      [health, selection] = [d.health, d.selection];
      return d;
    };
    step({ [P1]: 100, [P2]: 100, [P3]: 300, [P4]: 300 }, 0);
    expect(selection.active).toEqual([P1, P2]);
    const fast = { [P1]: 100, [P2]: 100, [P3]: 10, [P4]: 10 };
    let now = 0;
    while (!(P3 in selection.challengers) && now < 60_000) step(fast, (now += 1_000));
    const since = selection.challengers[P3]!;
    expect(selection.challengers[P4]).toBe(since);
    while (now + 1_000 < since + cfg.select.switch_after) step(fast, (now += 1_000));
    expect(selection.active).toEqual([P1, P2]);

    const round = step({ ...fast, [P2]: null }, (now += 1_000));
    expect(round.confirm.map((c) => c.prefix)).toEqual([P2]);
    expect(round.changes.filter((c) => c.change === 'activated')).toHaveLength(1);
    // the burst: P2 answers, so it counts for nothing
    const burst = decideConfirmation(cfg, round, [outcomes({ [P2]: 100 })], now + 100);
    expect(burst.changes).toEqual([]);
    expect(burst.selection.active).toEqual(round.selection.active);
    // the next round makes the second swap
    [health, selection] = [burst.health, burst.selection];
    const next = step(fast, (now += 1_000));
    expect(next.changes.filter((c) => c.change === 'activated')).toHaveLength(1);
    expect(selection.active).toEqual([P3, P4]);
  });
});
