import { describe, expect, it } from 'vitest';
import { confirmationsDue, confirmHealth } from '../../../src/health/confirm.js';
import { evaluateRound, type RoundVerdict } from '../../../src/health/evaluate.js';
import { advanceHealth, initialHealth, type PrefixHealth } from '../../../src/health/state.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';
import { rulesInDocs, rulesInSource } from '../../support/doc-rules.js';

const S = { rise: 2, fall: 3, latency_alpha: 0.3, loss_window: 20, confirm_burst: true };
const TARGETS = ['t1', 't2', 't3'];
const o = (prefix: string, probe: string, ok: boolean): ProbeOutcome => ({
  prefix,
  probe,
  address: '::',
  ok,
  latency_ms: ok ? 3 : 100,
  ...(ok ? {} : { error: 'timeout' }),
});
/** one set (or round) through `prefix`: the targets in `answering` answer */
const set = (prefix: string, answering: string[] = []) => TARGETS.map((t) => o(prefix, t, answering.includes(t)));

/** the health after `rounds` rounds of prefix P, each with the targets that answered; and the last verdict */
function after(rounds: string[][]): { health: Map<string, PrefixHealth>; verdict: RoundVerdict } {
  let h = initialHealth('P');
  let verdict: RoundVerdict = { prefixes: new Map(), targetFaults: [] };
  let now = 0;
  for (const answering of rounds) {
    verdict = evaluateRound(set('P', answering), ['P'], TARGETS, 1);
    h = advanceHealth(h, verdict.prefixes.get('P')!, S, (now += 200)).next;
  }
  return { health: new Map([['P', h]]), verdict };
}

describe('confirmation burst: when', () => {
  it('follows a bad round of an up prefix with the bad rounds still missing to fall', () => {
    const { health, verdict } = after([TARGETS, []]);
    expect(confirmationsDue(health, verdict, S)).toEqual([{ prefix: 'P', sets: 2 }]);
    const two = after([TARGETS, [], []]);
    expect(confirmationsDue(two.health, two.verdict, S)).toEqual([{ prefix: 'P', sets: 1 }]);
  });

  it('not after a good round, not for a down or unknown prefix, not when it is off', () => {
    const good = after([TARGETS, ['t2']]);
    expect(confirmationsDue(good.health, good.verdict, S)).toEqual([]);
    const down = after([TARGETS, [], [], []]);
    expect(down.health.get('P')!.status).toBe('down');
    expect(confirmationsDue(down.health, down.verdict, S)).toEqual([]);
    const first = after([[]]); // the first round decides an unknown prefix: down, nothing to confirm
    expect(confirmationsDue(first.health, first.verdict, S)).toEqual([]);
    const bad = after([TARGETS, []]);
    expect(confirmationsDue(bad.health, bad.verdict, { ...S, confirm_burst: false })).toEqual([]);
  });

  it('fall 1: the bad round itself takes the prefix down, no burst', () => {
    const one = { ...S, fall: 1 };
    const verdict = (answering: string[]) => evaluateRound(set('P', answering), ['P'], TARGETS, 1);
    let h = advanceHealth(initialHealth('P'), verdict(TARGETS).prefixes.get('P')!, one, 200).next;
    h = advanceHealth(h, verdict([]).prefixes.get('P')!, one, 400).next;
    expect(h.status).toBe('down');
    expect(confirmationsDue(new Map([['P', h]]), verdict([]), one)).toEqual([]);
  });
});

describe('confirmation burst: what it counts for', () => {
  const failing = after([TARGETS, []]).health.get('P')!;

  it('a burst without a single answer: each set is a bad round, the prefix is down, the reason says so', () => {
    const r = confirmHealth(failing, [set('P'), set('P')], S, 5000);
    expect(r.next).toMatchObject({ status: 'down', bad_streak: 3, good_streak: 0, since: 5000 });
    expect(r.transition).toMatchObject({ id: 'P', from: 'up', to: 'down' });
    expect(r.transition!.reason).toContain('3 bad rounds in a row, 2 of them a confirmation burst');
    expect(r.transition!.reason).toContain('t1: timeout');
    // the loss window and the last round stay the rounds'
    expect(r.next.recent).toEqual(failing.recent);
    expect(r.next.last_round).toEqual(failing.last_round);
  });

  it('one answer anywhere in the burst: it counts for nothing (neither good nor bad)', () => {
    expect(confirmHealth(failing, [set('P'), set('P', ['t3'])], S, 5000)).toEqual({ next: failing });
    expect(confirmHealth(failing, [set('P', TARGETS), set('P', TARGETS)], S, 5000)).toEqual({ next: failing });
  });

  it('an empty burst or a set without probes counts for nothing', () => {
    expect(confirmHealth(failing, [], S, 5000)).toEqual({ next: failing });
    expect(confirmHealth(failing, [set('P'), []], S, 5000)).toEqual({ next: failing });
  });

  it('fewer sets than missing: the streak grows, the prefix stays up', () => {
    const r = confirmHealth(failing, [set('P')], S, 5000);
    expect(r.next).toMatchObject({ status: 'up', bad_streak: 2, since: failing.since });
    expect(r.transition).toBeUndefined();
  });

  it('never acts on a prefix that is not failing', () => {
    const up = after([TARGETS]).health.get('P')!;
    expect(confirmHealth(up, [set('P'), set('P')], S, 5000)).toEqual({ next: up });
    const down = after([TARGETS, [], [], []]).health.get('P')!;
    expect(confirmHealth(down, [set('P')], S, 5000)).toEqual({ next: down });
  });

  it('docs/rules.md states the rule word for word', () => {
    expect(rulesInDocs('With `confirm_burst`')).toBe(rulesInSource('src/health/confirm.ts', 'With `confirm_burst`'));
  });
});
