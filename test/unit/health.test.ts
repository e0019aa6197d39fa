import { describe, expect, it } from 'vitest';
import { evaluateRound } from '../../src/health/evaluate.js';
import { advanceHealth, initialHealth, wantsFastRecheck, type PrefixHealth } from '../../src/health/state.js';
import type { PrefixVerdict } from '../../src/health/evaluate.js';
import type { ProbeOutcome } from '../../src/probe/types.js';

const S = { rise: 2, fall: 3, latency_alpha: 0.5 };
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

describe('round evaluation', () => {
  const o = (prefix: string, probe: string, ok: boolean, latency = 5): ProbeOutcome => ({
    prefix,
    probe,
    address: '::',
    ok,
    latency_ms: latency,
    ...(ok ? {} : { error: 'timeout' }),
  });

  it('blames a target that fails through every prefix, not the prefixes', () => {
    const v = evaluateRound(
      [o('A', 'http', false), o('A', 'tcp', true), o('B', 'http', false), o('B', 'tcp', true)],
      ['A', 'B'],
      ['http', 'tcp'],
      2,
    );
    expect(v.targetFaults).toEqual(['http']);
    expect(v.prefixes.get('A')).toMatchObject({ good: true, counted: 1, required: 1 });
    expect(v.prefixes.get('B')!.good).toBe(true);
  });

  it('still fails a dead prefix when a target is down everywhere', () => {
    const v = evaluateRound(
      [o('A', 'http', false), o('A', 'tcp', true), o('B', 'http', false), o('B', 'tcp', false)],
      ['A', 'B'],
      ['http', 'tcp'],
      1,
    );
    expect(v.targetFaults).toEqual(['http']);
    expect(v.prefixes.get('A')!.good).toBe(true);
    expect(v.prefixes.get('B')).toMatchObject({ good: false, failures: [{ probe: 'tcp', error: 'timeout' }] });
  });

  it('blames nobody when nothing answered at all (every NAT64 may be dead)', () => {
    const v = evaluateRound([o('A', 'tcp', false), o('B', 'tcp', false)], ['A', 'B'], ['tcp'], 1);
    expect(v.targetFaults).toEqual([]);
    expect([...v.prefixes.values()].map((p) => p.good)).toEqual([false, false]);
  });

  it('needs `quorum` answering targets and reports the median latency', () => {
    const outcomes = [
      o('A', 't1', true, 10),
      o('A', 't2', true, 30),
      o('A', 't3', false),
      o('B', 't1', true, 10),
      o('B', 't2', false),
      o('B', 't3', true, 20),
    ];
    const v = evaluateRound(
      [...outcomes, o('C', 't1', true), o('C', 't2', false), o('C', 't3', false)],
      ['A', 'B', 'C'],
      ['t1', 't2', 't3'],
      2,
    );
    expect(v.targetFaults).toEqual([]);
    expect(v.prefixes.get('A')).toMatchObject({ good: true, latency_ms: 20, answered: 2 });
    expect(v.prefixes.get('B')).toMatchObject({ good: true, latency_ms: 15 });
    expect(v.prefixes.get('C')).toMatchObject({ good: false, answered: 1, required: 2 });
  });
});
