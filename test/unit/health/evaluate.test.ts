import { describe, expect, it } from 'vitest';
import { evaluateRound } from '../../../src/health/evaluate.js';
import type { ProbeOutcome } from '../../../src/probe/types.js';
import { rulesInDocs, rulesInSource } from '../../support/doc-rules.js';

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

  it('does not lower the quorum by blaming targets without evidence (issue 9): A reaches only T1, B dead', () => {
    const v = evaluateRound(
      [
        o('A', 't1', true),
        o('A', 't2', false),
        o('A', 't3', false),
        ...['t1', 't2', 't3'].map((t) => o('B', t, false)),
      ],
      ['A', 'B'],
      ['t1', 't2', 't3'],
      3,
    );
    expect(v.prefixes.get('A')).toMatchObject({ good: false, answered: 1, counted: 3, required: 3 });
    expect(v.prefixes.get('B')).toMatchObject({ good: false, answered: 0 });
  });

  it('applies a quorum above 1 when only one prefix is configured (no other prefix can give evidence)', () => {
    const round = (ok2: boolean) =>
      evaluateRound([o('A', 't1', true), o('A', 't2', ok2), o('A', 't3', false)], ['A'], ['t1', 't2', 't3'], 2);
    expect(round(false).targetFaults).toEqual([]);
    expect(round(false).prefixes.get('A')).toMatchObject({ good: false, answered: 1, counted: 3, required: 2 });
    expect(round(true).prefixes.get('A')).toMatchObject({ good: true, answered: 2, required: 2 });
  });

  it('blames a target dead everywhere when another prefix answered another target', () => {
    // A and B both reach t1 only: each has the other's evidence that t2 and t3 are down.
    const v = evaluateRound(
      ['A', 'B'].flatMap((p) => [o(p, 't1', true), o(p, 't2', false), o(p, 't3', false)]),
      ['A', 'B'],
      ['t1', 't2', 't3'],
      3,
    );
    expect(v.targetFaults).toEqual(['t2', 't3']);
    expect(v.prefixes.get('A')).toMatchObject({ good: true, answered: 1, counted: 1, required: 1 });
    expect(v.prefixes.get('B')).toMatchObject({ good: true, counted: 1 });
  });

  it('property counterexample: one prefix, only T3 answers, quorum 1: good, and no target is blamed', () => {
    // evaluate.property.test.ts, shrunk on the old code (seed 20261202)
    const v = evaluateRound(
      [o('P0', 'T0', false), o('P0', 'T1', false), o('P0', 'T2', false), o('P0', 'T3', true)],
      ['P0'],
      ['T0', 'T1', 'T2', 'T3'],
      1,
    );
    expect(v.targetFaults).toEqual([]);
    expect(v.prefixes.get('P0')).toMatchObject({ good: true, answered: 1, counted: 4, required: 1 });
  });

  it('states the blame rule as docs/rules.md does, word for word', () => {
    expect(rulesInDocs('Dead target or dead NAT64?')).toBe(
      rulesInSource('src/health/evaluate.ts', 'Dead target or dead NAT64?'),
    );
  });
});
