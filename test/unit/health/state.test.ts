import { describe, expect, it } from 'vitest';
import type { PrefixVerdict } from '../../../src/health/evaluate.js';
import {
  advanceHealth,
  initialHealth,
  lossRatio,
  wantsFastRecheck,
  type PrefixHealth,
} from '../../../src/health/state.js';

const S = { rise: 2, fall: 3, latency_alpha: 0.5, loss_window: 20 };
const good = (latency = 10): PrefixVerdict => ({
  good: true,
  latency_ms: latency,
  answered: 1,
  counted: 1,
  required: 1,
  failures: [],
});
const bad: PrefixVerdict = {
  good: false,
  latency_ms: null,
  answered: 0,
  counted: 1,
  required: 1,
  failures: [{ probe: 'tcp 192.0.2.10:80', error: 'timeout' }],
};

function run(verdicts: PrefixVerdict[], start: PrefixHealth = initialHealth('p')) {
  let h = start;
  const statuses: string[] = [];
  let t = 0;
  for (const v of verdicts) {
    h = advanceHealth(h, v, S, (t += 1000)).next;
    statuses.push(h.status);
  }
  return { h, statuses };
}

describe('health state machine', () => {
  it('settles unknown prefixes on the first round', () => {
    expect(run([good()]).statuses).toEqual(['up']);
    expect(run([bad]).statuses).toEqual(['down']);
  });

  it('goes down only after `fall` consecutive bad rounds', () => {
    expect(run([good(), bad, bad, good(), bad, bad, bad]).statuses).toEqual([
      'up',
      'up',
      'up',
      'up',
      'up',
      'up',
      'down',
    ]);
  });

  it('comes back only after `rise` consecutive good rounds', () => {
    expect(run([bad, good(), bad, good(), good()]).statuses).toEqual(['down', 'down', 'down', 'down', 'up']);
  });

  it('records the transition with its reason and time', () => {
    const { next: up } = advanceHealth(initialHealth('p'), good(), S, 5000);
    const r1 = advanceHealth(up, bad, S, 6000);
    const r2 = advanceHealth(r1.next, bad, S, 7000);
    const r3 = advanceHealth(r2.next, bad, S, 8000);
    expect([r1.transition, r2.transition]).toEqual([undefined, undefined]);
    expect(r3.transition).toMatchObject({ from: 'up', to: 'down' });
    expect(r3.transition!.reason).toMatch(/3 bad rounds in a row .*tcp 192.0.2.10:80: timeout/);
    expect(r3.next.since).toBe(8000);
  });

  it('smooths latency over good rounds and keeps it through bad ones', () => {
    const { h } = run([good(10), good(30), bad]);
    expect(h.latency_ms).toBe(20);
  });

  it('asks for fast re-checks while failing or recovering only', () => {
    expect(wantsFastRecheck(run([good()]).h)).toBe(false);
    expect(wantsFastRecheck(run([good(), bad]).h)).toBe(true);
    expect(wantsFastRecheck(run([bad]).h)).toBe(false);
    expect(wantsFastRecheck(run([bad, good()]).h)).toBe(true);
    expect(wantsFastRecheck(initialHealth('x'))).toBe(true);
  });
});

describe('loss ratio', () => {
  const verdict = (counted: number, answered: number): PrefixVerdict => ({
    good: answered > 0,
    latency_ms: answered > 0 ? 5 : null,
    answered,
    counted,
    required: 1,
    failures: [],
  });

  it('counts unanswered probes over the last loss_window rounds only', () => {
    let h = initialHealth('p');
    expect(lossRatio(h)).toBeNull();
    const settings = { ...S, loss_window: 4 };
    // 3 targets a round: 1 of 3 lost twice, then two clean rounds: 2 lost of 12
    for (const [c, a] of [
      [3, 2],
      [3, 2],
      [3, 3],
      [3, 3],
    ] as const)
      h = advanceHealth(h, verdict(c, a), settings, 0).next;
    expect(lossRatio(h)).toBeCloseTo(2 / 12);
    // the two lossy rounds slide out of the window
    for (let i = 0; i < 2; i++) h = advanceHealth(h, verdict(3, 3), settings, 0).next;
    expect(h.recent).toHaveLength(4);
    expect(lossRatio(h)).toBe(0);
  });

  it('leaves out rounds in which no target counted (all blamed on the targets)', () => {
    const h = advanceHealth(initialHealth('p'), verdict(0, 0), S, 0).next;
    expect(lossRatio(h)).toBeNull();
  });
});
