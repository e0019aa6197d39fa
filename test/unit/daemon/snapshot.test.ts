import { describe, expect, it } from 'vitest';
import { buildSnapshot, type SnapshotInput } from '../../../src/daemon/snapshot.js';
import { initialHealth } from '../../../src/health/state.js';
import type { SelectionState } from '../../../src/select/select.js';
import { A, B } from '../../support/prefixes.js';

const GONE = '2001:db8:64:c::/96';
const T0 = Date.parse('2026-12-01T10:00:00Z');

function input(over: Partial<SnapshotInput> = {}): SnapshotInput {
  const prefix = (id: string, name: string, discovered?: string) => ({
    id,
    name,
    group: 'local',
    groupRank: 0,
    ...(discovered ? { discovered } : {}),
  });
  return {
    config: {
      source: '/etc/nat64-health/config.yaml',
      state_file: '/run/nat64-health/state.json',
      prefixes: [prefix(A, 'a'), { ...prefix(B, 'b', '[2001:db8::53]:53'), group: 'isp', groupRank: 1 }],
      select: { loss_penalty: 1000 },
      health: { interval: 5000 },
      pools: [],
    } as unknown as SnapshotInput['config'],
    health: new Map([
      [A, { ...initialHealth(A), status: 'up', latency_ms: 12, since: T0 - 5000, good_streak: 3 }],
      [B, { ...initialHealth(B), status: 'down', bad_streak: 2 }],
    ]),
    selection: { active: [A], draining: { [GONE]: T0 - 1000 }, challengers: {}, failsafe: false },
    pools: new Map(),
    targetFaults: [],
    round: 7,
    roundMs: 3,
    nextRoundAt: T0 + 1000,
    dryRun: false,
    held: new Map([[B, { reason: 'upgrade', since: T0 - 60_000, until: null }]]),
    targets: [{ name: 'local', last_apply: null, serving: [A], verification: null }],
    applies: [],
    discovery: [],
    lastConfigReload: null,
    pid: 4242,
    ...over,
  };
}

describe('buildSnapshot', () => {
  it('says the set, the drains, maintenance and every prefix as the state file holds them', () => {
    const s = buildSnapshot(input(), T0);
    expect(s).toMatchObject({
      version: 1,
      pid: 4242,
      config: '/etc/nat64-health/config.yaml',
      updated_at: '2026-12-01T10:00:00.000Z',
      round: 7,
      round_ms: 3,
      next_round_at: '2026-12-01T10:00:01.000Z',
      interval_ms: 5000,
      failsafe: false,
      active: [A],
      draining: [GONE],
      draining_since: { [GONE]: '2026-12-01T09:59:59.000Z' },
      maintenance_file: '/run/nat64-health/maintenance.json',
      maintenance: { [B]: { reason: 'upgrade', since: '2026-12-01T09:59:00.000Z', until: null } },
      targets: [{ name: 'local', serving: [A] }],
    });
    expect(s.prefixes).toEqual([
      expect.objectContaining({
        prefix: A,
        group: 'local',
        group_rank: 0,
        status: 'up',
        active: true,
        draining: false,
        maintenance: null,
        latency_ms: 12,
        score_ms: 12,
        good_streak: 3,
        since: '2026-12-01T09:59:55.000Z',
        discovered_from: null,
      }),
      expect.objectContaining({
        prefix: B,
        group: 'isp',
        group_rank: 1,
        status: 'down',
        active: false,
        maintenance: expect.objectContaining({ reason: 'upgrade' }) as unknown,
        score_ms: null,
        discovered_from: '[2001:db8::53]:53',
      }),
    ]);
  });

  it('without pools: no pools entries, and no prefix names pools', () => {
    const s = buildSnapshot(input(), T0);
    expect('pools' in s).toBe(false);
    for (const p of s.prefixes) expect('pools' in p, p.prefix).toBe(false);
  });

  it("with pools: each prefix names the pools whose set holds it, the default first; each pool's selection", () => {
    const pool = (name: string) => ({ name, clients: [], groups: [], min_active: 1, max_active: 1, origin: 'c:1' });
    const base = input();
    const s = buildSnapshot(
      input({
        config: { ...base.config, pools: [pool('site-a'), pool('site-b'), pool('idle')] },
        pools: new Map<string, SelectionState>([
          ['site-a', { active: [A], draining: {}, challengers: {}, failsafe: false }],
          ['site-b', { active: [B], draining: { [A]: T0 - 2000 }, challengers: {}, failsafe: false }],
        ]),
      }),
      T0,
    );
    expect(s.prefixes.map((p) => [p.prefix, p.pools])).toEqual([
      [A, ['default', 'site-a']],
      [B, ['site-b']],
    ]);
    // what the daemon restores at start (Daemon.restorePools): each configured pool, in config order
    expect(s.pools).toEqual([
      { name: 'site-a', active: [A], draining_since: {}, failsafe: false },
      { name: 'site-b', active: [B], draining_since: { [A]: '2026-12-01T09:59:58.000Z' }, failsafe: false },
      { name: 'idle', active: [], draining_since: {}, failsafe: false },
    ]);
    // the default pool's selection stays where it was
    expect(s.active).toEqual([A]);
    expect(s.prefixes.map((p) => p.active)).toEqual([true, false]);
  });

  it('has no next round while stopping', () => {
    expect(buildSnapshot(input({ nextRoundAt: null }), T0).next_round_at).toBeNull();
  });

  it('is a function of its input: the same input, the same snapshot', () => {
    expect(JSON.stringify(buildSnapshot(input(), T0))).toBe(JSON.stringify(buildSnapshot(input(), T0)));
  });
});
